import type { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { BUSY_TIMEOUT_MS, openDatabase } from "../src/db/database.ts";
import { addColumnIfMissing, MIGRATIONS, migrate } from "../src/db/migrations.ts";
import { recordScan } from "../src/db/status.ts";
import { listTrackings, upsertTracking } from "../src/db/trackings.ts";
import { makeOriginalDatabase, ORIGINAL_TRACKINGS } from "./helpers/original-database.ts";
import { tempDir } from "./helpers/temp.ts";
import { startTestServer } from "./helpers/test-server.ts";

describe("a database written by the original service", () => {
  const dir = tempDir();
  const path = join(dir, "db.sqlite");
  makeOriginalDatabase(path);
  const server = startTestServer({}, { settings: { databasePath: path } });

  test("opens, migrates and serves its rows unchanged", async () => {
    const trackings = ((await (await server.call("/tracking")).json()) as any).data;
    expect(trackings).toEqual(ORIGINAL_TRACKINGS);
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

  test("migration 2 numbers rows without an id in rowid order, after the ids already there", () => {
    const db = openDatabase(join(tempDir(), "db.sqlite"));
    for (const name of ["a", "b", "c", "d"]) {
      upsertTracking(db, {
        version_control: "github",
        scm_repo: `up/${name}`,
        scm_branch: "main",
        repo: `x/${name}`,
        branch: "master",
        enabled: true,
      });
    }
    db.run("UPDATE tracking SET id = NULL WHERE repo IN ('x/a', 'x/c', 'x/d')");
    db.run("UPDATE tracking SET id = 7 WHERE repo = 'x/b'");
    db.run("PRAGMA user_version = 1");
    db.run("DROP INDEX tracking_id");
    migrate(db);
    const ids = db
      .query<{ repo: string; id: number }, []>("SELECT repo, id FROM tracking ORDER BY rowid")
      .all();
    expect(ids).toEqual([
      { repo: "x/a", id: 8 },
      { repo: "x/b", id: 7 },
      { repo: "x/c", id: 9 },
      { repo: "x/d", id: 10 },
    ]);
    db.close();
  });

  test("a status row exists only beside its tracking: none is written for a deleted one, and migration 10 removes old ones", () => {
    const db = openDatabase(join(tempDir(), "db.sqlite"));
    upsertTracking(db, {
      version_control: "github",
      scm_repo: "a/b",
      scm_branch: "main",
      repo: "x/y",
      branch: "master",
      enabled: true,
    });
    recordScan(db, "x/y", "master", { outcome: "unchanged" });
    // A scan that finishes after its tracking was deleted.
    recordScan(db, "x/gone", "master", { outcome: "unchanged" });
    const statuses = () =>
      db
        .query<{ repo: string }, []>("SELECT repo FROM tracking_status")
        .all()
        .map((r) => r.repo);
    expect(statuses()).toEqual(["x/y"]);
    // One left behind by an earlier version.
    db.run(
      "INSERT INTO tracking_status (repo, branch, last_scan_at, last_outcome) VALUES ('x/old', 'master', '2026-01-01T00:00:00Z', 'unchanged')",
    );
    db.run("PRAGMA user_version = 9");
    migrate(db);
    expect(statuses()).toEqual(["x/y"]);
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
