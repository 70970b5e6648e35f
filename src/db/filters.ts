/** Queries on `tracking_filter`: the backport filters of a tracking, one row at most. */
import type { Database } from "bun:sqlite";
import type { TrackingFilters } from "../scan/filters.ts";

export interface FilterRow {
  message_pattern: string | null;
  include_paths: string | null;
  exclude_paths: string | null;
}

export function toFilters(row: FilterRow | null): TrackingFilters {
  const filters: TrackingFilters = {};
  if (!row) return filters;
  if (row.message_pattern) filters.message_pattern = row.message_pattern;
  if (row.include_paths) filters.include_paths = JSON.parse(row.include_paths) as string[];
  if (row.exclude_paths) filters.exclude_paths = JSON.parse(row.exclude_paths) as string[];
  return filters;
}

/** The tracking's filters; `{}` when it has none. */
export function getFilters(db: Database, repo: string, branch: string): TrackingFilters {
  return toFilters(
    db
      .query<FilterRow, [string, string]>(
        "SELECT message_pattern, include_paths, exclude_paths FROM tracking_filter WHERE repo = ? AND branch = ?",
      )
      .get(repo, branch),
  );
}

/** Every tracking's filters, keyed `repo\nbranch` (for listings of many trackings). */
export function allFilters(db: Database): Map<string, TrackingFilters> {
  const rows = db
    .query<FilterRow & { repo: string; branch: string }, []>("SELECT * FROM tracking_filter")
    .all();
  return new Map(rows.map((row) => [`${row.repo}\n${row.branch}`, toFilters(row)]));
}

/** Replaces the tracking's filters; `{}` removes them. */
export function setFilters(
  db: Database,
  repo: string,
  branch: string,
  filters: TrackingFilters,
): void {
  const empty =
    !filters.message_pattern && !filters.include_paths?.length && !filters.exclude_paths?.length;
  if (empty) {
    deleteFilters(db, repo, branch);
    return;
  }
  db.query(
    `INSERT INTO tracking_filter (repo, branch, message_pattern, include_paths, exclude_paths, updated_at)
     VALUES ($repo, $branch, $pattern, $include, $exclude, $stamp)
     ON CONFLICT (repo, branch) DO UPDATE SET
       message_pattern = excluded.message_pattern,
       include_paths = excluded.include_paths,
       exclude_paths = excluded.exclude_paths,
       updated_at = excluded.updated_at`,
  ).run({
    repo,
    branch,
    pattern: filters.message_pattern ?? null,
    include: filters.include_paths?.length ? JSON.stringify(filters.include_paths) : null,
    exclude: filters.exclude_paths?.length ? JSON.stringify(filters.exclude_paths) : null,
    stamp: new Date().toISOString(),
  });
}

/** Removes the filters of one branch, or of every branch of `repo` when `branch` is undefined. */
export function deleteFilters(db: Database, repo: string, branch?: string): void {
  if (branch === undefined) db.query("DELETE FROM tracking_filter WHERE repo = ?").run(repo);
  else db.query("DELETE FROM tracking_filter WHERE repo = ? AND branch = ?").run(repo, branch);
}
