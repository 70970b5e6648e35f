/**
 * Reading the `tracking` table in id order, a bounded batch at a time (keyset on the unique
 * `tracking.id`), so a listing of 200,000 rows never holds them all in memory at once.
 */
import type { Database } from "bun:sqlite";
import { type Tracking, type TrackingFilter, type TrackingRow, toTracking } from "./trackings.ts";
import { whereEquals } from "./where.ts";

/** Rows per batch: ~100 KB of JSON, large enough that the per-query cost does not show. */
export const TRACKING_BATCH = 500;

/**
 * The trackings matching `filter` in the same order as `listTrackings` (by id), as batches of at
 * most `batch` rows. Each batch is its own query, so writers are never held up by a slow reader;
 * a row changed while the listing is under way appears once, with whichever value it had when
 * its batch was read.
 */
export function* trackingBatches(
  db: Database,
  filter: TrackingFilter = {},
  batch = TRACKING_BATCH,
): Generator<Tracking[]> {
  const { sql, params } = trackingBatchQuery(filter, batch);
  const query = db.query<TrackingRow, Record<string, string | number>>(sql);
  let after = Number.MIN_SAFE_INTEGER;
  while (true) {
    const rows = query.all({ ...params, after });
    if (rows.length > 0) yield rows.map(toTracking);
    if (rows.length < batch) return;
    after = (rows[rows.length - 1] as TrackingRow).id as number;
  }
}

/** One batch of `trackingBatches`: the rows after `$after` in id order. */
export function trackingBatchQuery(
  filter: TrackingFilter,
  batch: number,
): { sql: string; params: Record<string, string | number> } {
  const where = whereEquals(
    {
      repo: filter.repo,
      branch: filter.branch,
      enabled: filter.enabled === undefined ? undefined : filter.enabled ? 1 : 0,
    },
    // `+enabled` as in trackingPage: each batch walks `tracking_id` on from where the last one
    // ended, instead of taking every enabled row through `tracking_enabled` and sorting them all
    // again (at 200,000 rows, the batches of 500 took 22 s in all that way, 0.2 s this way).
    { enabled: "+enabled" },
    ["id > $after"],
  );
  return {
    sql: `SELECT id, version_control, scm_repo, scm_branch, scm_commit, repo, branch, enabled
     FROM tracking${where.sql} ORDER BY id LIMIT ${Math.max(1, Math.floor(batch))}`,
    params: where.params,
  };
}

/**
 * The trackings matching `filter` at positions [offset, offset + limit) of the `listTrackings`
 * order (by id), and how many match in all: one page without reading the rows before it.
 */
export function trackingPage(
  db: Database,
  filter: TrackingFilter,
  page: { offset: number; limit?: number },
): { total: number; rows: Tracking[] } {
  const values = {
    repo: filter.repo,
    branch: filter.branch,
    enabled: filter.enabled === undefined ? undefined : filter.enabled ? 1 : 0,
  };
  const where = whereEquals(values);
  // `+enabled`: walk `tracking_id` in order and test `enabled` on each row, instead of taking
  // every enabled row through `tracking_enabled` and sorting them all for one page.
  const ordered = whereEquals(values, { enabled: "+enabled" });
  const total =
    db
      .query<{ total: number }, Record<string, string | number>>(
        `SELECT COUNT(*) AS total FROM tracking${where.sql}`,
      )
      .get(where.params)?.total ?? 0;
  const rows = db
    .query<TrackingRow, Record<string, string | number>>(
      `SELECT id, version_control, scm_repo, scm_branch, scm_commit, repo, branch, enabled
       FROM tracking${ordered.sql} ORDER BY id LIMIT $limit OFFSET $offset`,
    )
    .all({
      ...ordered.params,
      // SQLite reads a negative limit as "no limit".
      limit: page.limit === undefined ? -1 : Math.max(0, Math.floor(page.limit)),
      offset: Math.max(0, Math.floor(page.offset)),
    });
  return { total, rows: rows.map(toTracking) };
}
