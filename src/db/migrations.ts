/**
 * Schema migrations, applied in order and recorded in `PRAGMA user_version`.
 *
 * Migration 1 produces exactly the original service's tables (`tracking`, `issue`), so a database
 * written by the original is already at version 1 in shape: `CREATE TABLE IF NOT EXISTS` leaves its
 * tables and rows alone. Later migrations only add columns, tables and indexes — never recreate.
 */
import type { Database } from "bun:sqlite";
import { fillSearchIndex, SEARCH_FILL_AT_ONCE } from "./repo-search.ts";

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
      // The original never set `id`: number existing rows in the order it listed them (rowid),
      // after the ids already there. One statement for all rows, not one per row: at 200,000
      // rows the per-row updates were most of a first start.
      const unnumbered = db
        .query<
          { missing: number; low: number | null; high: number | null; top: number | null },
          []
        >(
          `SELECT COUNT(*) FILTER (WHERE id IS NULL) AS missing,
                  MIN(rowid) FILTER (WHERE id IS NULL) AS low,
                  MAX(rowid) FILTER (WHERE id IS NULL) AS high, MAX(id) AS top
           FROM tracking`,
        )
        .get();
      const next = (unnumbered?.top ?? 0) + 1;
      const { missing = 0, low, high } = unnumbered ?? {};
      if (missing > 0 && low != null && high != null) {
        if (high - low + 1 === missing) {
          // No row with an id among them (the usual case): the rank is the distance in rowid.
          db.query("UPDATE tracking SET id = rowid + ? WHERE id IS NULL").run(next - low);
        } else {
          db.query(
            `UPDATE tracking SET id = numbered.id FROM (
               SELECT rowid AS row, ROW_NUMBER() OVER (ORDER BY rowid) + ? AS id
               FROM tracking WHERE id IS NULL) AS numbered
             WHERE tracking.rowid = numbered.row`,
          ).run(next - 1);
        }
      }
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
  {
    version: 4,
    name: "publish journal and tracking status",
    up(db) {
      // One row per publish run: everything needed to resume it after a crash, written before
      // the first remote write. At most one unfinished run per tracking.
      db.run(`CREATE TABLE IF NOT EXISTS publish_run (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        repo TEXT NOT NULL,
        branch TEXT NOT NULL,
        version_control TEXT NOT NULL,
        scm_repo TEXT NOT NULL,
        scm_branch TEXT NOT NULL,
        base_commit TEXT NOT NULL,
        head_commit TEXT NOT NULL,
        timestamp TEXT NOT NULL,
        work_branch TEXT NOT NULL,
        state TEXT NOT NULL,
        step TEXT NOT NULL,
        issue_number TEXT,
        issue_url TEXT,
        pull_number INTEGER,
        pull_url TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        notes TEXT NOT NULL DEFAULT '[]',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        finished_at TEXT
      )`);
      db.run(
        "CREATE UNIQUE INDEX IF NOT EXISTS publish_run_open ON publish_run(repo, branch) WHERE state = 'open'",
      );
      db.run("CREATE INDEX IF NOT EXISTS publish_run_finished ON publish_run(finished_at)");
      db.run(`CREATE TABLE IF NOT EXISTS publish_commit (
        run_id INTEGER NOT NULL REFERENCES publish_run(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        sha TEXT NOT NULL,
        date TEXT NOT NULL,
        message TEXT NOT NULL,
        url TEXT,
        empty INTEGER NOT NULL,
        patch BLOB,
        uploaded INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (run_id, position)
      )`);
      db.run(`CREATE TABLE IF NOT EXISTS tracking_status (
        repo TEXT NOT NULL,
        branch TEXT NOT NULL,
        last_scan_at TEXT,
        last_outcome TEXT,
        last_error TEXT,
        last_success_at TEXT,
        upstream_head TEXT,
        PRIMARY KEY (repo, branch)
      )`);
    },
  },
  {
    version: 5,
    name: "rolling proposals and carried patches",
    up(db) {
      // One row per proposal (work branch + issue + pull request) the service opened. In
      // "rolling" mode new commits join the tracking's open proposal instead of opening another.
      db.run(`CREATE TABLE IF NOT EXISTS proposal (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        repo TEXT NOT NULL,
        branch TEXT NOT NULL,
        state TEXT NOT NULL,
        timestamp TEXT NOT NULL,
        work_branch TEXT NOT NULL,
        issue_number TEXT NOT NULL,
        issue_url TEXT,
        pull_number INTEGER NOT NULL,
        pull_url TEXT,
        base_spec_sha TEXT,
        successor INTEGER,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        ended_at TEXT
      )`);
      db.run("CREATE INDEX IF NOT EXISTS proposal_tracking ON proposal(repo, branch, state)");
      // "new" runs open a proposal; "extend" runs add commits to `proposal_id`'s.
      addColumnIfMissing(db, "publish_run", "kind", "TEXT NOT NULL DEFAULT 'new'");
      addColumnIfMissing(db, "publish_run", "proposal_id", "INTEGER");
      addColumnIfMissing(db, "publish_run", "supersedes", "INTEGER");
      addColumnIfMissing(db, "publish_run", "base_spec_sha", "TEXT");
      // Set once the commits were compared with the package's carried patches.
      addColumnIfMissing(db, "publish_run", "judged", "INTEGER NOT NULL DEFAULT 0");
      // Why a commit got no patch file (e.g. "already carried as x.patch"), shown in the issue.
      addColumnIfMissing(db, "publish_commit", "verdict", "TEXT");
      addColumnIfMissing(db, "publish_commit", "carried_as", "TEXT");
      // `git patch-id --stable` of each patch file a package carries, by blob sha: an unchanged
      // file is never read again.
      db.run(`CREATE TABLE IF NOT EXISTS carried_patch (
        blob_sha TEXT PRIMARY KEY,
        patch_ids TEXT NOT NULL
      )`);
      // Commits passed over without a proposal (every one of their changes is carried).
      db.run(`CREATE TABLE IF NOT EXISTS passed_over (
        repo TEXT NOT NULL,
        branch TEXT NOT NULL,
        sha TEXT NOT NULL,
        message TEXT NOT NULL,
        reason TEXT NOT NULL,
        at TEXT NOT NULL,
        PRIMARY KEY (repo, branch, sha)
      )`);
    },
  },
  {
    version: 6,
    name: "backport filters",
    up(db) {
      // Filters sit beside the tracking, not in it: `GET /tracking` rows keep their seven fields.
      db.run(`CREATE TABLE IF NOT EXISTS tracking_filter (
        repo TEXT NOT NULL,
        branch TEXT NOT NULL,
        message_pattern TEXT,
        include_paths TEXT,
        exclude_paths TEXT,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (repo, branch)
      )`);
    },
  },
  {
    version: 7,
    name: "publish run backoff",
    up(db) {
      // When a failed run may be tried again (exponential backoff per run); NULL: at once.
      addColumnIfMissing(db, "publish_run", "next_attempt_at", "TEXT");
    },
  },
  {
    version: 8,
    name: "apply check summary",
    up(db) {
      // The pull request's first line, e.g. "Apply check: 3 of 4 apply to foo-1.2.tar.gz",
      // journaled with the verdicts so a resumed run shows the same one.
      addColumnIfMissing(db, "publish_run", "apply_summary", "TEXT");
    },
  },
  {
    version: 9,
    name: "indexes for the overview at scale",
    up(db) {
      // The status page and /tracking/status find failing trackings and count enabled ones
      // through these instead of reading 200,000 rows per page.
      db.run("CREATE INDEX IF NOT EXISTS tracking_status_outcome ON tracking_status(last_outcome)");
      db.run("CREATE INDEX IF NOT EXISTS tracking_enabled ON tracking(enabled)");
    },
  },
  {
    version: 10,
    name: "no status without its tracking",
    up(db) {
      // Status rows of trackings deleted while being scanned: the overview counts trackings
      // without a status row as never scanned, so none may be left without its tracking.
      db.run(
        `DELETE FROM tracking_status WHERE NOT EXISTS (SELECT 1 FROM tracking t
           WHERE t.repo = tracking_status.repo AND t.branch = tracking_status.branch)`,
      );
    },
  },
  {
    version: 11,
    name: "creates sent without an answer",
    up(db) {
      // A create (issue, pull request, comment) journaled right before it is sent and forgotten
      // once its result is known: one left behind may still land (db/pending-creates.ts).
      db.run(`CREATE TABLE IF NOT EXISTS pending_create (
        run_id INTEGER NOT NULL REFERENCES publish_run(id),
        item TEXT NOT NULL,
        sent_at TEXT NOT NULL,
        PRIMARY KEY (run_id, item)
      )`);
    },
  },
  {
    version: 12,
    name: "repository search index",
    up(db) {
      // Trigrams of both repository names, for the status page's search (`repo-search.ts`). The
      // names stay in `tracking` (external content); detail=none keeps the index small (~40 bytes
      // a tracking), since the search only needs to know which rows hold every trigram.
      db.run(`CREATE VIRTUAL TABLE IF NOT EXISTS tracking_search USING fts5(repo, scm_repo,
        content='tracking', content_rowid='rowid', tokenize='trigram', detail='none')`);
      db.run(
        "CREATE TABLE IF NOT EXISTS tracking_search_fill (upto INTEGER NOT NULL, done INTEGER NOT NULL)",
      );
      db.run(
        "INSERT INTO tracking_search_fill SELECT 0, 0 WHERE NOT EXISTS (SELECT 1 FROM tracking_search_fill)",
      );
      // Rows the fill has not reached yet are left to it (it reads their names when it gets there).
      const indexed = (row: string) =>
        `(SELECT done OR ${row}.rowid <= upto FROM tracking_search_fill)`;
      const add = (row: string) =>
        `INSERT INTO tracking_search (rowid, repo, scm_repo) VALUES (${row}.rowid, ${row}.repo, ${row}.scm_repo);`;
      const remove = (row: string) =>
        `INSERT INTO tracking_search (tracking_search, rowid, repo, scm_repo) VALUES ('delete', ${row}.rowid, ${row}.repo, ${row}.scm_repo);`;
      db.run(`CREATE TRIGGER IF NOT EXISTS tracking_search_insert AFTER INSERT ON tracking
        WHEN ${indexed("new")} BEGIN ${add("new")} END`);
      db.run(`CREATE TRIGGER IF NOT EXISTS tracking_search_delete AFTER DELETE ON tracking
        WHEN ${indexed("old")} BEGIN ${remove("old")} END`);
      db.run(`CREATE TRIGGER IF NOT EXISTS tracking_search_update AFTER UPDATE OF repo, scm_repo ON tracking
        WHEN ${indexed("old")} AND (old.repo IS NOT new.repo OR old.scm_repo IS NOT new.scm_repo)
        BEGIN ${remove("old")} ${add("new")} END`);
      // A small table is indexed now; a large one (the previous service's 200,000 rows) by the
      // running service in the background, so the first start does not wait for it.
      const small =
        (db
          .query<{ n: number }, [number]>(
            "SELECT COUNT(*) AS n FROM (SELECT 1 FROM tracking LIMIT ?)",
          )
          .get(SEARCH_FILL_AT_ONCE + 1)?.n ?? 0) <= SEARCH_FILL_AT_ONCE;
      if (small) fillSearchIndex(db, SEARCH_FILL_AT_ONCE + 1);
    },
  },
  {
    version: 13,
    name: "publish runs by tracking and by proposal",
    up(db) {
      // The overview looks up each tracking's newest finished run and each open proposal's runs:
      // without these, every one of 200,000 rows read the whole publish_run table (with 2,000
      // finished runs the unpaged /tracking/status took 17 s instead of 2 s).
      db.run(
        "CREATE INDEX IF NOT EXISTS publish_run_tracking ON publish_run(repo, branch, state, id)",
      );
      db.run("CREATE INDEX IF NOT EXISTS publish_run_proposal ON publish_run(proposal_id, state)");
    },
  },
];

