/**
 * One page of the tracking overview (status page, `GET /tracking/status?page=`) without reading
 * the other 199,900 rows. The order is the overview's: failing first, then those with an open
 * run, then by (repo, branch). Those "priority" trackings are few and found through indexes; the
 * rest follow the (repo, branch) primary-key index, so a page is an index walk to its offset
 * plus one query for its hundred rows, instead of a join and sort of every tracking.
 */
import type { Database } from "bun:sqlite";
import { containsPattern, searchNarrowing } from "./repo-search.ts";
import {
  isFailing,
  OVERVIEW_ORDER,
  OVERVIEW_SELECT,
  type OverviewRow,
  type TrackingOverview,
  toOverview,
} from "./status.ts";

export const OVERVIEW_STATES = [
  "all",
  "failing",
  "open",
  "waiting",
  "pending",
  "ok",
  "disabled",
] as const;
/**
 * The status page's states: disabled wins over failing, failing over open, open over waiting
 * (its forge is unreachable), waiting over pending (never scanned), pending over ok.
 */
export type OverviewState = (typeof OVERVIEW_STATES)[number];

/**
 * The state one tracking is in, as the state filters select it in SQL: the status page shows it,
 * and the tests hold the SQL to it.
 */
export function overviewStateOf(item: TrackingOverview): Exclude<OverviewState, "all"> {
  if (!item.tracking.enabled) return "disabled";
  if (isFailing(item.status.lastOutcome)) return "failing";
  if (item.openRun) return "open";
  if (item.status.lastOutcome === "waiting") return "waiting";
  // Never scanned: nothing was checked, so nothing is "ok" yet.
  if (item.status.lastScanAt === null) return "pending";
  return "ok";
}

export interface OverviewPageQuery {
  /** Exact downstream repository. */
  repo?: string;
  /** Exact downstream branch. */
  branch?: string;
  /** Substring of the downstream or upstream repository (case-insensitive for ASCII letters). */
  search?: string;
  state?: OverviewState;
  /** Only failing trackings and those with an open run (`/tracking/status?failing=true`). */
  priorityOnly?: boolean;
  offset: number;
  limit: number;
}

export interface OverviewPage {
  /** How many trackings match, over all pages. */
  total: number;
  items: TrackingOverview[];
}

type Params = Record<string, string | number>;
interface KeyRow {
  rid: number;
  repo: string;
  branch: string;
}
interface PriorityRow extends KeyRow {
  failing: number;
  open: number;
  /** 1 when it has a status row (was scanned at least once). */
  scanned: number;
  /** 1 when its last outcome is `waiting`. */
  waiting: number;
}
/** Matching conditions on the trackings (with their status `s` joined when the state needs it). */
interface Where {
  from: string;
  sql: string;
  params: Params;
}

const FAILING = "s.last_outcome IN ('failed', 'diverged')";
const ENABLED = "(t.enabled IS NOT NULL AND t.enabled != 0)";
const DISABLED = "(t.enabled IS NULL OR t.enabled = 0)";
/**
 * Among enabled trackings that are neither failing nor open, what sets waiting, pending and ok
 * apart, as the rows to walk and the condition on them. Pending means no status row: a status
 * row is only ever written with its scan time (`recordScan`), and only for a tracking that
 * exists, so "never scanned" and "no status row" are the same.
 */
const REST_STATE: Partial<Record<OverviewState, { from: string; condition: string }>> = {
  // Usually a few: SQLite starts from the outcome index and sorts them.
  waiting: {
    from: "tracking t JOIN tracking_status s ON s.repo = t.repo AND s.branch = t.branch",
    condition: "s.last_outcome = 'waiting'",
  },
  pending: {
    from: "tracking t",
    condition:
      "NOT EXISTS (SELECT 1 FROM tracking_status x WHERE x.repo = t.repo AND x.branch = t.branch)",
  },
  // Usually nearly all: CROSS JOIN keeps the walk on the (repo, branch) index, stopping at the page.
  ok: {
    from: "tracking t CROSS JOIN tracking_status s ON s.repo = t.repo AND s.branch = t.branch",
    condition: "s.last_outcome IS NOT 'waiting'",
  },
};

/** Whether a priority tracking is also one of the state's rest (what the index walk meets). */
function inRest(row: PriorityRow, state: OverviewState): boolean {
  if (state === "waiting") return row.waiting === 1;
  if (state === "pending") return row.scanned === 0;
  if (state === "ok") return row.scanned === 1 && row.waiting === 0;
  return true;
}

/** Conditions on the tracking `t` alone, so the (repo, branch) index can still order the rest. */
function baseWhere(query: OverviewPageQuery): { sql: string; params: Params } {
  const conditions: string[] = [];
  const params: Params = {};
  if (query.repo !== undefined) {
    conditions.push("t.repo = $repo");
    params.repo = query.repo;
  }
  if (query.branch !== undefined) {
    conditions.push("t.branch = $branch");
    params.branch = query.branch;
  }
  const needle = query.search?.trim() ?? "";
  if (needle !== "") {
    conditions.push("(t.repo LIKE $like ESCAPE '\\' OR t.scm_repo LIKE $like ESCAPE '\\')");
    params.like = containsPattern(needle);
  }
  const state = query.state ?? "all";
  if (state === "disabled") conditions.push(`NOT ${ENABLED}`);
  else if (state !== "all") conditions.push(ENABLED);
  return { sql: conditions.length ? ` WHERE ${conditions.join(" AND ")}` : "", params };
}

