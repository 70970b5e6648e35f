import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { BUSY_TIMEOUT_MS, openDatabase } from "../src/db/database.ts";
import { addColumnIfMissing, MIGRATIONS, migrate } from "../src/db/migrations.ts";
import { listTrackings, upsertTracking } from "../src/db/trackings.ts";
import { tempDir } from "./helpers/temp.ts";
import { startTestServer } from "./helpers/test-server.ts";

/** A database exactly as the original service created it (SQLAlchemy models), with rows. */
function makeOriginalDatabase(path: string) {
  const db = new Database(path, { create: true });
  db.run(`CREATE TABLE tracking (
    id INTEGER,
    version_control VARCHAR(80),
    scm_repo VARCHAR(80),
    scm_branch VARCHAR(80),
    scm_commit VARCHAR(80),
    repo VARCHAR(80) NOT NULL,
    branch VARCHAR(80) NOT NULL,
    enabled BOOLEAN,
    PRIMARY KEY (repo, branch)
  )`);
  db.run(`CREATE TABLE issue (
    issue VARCHAR(80) NOT NULL,
    repo VARCHAR(80),
    branch VARCHAR(80),
    PRIMARY KEY (issue)
  )`);
  db.run(`INSERT INTO tracking VALUES
    (NULL, 'github', 'BJMX/testPatch01', 'test', 'abcdef0123456789abcdef0123456789abcdef01', 'testPatchTrack/testPatch1', 'master', 1),
    (NULL, 'github', 'BJMX/testPatch01', 'dev', NULL, 'testPatchTrack/testPatch1', 'openEuler-22.03-LTS', 0),
    (NULL, 'git', 'https://git.example.org/zlib.git', 'main', '', 'src-openeuler/zlib', 'master', 1)`);
  db.run(`INSERT INTO issue VALUES ('I1X2Y3', 'testPatchTrack/testPatch1', 'master')`);
  db.close();
}

describe("a database written by the original service", () => {
  const dir = tempDir();
  const path = join(dir, "db.sqlite");
  makeOriginalDatabase(path);
  const server = startTestServer({}, { settings: { databasePath: path } });

  test("opens, migrates and serves its rows unchanged", async () => {
    const trackings = ((await (await server.call("/tracking")).json()) as any).data;
    expect(trackings).toEqual([
      {
        version_control: "github",
        scm_repo: "BJMX/testPatch01",
        scm_branch: "test",
        scm_commit: "abcdef0123456789abcdef0123456789abcdef01",
        repo: "testPatchTrack/testPatch1",
        branch: "master",
        enabled: true,
      },
      {
        version_control: "github",
        scm_repo: "BJMX/testPatch01",
        scm_branch: "dev",
        scm_commit: null,
        repo: "testPatchTrack/testPatch1",
        branch: "openEuler-22.03-LTS",
        enabled: false,
      },
      {
        version_control: "git",
        scm_repo: "https://git.example.org/zlib.git",
        scm_branch: "main",
        scm_commit: null,
        repo: "src-openeuler/zlib",
        branch: "master",
        enabled: true,
      },
    ]);
    const issues = ((await (await server.call("/issue")).json()) as any).data;
    expect(issues).toEqual([
      { issue: "I1X2Y3", repo: "testPatchTrack/testPatch1", branch: "master" },
    ]);
  });

  test("ids are backfilled, unique, and continue for new rows", async () => {
    await server.call("/tracking", {
      method: "POST",
      auth: true,
      json: {
        version_control: "github",
        scm_repo: "a/b",
        scm_branch: "m",
        repo: "c/d",
        branch: "e",
        enabled: true,
      },
    });
    const ids = server.db.query<{ id: number }, []>("SELECT id FROM tracking ORDER BY id").all();
    expect(ids.map((row) => row.id)).toEqual([1, 2, 3, 4]);
    expect(
      server.db.query<{ user_version: number }, []>("PRAGMA user_version").get()?.user_version,
    ).toBe(MIGRATIONS.at(-1)?.version);
  });

  test("the old columns keep their data after new columns were added", () => {
    const columns = server.db
      .query<{ name: string }, []>("PRAGMA table_info(issue)")
      .all()
      .map((c) => c.name);
    expect(columns).toEqual(
      expect.arrayContaining(["issue", "repo", "branch", "created_at", "pull"]),
    );
  });
});

describe("database settings", () => {
  test("WAL journal and a busy timeout", () => {
    const db = openDatabase(join(tempDir(), "nested", "db.sqlite"));
    expect(db.query<{ journal_mode: string }, []>("PRAGMA journal_mode").get()?.journal_mode).toBe(
      "wal",
    );
    expect(db.query<{ timeout: number }, []>("PRAGMA busy_timeout").get()?.timeout).toBe(
      BUSY_TIMEOUT_MS,
    );
    db.close();
  });

  test("migrations are idempotent and never recreate tables", () => {
    const path = join(tempDir(), "db.sqlite");
    const db = openDatabase(path);
    upsertTracking(db, {
      version_control: "github",
      scm_repo: "a/b",
      scm_branch: "main",
      repo: "x/y",
      branch: "master",
      enabled: true,
    });
    db.run("PRAGMA user_version = 0");
    migrate(db);
    expect(listTrackings(db)).toHaveLength(1);
    addColumnIfMissing(db, "issue", "pull", "TEXT");
    db.close();
  });

  test("two connections writing at once do not fail with 'database is locked'", async () => {
    const path = join(tempDir(), "db.sqlite");
    const first = openDatabase(path);
    const second = openDatabase(path);
    const write = (db: Database, prefix: string) =>
      new Promise<void>((resolve) => {
        for (let i = 0; i < 200; i++) {
          upsertTracking(db, {
            version_control: "github",
            scm_repo: "a/b",
            scm_branch: "main",
            repo: `${prefix}/r${i}`,
            branch: "master",
            enabled: true,
          });
        }
        resolve();
      });
    await Promise.all([write(first, "one"), write(second, "two")]);
    expect(listTrackings(first)).toHaveLength(400);
    first.close();
    second.close();
  });
});
