/**
 * The whole tracking overview (`GET /tracking/status` without a page) a bounded batch at a time,
 * in the overview's order, so listing 200,000 trackings never holds them all in memory: built
 * whole, that answer took ~500 MB at its peak and left ~280 MB behind for seconds, during scans
 * too. The order is settled once, over row ids only (a few bytes per tracking); each batch is
 * then read by id, its own query, so writers are never held up by a slow reader.
 */
import type { Database } from "bun:sqlite";
import { overviewsOf } from "./overview-pages.ts";
import {
  OVERVIEW_ORDER,
  type OverviewFilter,
  overviewWhere,
  type TrackingOverview,
} from "./status.ts";
import { TRACKING_BATCH } from "./tracking-pages.ts";

/**
 * The trackings of `listOverview(db, filter)`, in its order, as batches of at most `batch` rows.
 * The order is that of the moment the listing starts; each row has the values it has when its
 * batch is read, and a tracking deleted meanwhile is left out.
 */
export function* overviewBatches(
  db: Database,
  filter: OverviewFilter = {},
  batch = TRACKING_BATCH,
): Generator<TrackingOverview[]> {
  const where = overviewWhere(filter);
  // The joins of OVERVIEW_SELECT that the filter and the order look at (each one row at most).
  const order = db.query<{ rid: number }, Record<string, string | number>>(
    `SELECT t.rowid AS rid FROM tracking t
     LEFT JOIN tracking_status s ON s.repo = t.repo AND s.branch = t.branch
     LEFT JOIN publish_run o ON o.repo = t.repo AND o.branch = t.branch AND o.state = 'open'
     ${where.sql} ORDER BY ${OVERVIEW_ORDER}`,
  );
  const ids: number[] = [];
  for (const row of order.iterate(where.params)) ids.push(row.rid);
  const size = Math.max(1, Math.floor(batch));
  for (let start = 0; start < ids.length; start += size) {
    yield overviewsOf(db, ids.slice(start, start + size));
  }
}