/**
 * The trackings of `where` the walk of the (repo, branch) index reads: those of `base` that also
 * meet the state's condition on their status, which is then joined.
 */
function restWhere(base: { sql: string; params: Params }, state: OverviewState): Where {
  const rest = REST_STATE[state];
  if (rest === undefined) return { from: "tracking t", ...base };
  const sql = base.sql ? `${base.sql} AND ${rest.condition}` : ` WHERE ${rest.condition}`;
  return { from: rest.from, sql, params: base.params };
}

/**
 * How many enabled trackings are waiting, and how many were never scanned, over the whole table
 * without a join over all of it: enabled = all − disabled (few, through the index), scanned
 * enabled = status rows − those of disabled trackings.
 */
function restCounts(db: Database): { enabled: number; waiting: number; pending: number } {
  const row = db
    .query<
      {
        total: number;
        disabled: number;
        statuses: number;
        scannedDisabled: number;
        waiting: number;
      },
      []
    >(
      `SELECT (SELECT COUNT(*) FROM tracking) AS total,
              (SELECT COUNT(*) FROM tracking t WHERE ${DISABLED}) AS disabled,
              (SELECT COUNT(*) FROM tracking_status) AS statuses,
              (SELECT COUNT(*) FROM tracking t
                 JOIN tracking_status s ON s.repo = t.repo AND s.branch = t.branch
                 WHERE ${DISABLED}) AS scannedDisabled,
              (SELECT COUNT(*) FROM tracking_status s
                 JOIN tracking t ON t.repo = s.repo AND t.branch = s.branch
                 WHERE s.last_outcome = 'waiting' AND ${ENABLED}) AS waiting`,
    )
    .get();
  const enabled = (row?.total ?? 0) - (row?.disabled ?? 0);
  const scanned = (row?.statuses ?? 0) - (row?.scannedDisabled ?? 0);
  return { enabled, waiting: row?.waiting ?? 0, pending: enabled - scanned };
}

/** Trackings that are failing or have an open run, matching `where`, in overview order. */
function priorityRows(db: Database, where: { sql: string; params: Params }): PriorityRow[] {
  return db
    .query<PriorityRow, Params>(
      `WITH p AS (
         SELECT repo, branch FROM tracking_status WHERE last_outcome IN ('failed', 'diverged')
         UNION SELECT repo, branch FROM publish_run WHERE state = 'open')
       SELECT t.rowid AS rid, t.repo, t.branch, COALESCE(${FAILING}, 0) AS failing,
              (o.id IS NOT NULL) AS open, (s.repo IS NOT NULL) AS scanned,
              COALESCE(s.last_outcome = 'waiting', 0) AS waiting
       FROM p JOIN tracking t ON t.repo = p.repo AND t.branch = p.branch
       LEFT JOIN tracking_status s ON s.repo = t.repo AND s.branch = t.branch
       LEFT JOIN publish_run o ON o.repo = t.repo AND o.branch = t.branch AND o.state = 'open'
       ${where.sql}
       ORDER BY ${OVERVIEW_ORDER}`,
    )
    .all(where.params);
}

/**
 * Row ids of the trackings that are failing or have an open run (of `repo` and `branch` when
 * given), in overview order: the head of the whole overview.
 */
export function priorityIds(db: Database, filter: { repo?: string; branch?: string }): number[] {
  const where = baseWhere({ repo: filter.repo, branch: filter.branch, offset: 0, limit: 0 });
  return priorityRows(db, where).map((row) => row.rid);
}

/** SQLite's BINARY collation: bytes of the UTF-8 text, as the primary-key index orders them. */
function compareKeys(a: { repo: string; branch: string }, b: { repo: string; branch: string }) {
  return (
    Buffer.compare(Buffer.from(a.repo), Buffer.from(b.repo)) ||
    Buffer.compare(Buffer.from(a.branch), Buffer.from(b.branch))
  );
}

/**
 * Row ids of the `count` trackings from rank `rank` of those matching `where` that are not in
 * `priority`, in (repo, branch) order. Position `rank + c` of the whole index order, where c is
 * how many priority keys sort before the answer: c is found as the fixed point of "priority
 * keys ≤ the key at rank + c", which only grows and settles after a step or two because the
 * priority set is small (usually two walks of the index: the first finds c, the second reads).
 */
