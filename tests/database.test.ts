import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { BUSY_TIMEOUT_MS, openDatabase } from "../src/db/database.ts";
import { addColumnIfMissing, MIGRATIONS, migrate } from "../src/db/migrations.ts";
import { OVERVIEW_ORDER, OVERVIEW_SELECT, recordScan } from "../src/db/status.ts";
import { listTrackings, upsertTracking } from "../src/db/trackings.ts";
import {
  createOriginalTables,
  makeOriginalDatabase,
  ORIGINAL_TRACKINGS,
} from "./helpers/original-database.ts";
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
    // Off while the migrations ran, back to SQLite's default for the running service.
    expect(
      db.query<{ wal_autocheckpoint: number }, []>("PRAGMA wal_autocheckpoint").get()
        ?.wal_autocheckpoint,
    ).toBe(1000);
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

  test("migration 2 numbers like one update per row in rowid order, with gaps and ids already there", () => {
    // The numbering as the first versions wrote it, one row at a time: the reference.
    const numberOneByOne = (db: Database) => {
      let next =
        (db.query<{ top: number | null }, []>("SELECT MAX(id) AS top FROM tracking").get()?.top ??
          0) + 1;
      const rows = db
        .query<{ rowid: number }, []>("SELECT rowid FROM tracking WHERE id IS NULL ORDER BY rowid")
        .all();
      for (const row of rows)
        db.run("UPDATE tracking SET id = ? WHERE rowid = ?", [next++, row.rowid]);
    };
    const numberMigration = MIGRATIONS.find((migration) => migration.version === 2);
    let seed = 16;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const layouts = ["all unnumbered", "deleted rows", "ids already there", "ids only after"];
    for (let round = 0; round < 40; round++) {
      const layout = layouts[round % layouts.length];
      const rows = 1 + Math.floor(random() * 60);
      const seeded: string[] = [];
      for (let i = 0; i < rows; i++) {
        const id =
          (layout === "ids already there" && random() < 0.3) ||
          (layout === "ids only after" && i >= rows - 3)
            ? 1 + Math.floor(random() * 1000) * rows + i
            : null;
        seeded.push(
          `(${id ?? "NULL"}, 'github', 'up/${i}', 'main', '', 'x/${Math.floor(random() * 1e6)}-${i}', 'master', 1)`,
        );
      }
      const results = [numberOneByOne, (db: Database) => numberMigration?.up(db)].map((number) => {
        const db = new Database(":memory:");
        createOriginalTables(db);
        db.run(`INSERT INTO tracking VALUES ${seeded.join(",")}`);
        if (layout === "deleted rows") db.run("DELETE FROM tracking WHERE rowid % 3 = 1");
        number(db);
        const ids = db
          .query<{ rowid: number; id: number }, []>("SELECT rowid, id FROM tracking ORDER BY rowid")
          .all();
        db.close();
        return ids;
      });
      expect(results[1]).toEqual(results[0] as { rowid: number; id: number }[]);
      expect(results[1]?.every((row) => Number.isInteger(row.id))).toBe(true);
    }
  });

  test("an overview row finds its tracking's runs through indexes, not by reading every run", () => {
    const db = openDatabase(join(tempDir(), "db.sqlite"));
    const plan = db
      .query<{ detail: string }, []>(
        `EXPLAIN QUERY PLAN ${OVERVIEW_SELECT} WHERE t.repo = 'a' ORDER BY ${OVERVIEW_ORDER}`,
      )
      .all()
      .map((row) => row.detail);
    expect(plan.filter((detail) => /^SCAN (publish_run|r|o|d)\b/.test(detail))).toEqual([]);
    expect(plan.some((detail) => detail.includes("publish_run_tracking"))).toBe(true);
    expect(plan.some((detail) => detail.includes("publish_run_proposal"))).toBe(true);
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
