/**
 * Schema migrations, applied in order and recorded in `PRAGMA user_version`.
 *
 * Migration 1 produces exactly the original service's tables (`tracking`, `issue`), so a database
 * written by the original is already at version 1 in shape: `CREATE TABLE IF NOT EXISTS` leaves its
 * tables and rows alone. Later migrations only add columns, tables and indexes — never recreate.
 */
import type { Database } from "bun:sqlite";

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly up: (db: Database) => void;
}

function columnNames(db: Database, table: string): Set<string> {
  const rows = db.query<{ name: string }, []>(`PRAGMA table_info(${table})`).all();
  return new Set(rows.map((row) => row.name));
}

/** Adds a column unless it is already there (an older build may have added it). */
export function addColumnIfMissing(db: Database, table: string, column: string, type: string) {
  if (!columnNames(db, table).has(column))
    db.run(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`);
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "original tables",
    up(db) {
      db.run(`CREATE TABLE IF NOT EXISTS tracking (
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
      db.run(`CREATE TABLE IF NOT EXISTS issue (
        issue VARCHAR(80) NOT NULL,
        repo VARCHAR(80),
        branch VARCHAR(80),
        PRIMARY KEY (issue)
      )`);
    },
  },
  {
    version: 2,
    name: "fill tracking.id",
    up(db) {
      // The original never set `id`: number existing rows in the order it listed them (rowid).
      const rows = db
        .query<{ rowid: number }, []>("SELECT rowid FROM tracking WHERE id IS NULL ORDER BY rowid")
        .all();
      let next =
        (db.query<{ top: number | null }, []>("SELECT MAX(id) AS top FROM tracking").get()?.top ??
          0) + 1;
      const assign = db.prepare("UPDATE tracking SET id = ? WHERE rowid = ?");
      for (const row of rows) assign.run(next++, row.rowid);
      db.run("CREATE UNIQUE INDEX IF NOT EXISTS tracking_id ON tracking(id)");
    },
  },
  {
    version: 3,
    name: "issue provenance",
    up(db) {
      addColumnIfMissing(db, "issue", "created_at", "TEXT");
      addColumnIfMissing(db, "issue", "pull", "TEXT");
      db.run("CREATE INDEX IF NOT EXISTS issue_repo_branch ON issue(repo, branch)");
    },
  },
];

/** Brings `db` to the newest schema; each migration runs in its own transaction. */
export function migrate(db: Database, migrations: readonly Migration[] = MIGRATIONS): number {
  const current =
    db.query<{ user_version: number }, []>("PRAGMA user_version").get()?.user_version ?? 0;
  let version = current;
  for (const migration of migrations) {
    if (migration.version <= version) continue;
    db.transaction(() => {
      migration.up(db);
      db.run(`PRAGMA user_version = ${migration.version}`);
    })();
    version = migration.version;
  }
  return version;
}