function restIds(
  db: Database,
  where: Where,
  priority: readonly KeyRow[],
  rank: number,
  count: number,
): number[] {
  const sorted = [...priority].sort(compareKeys);
  const skip = new Set(priority.map((row) => row.rid));
  // Each round is one walk of the index to the candidate position, reading the page with it; it
  // is the answer once no more priority keys sort at or before the first row read.
  const window = db.query<KeyRow, Params>(
    `SELECT t.rowid AS rid, t.repo, t.branch FROM ${where.from}${where.sql}
     ORDER BY t.repo, t.branch LIMIT $count OFFSET $at`,
  );
  let before = 0;
  for (;;) {
    const rows = window.all({ ...where.params, count: count + priority.length, at: rank + before });
    const first = rows[0];
    if (!first) return [];
    let upTo = 0;
    while (upTo < sorted.length && compareKeys(sorted[upTo] as KeyRow, first) <= 0) upTo++;
    if (upTo === before) {
      return rows
        .filter((row) => !skip.has(row.rid))
        .slice(0, count)
        .map((row) => row.rid);
    }
    before = upTo;
  }
}

/**
 * How many trackings `rest` holds (priority ones included). Without a repo or branch the
 * waiting, pending and ok states are counted from `restCounts`, not by joining every row.
 */
function restSize(db: Database, query: OverviewPageQuery, rest: Where, state: OverviewState) {
  if (query.repo === undefined && query.branch === undefined && REST_STATE[state]) {
    const counts = restCounts(db);
    if (state === "waiting") return counts.waiting;
    if (state === "pending") return counts.pending;
    return counts.enabled - counts.pending - counts.waiting;
  }
  return (
    db
      .query<{ n: number }, Params>(`SELECT COUNT(*) AS n FROM ${rest.from}${rest.sql}`)
      .get(rest.params)?.n ?? 0
  );
}

/**
 * Row ids of every tracking of `rest` matching the search for `needle` but the priority ones, in
 * (repo, branch) order. The search index names the candidates when it can (`repo-search.ts`),
 * else one scan of the table reads them all; either way the LIKE of `rest` decides. The `+` keeps
 * SQLite from walking the (repo, branch) index for the order and reading each row apart.
 */
function matchingIds(
  db: Database,
  rest: Where,
  priority: readonly KeyRow[],
  needle: string,
): number[] {
  const skip = new Set(priority.map((row) => row.rid));
  const match = searchNarrowing(db, needle);
  const narrowed =
    match === null
      ? ""
      : " AND t.rowid IN (SELECT rowid FROM tracking_search WHERE tracking_search MATCH $match)";
  return db
    .query<{ rid: number }, Params>(
      `SELECT t.rowid AS rid FROM ${rest.from}${rest.sql}${narrowed} ORDER BY +t.repo, +t.branch`,
    )
    .all(match === null ? rest.params : { ...rest.params, match })
    .map((row) => row.rid)
    .filter((rid) => !skip.has(rid));
}

/** Overview rows for these tracking row ids, in the order given (a gone one is left out). */
export function overviewsOf(db: Database, ids: readonly number[]): TrackingOverview[] {
  if (ids.length === 0) return [];
  const rows = db
    .query<OverviewRow & { rid: number }, number[]>(
      OVERVIEW_SELECT.replace("SELECT ", "SELECT t.rowid AS rid, ") +
        ` WHERE t.rowid IN (${ids.map(() => "?").join(",")})`,
    )
    .all(...ids);
  const byId = new Map(rows.map((row) => [row.rid, row]));
  return ids.flatMap((id) => {
    const row = byId.get(id);
    return row ? [toOverview(row)] : [];
  });
}

export function overviewPage(db: Database, query: OverviewPageQuery): OverviewPage {
  const offset = Math.max(0, Math.floor(query.offset));
  const limit = Math.max(0, Math.floor(query.limit));
  const state = query.state ?? "all";
  const base = baseWhere(query);
  const priority = priorityRows(db, base);
  // Enabled priority trackings are failing or open, never waiting, pending or ok.
  const shownPriority = priority.filter((row) => {
    if (state === "failing") return row.failing === 1;
    if (state === "open") return row.failing !== 1 && row.open === 1;
    return state === "all" || state === "disabled";
  });
  const withRest = !query.priorityOnly && state !== "failing" && state !== "open";
  const rest = restWhere(base, state);
  // The priority trackings the walk of the index meets, and skips.
  const met = priority.filter((row) => inRest(row, state));
  const ids = shownPriority.slice(offset, offset + limit).map((row) => row.rid);
  const rank = Math.max(0, offset - shownPriority.length);
  if (!withRest) return { total: shownPriority.length, items: overviewsOf(db, ids) };
  const wanted = limit - ids.length;
  if (base.params.like !== undefined) {
    // A text search: one query collects the matches, counted and cut here.
    const all = matchingIds(db, rest, met, query.search?.trim() ?? "");
    ids.push(...(wanted > 0 ? all.slice(rank, rank + wanted) : []));
    return { total: shownPriority.length + all.length, items: overviewsOf(db, ids) };
  }
  const restTotal = restSize(db, query, rest, state) - met.length;
  if (wanted > 0 && rank < restTotal) ids.push(...restIds(db, rest, met, rank, wanted));
  return { total: shownPriority.length + restTotal, items: overviewsOf(db, ids) };
}