/**
 * Brings `db` to the newest schema; each migration runs in its own transaction.
 *
 * While migrations run, SQLite's automatic checkpoint is off: the first start on the previous
 * service's database rewrites every tracking row (migration 2), and checkpointing after each
 * commit would copy those pages from the WAL into the database file and wait for the disk before
 * the service answers. The next commit of the running service checkpoints them instead. Until
 * then the committed migrations live in the WAL: a power loss before that rolls the database
 * back to a consistent earlier version, which the next start migrates again.
 */
export function migrate(db: Database, migrations: readonly Migration[] = MIGRATIONS): number {
  const current =
    db.query<{ user_version: number }, []>("PRAGMA user_version").get()?.user_version ?? 0;
  const pending = migrations.filter((migration) => migration.version > current);
  if (pending.length === 0) return current;
  const autocheckpoint =
    db.query<{ wal_autocheckpoint: number }, []>("PRAGMA wal_autocheckpoint").get()
      ?.wal_autocheckpoint ?? 1000;
  db.run("PRAGMA wal_autocheckpoint = 0");
  let version = current;
  try {
    for (const migration of pending) {
      if (migration.version <= version) continue;
      db.transaction(() => {
        migration.up(db);
        db.run(`PRAGMA user_version = ${migration.version}`);
      })();
      version = migration.version;
    }
  } finally {
    db.run(`PRAGMA wal_autocheckpoint = ${autocheckpoint}`);
  }
  return version;
}
