/**
 * The whole tracking overview (`GET /tracking/status` without a page) a bounded batch at a time,
 * in the overview's order, so listing 200,000 trackings never holds them all in memory: built
 * whole, that answer took ~500 MB at its peak and left ~280 MB behind for seconds, during scans
 * too. Nothing is sorted up front, so the first batch leaves at once: the few priority trackings
 * (failing, then with an open run) are found through their indexes, and the rest follow the
 * (repo, branch) primary-key index, each batch one query continuing after the last key, so
 * writers are never held up by a slow reader.
 */
import type { Database } from "bun:sqlite";
import { overviewsOf, priorityIds } from "./overview-pages.ts";
import {
  OVERVIEW_SELECT,
  type OverviewFilter,
  type OverviewRow,
  type TrackingOverview,
  toOverview,
} from "./status.ts";
import { TRACKING_BATCH } from "./tracking-pages.ts";
import { whereEquals } from "./where.ts";

/**
 * The trackings of `listOverview(db, filter)`, in its order, as batches of at most `batch` rows.
 * Which trackings lead (failing or open) is settled when the listing starts; each row has the
 * values it has when its batch is read, a tracking deleted meanwhile is left out, and every
 * tracking appears at most once.
 */
export function* overviewBatches(
  db: Database,
  filter: OverviewFilter = {},
  batch = TRACKING_BATCH,
): Generator<TrackingOverview[]> {
  const size = Math.max(1, Math.floor(batch));
  const priority = priorityIds(db, filter);
  for (let start = 0; start < priority.length; start += size) {
    const items = overviewsOf(db, priority.slice(start, start + size));
    if (items.length > 0) yield items;
  }
  if (filter.failing) return;
  const skip = new Set(priority);
  const select = OVERVIEW_SELECT.replace("SELECT ", "SELECT t.rowid AS rid, ");
  const page = (after: boolean) => {
    const where = whereEquals(
      { repo: filter.repo, branch: filter.branch },
      { repo: "t.repo", branch: "t.branch" },
      after ? ["(t.repo, t.branch) > ($afterRepo, $afterBranch)"] : [],
    );
    const query = db.query<OverviewRow & { rid: number }, Record<string, string | number>>(
      `${select}${where.sql} ORDER BY t.repo, t.branch LIMIT ${size}`,
    );
    return (keys: Record<string, string>) => query.all({ ...where.params, ...keys });
  };
  const next = page(true);
  let rows = page(false)({});
  while (rows.length > 0) {
    const items = rows.filter((row) => !skip.has(row.rid)).map(toOverview);
    if (items.length > 0) yield items;
    if (rows.length < size) return;
    const last = rows[rows.length - 1] as OverviewRow;
    rows = next({ afterRepo: last.repo, afterBranch: last.branch });
  }
}
