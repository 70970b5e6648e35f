/** Per-tracking scan status: what the scanner last did with each tracking and why. */
import type { Database } from "bun:sqlite";
import type { TrackingFilters } from "../scan/filters.ts";
import { toFilters } from "./filters.ts";
import { type Tracking, type TrackingRow, toTracking } from "./trackings.ts";
import { whereEquals } from "./where.ts";

export type ScanOutcome =
  | "started" // first scan: the upstream head was recorded, nothing proposed
  | "unchanged" // no new upstream commit
  | "proposed" // a branch, issue and pull request were published
  | "skipped-empty" // only empty commits arrived; scm_commit advanced
  | "passed-over" // every new commit is empty, already carried, or passed over by the filters; scm_commit advanced
  | "diverged" // upstream history was rewritten; needs an operator
  | "failed" // an error; the open run (if any) is retried on the next scan
  | "parked" // the forge is rate limited; retried after its reset time
  | "waiting"; // the forge is unreachable (its circuit breaker is open); scanned when it is back

export interface TrackingStatus {
  repo: string;
  branch: string;
  lastScanAt: string | null;
  lastOutcome: ScanOutcome | null;
  lastError: string | null;
  lastSuccessAt: string | null;
  upstreamHead: string | null;
}

const FAILING: readonly ScanOutcome[] = ["diverged", "failed"];

export function isFailing(outcome: ScanOutcome | null): boolean {
  return outcome !== null && FAILING.includes(outcome);
}

/**
 * What an operator is told about a tracking's last scan: `pending` until it was scanned once
 * (never `ok` for what was not checked), `waiting: <forge> unreachable since …` while its forge's
 * circuit breaker holds it back, else the outcome itself.
 */
export function outcomeText(
  status: Pick<TrackingStatus, "lastScanAt" | "lastOutcome" | "lastError">,
): string {
  if (status.lastScanAt === null || status.lastOutcome === null) return "pending";
  if (status.lastOutcome === "waiting")
    return `waiting: ${status.lastError ?? "forge unreachable"}`;
  return status.lastOutcome;
}

export function recordScan(
  db: Database,
  repo: string,
  branch: string,
  result: { outcome: ScanOutcome; error?: string | null; upstreamHead?: string | null },
): void {
  const stamp = new Date().toISOString();
  const success =
    !isFailing(result.outcome) && result.outcome !== "parked" && result.outcome !== "waiting";
  db.query(
    // Only for a tracking that exists (one deleted during its scan gets no status row back): the
    // overview counts never-scanned trackings as those without one (`overview-pages.ts`).
    `INSERT INTO tracking_status (repo, branch, last_scan_at, last_outcome, last_error, last_success_at, upstream_head)
     SELECT $repo, $branch, $stamp, $outcome, $error, $success, $head
     WHERE EXISTS (SELECT 1 FROM tracking WHERE repo = $repo AND branch = $branch)
     ON CONFLICT (repo, branch) DO UPDATE SET
       last_scan_at = excluded.last_scan_at,
       last_outcome = excluded.last_outcome,
       last_error = excluded.last_error,
       last_success_at = COALESCE(excluded.last_success_at, tracking_status.last_success_at),
       upstream_head = COALESCE(excluded.upstream_head, tracking_status.upstream_head)`,
  ).run({
    repo,
    branch,
    stamp,
    outcome: result.outcome,
    error: result.error ?? null,
    success: success ? stamp : null,
    head: result.upstreamHead ?? null,
  });
}

export function getStatus(db: Database, repo: string, branch: string): TrackingStatus | null {
  const row = db
    .query<Record<string, string | null>, [string, string]>(
      "SELECT * FROM tracking_status WHERE repo = ? AND branch = ?",
    )
    .get(repo, branch);
  return row ? toStatus(row) : null;
}

function toStatus(row: Record<string, string | null>): TrackingStatus {
  return {
    repo: row.repo ?? "",
    branch: row.branch ?? "",
    lastScanAt: row.last_scan_at ?? null,
    lastOutcome: (row.last_outcome as ScanOutcome | null) ?? null,
    lastError: row.last_error ?? null,
    lastSuccessAt: row.last_success_at ?? null,
    upstreamHead: row.upstream_head ?? null,
  };
}

/** A tracking with its scan status and its newest publish runs, for operators. */
export interface TrackingOverview {
  tracking: Tracking;
  status: Omit<TrackingStatus, "repo" | "branch">;
  openRun: {
    id: number;
    workBranch: string;
    step: string;
    attempts: number;
    lastError: string | null;
    /** When the failed run may be tried again (it backs off exponentially); null: at once. */
    nextAttemptAt: string | null;
    createdAt: string;
  } | null;
  lastRun: {
    id: number;
    issueNumber: string | null;
    issueUrl: string | null;
    pullNumber: number | null;
    pullUrl: string | null;
    finishedAt: string | null;
  } | null;
  /** The tracking's backport filters; `{}` when it has none. */
  filters: TrackingFilters;
  /** The open proposal new commits join (rolling mode), with the upstream shas it holds. */
  proposal: {
    id: number;
    pullNumber: number;
    pullUrl: string | null;
    issueNumber: string;
    issueUrl: string | null;
    workBranch: string;
    commits: string[];
    openedAt: string;
  } | null;
  /** Upstream commits passed over because the package already carries them (newest first). */
  passedOver: { count: number; latest: { sha: string; reason: string }[] };
}

/** How many passed-over commits the overview lists per tracking. */
const PASSED_OVER_SHOWN = 5;

export interface OverviewRow extends Omit<TrackingRow, "id"> {
  last_scan_at: string | null;
  last_outcome: string | null;
  last_error: string | null;
  last_success_at: string | null;
  upstream_head: string | null;
  open_id: number | null;
  open_work_branch: string | null;
  open_step: string | null;
  open_attempts: number | null;
  open_error: string | null;
  open_next_attempt_at: string | null;
  open_created_at: string | null;
  done_id: number | null;
  done_issue_number: string | null;
  done_issue_url: string | null;
  done_pull_number: number | null;
  done_pull_url: string | null;
  done_finished_at: string | null;
  filter_message_pattern: string | null;
  filter_include_paths: string | null;
  filter_exclude_paths: string | null;
  p_id: number | null;
  p_pull_number: number | null;
  p_pull_url: string | null;
  p_issue_number: string | null;
  p_issue_url: string | null;
  p_work_branch: string | null;
  p_created_at: string | null;
  p_commits: string | null;
  passed_count: number;
  passed_latest: string;
}

/**
 * The columns and joins of an overview row: the tracking `t` with its status `s`, its open run `o`
 * and its newest finished run `d`. Callers add their WHERE, ORDER BY and LIMIT.
 */
export const OVERVIEW_SELECT = `SELECT t.version_control, t.scm_repo, t.scm_branch, t.scm_commit, t.repo, t.branch, t.enabled,
              s.last_scan_at, s.last_outcome, s.last_error, s.last_success_at, s.upstream_head,
              o.id AS open_id, o.work_branch AS open_work_branch, o.step AS open_step,
              o.attempts AS open_attempts, o.last_error AS open_error,
              o.next_attempt_at AS open_next_attempt_at, o.created_at AS open_created_at,
              d.id AS done_id, d.issue_number AS done_issue_number, d.issue_url AS done_issue_url,
              d.pull_number AS done_pull_number, d.pull_url AS done_pull_url, d.finished_at AS done_finished_at,
              f.message_pattern AS filter_message_pattern, f.include_paths AS filter_include_paths,
              f.exclude_paths AS filter_exclude_paths,
              p.id AS p_id, p.pull_number AS p_pull_number, p.pull_url AS p_pull_url,
              p.issue_number AS p_issue_number, p.issue_url AS p_issue_url,
              p.work_branch AS p_work_branch, p.created_at AS p_created_at,
              -- CASE: the runs are looked through only for a tracking with an open proposal.
              CASE WHEN p.id IS NULL THEN NULL ELSE (SELECT json_group_array(sha) FROM (
                 SELECT c.sha FROM publish_commit c JOIN publish_run r ON r.id = c.run_id
                 WHERE r.proposal_id = p.id AND r.state = 'done' ORDER BY r.id, c.position)) END AS p_commits,
              (SELECT COUNT(*) FROM passed_over po WHERE po.repo = t.repo AND po.branch = t.branch) AS passed_count,
              (SELECT json_group_array(json_object('sha', sha, 'reason', reason)) FROM (
                 SELECT sha, reason FROM passed_over po WHERE po.repo = t.repo AND po.branch = t.branch
                 ORDER BY at DESC, rowid DESC LIMIT ${PASSED_OVER_SHOWN})) AS passed_latest
       FROM tracking t
       LEFT JOIN tracking_status s ON s.repo = t.repo AND s.branch = t.branch
       LEFT JOIN tracking_filter f ON f.repo = t.repo AND f.branch = t.branch
       LEFT JOIN publish_run o ON o.repo = t.repo AND o.branch = t.branch AND o.state = 'open'
       LEFT JOIN publish_run d ON d.id = (
         SELECT id FROM publish_run WHERE repo = t.repo AND branch = t.branch AND state = 'done'
         ORDER BY id DESC LIMIT 1)
       LEFT JOIN proposal p ON p.id = (
         SELECT id FROM proposal WHERE repo = t.repo AND branch = t.branch AND state = 'open'
         ORDER BY id DESC LIMIT 1)`;

/**
 * Overview order: failing first, then those with an open run, then by repo and branch (a tracking
 * never scanned has no status row: it counts as not failing, not as a NULL sorted apart).
 */
export const OVERVIEW_ORDER =
  "COALESCE(s.last_outcome IN ('failed', 'diverged'), 0) DESC, (o.id IS NOT NULL) DESC, t.repo, t.branch";

/** The unpaged overview's filters: exact repo and branch, only failing or open ones. */
export interface OverviewFilter {
  repo?: string;
  branch?: string;
  /** Only failing trackings and those with an open run. */
  failing?: boolean;
}

/** The WHERE of the unpaged overview, on the tracking `t`, its status `s` and its open run `o`. */
export function overviewWhere(filter: OverviewFilter) {
  return whereEquals(
    { repo: filter.repo, branch: filter.branch },
    { repo: "t.repo", branch: "t.branch" },
    filter.failing ? ["(s.last_outcome IN ('failed', 'diverged') OR o.id IS NOT NULL)"] : [],
  );
}

/**
 * Every tracking (optionally filtered) with status, open run and newest finished run, failing
 * ones first. One query; for one page of many trackings see `overview-pages.ts`.
 */
export function listOverview(db: Database, filter: OverviewFilter = {}): TrackingOverview[] {
  const where = overviewWhere(filter);
  return db
    .query<OverviewRow, Record<string, string | number>>(
      `${OVERVIEW_SELECT}${where.sql} ORDER BY ${OVERVIEW_ORDER}`,
    )
    .all(where.params)
    .map(toOverview);
}

export function toOverview(row: OverviewRow): TrackingOverview {
  return {
    tracking: toTracking(row),
    status: {
      lastScanAt: row.last_scan_at,
      lastOutcome: row.last_outcome as ScanOutcome | null,
      lastError: row.last_error,
      lastSuccessAt: row.last_success_at,
      upstreamHead: row.upstream_head,
    },
    openRun:
      row.open_id === null
        ? null
        : {
            id: row.open_id,
            workBranch: row.open_work_branch ?? "",
            step: row.open_step ?? "",
            attempts: row.open_attempts ?? 0,
            lastError: row.open_error,
            nextAttemptAt: row.open_next_attempt_at,
            createdAt: row.open_created_at ?? "",
          },
    lastRun:
      row.done_id === null
        ? null
        : {
            id: row.done_id,
            issueNumber: row.done_issue_number,
            issueUrl: row.done_issue_url,
            pullNumber: row.done_pull_number,
            pullUrl: row.done_pull_url,
            finishedAt: row.done_finished_at,
          },
    filters: toFilters({
      message_pattern: row.filter_message_pattern,
      include_paths: row.filter_include_paths,
      exclude_paths: row.filter_exclude_paths,
    }),
    proposal:
      row.p_id === null
        ? null
        : {
            id: row.p_id,
            pullNumber: row.p_pull_number ?? 0,
            pullUrl: row.p_pull_url,
            issueNumber: row.p_issue_number ?? "",
            issueUrl: row.p_issue_url,
            workBranch: row.p_work_branch ?? "",
            commits: JSON.parse(row.p_commits ?? "[]") as string[],
            openedAt: row.p_created_at ?? "",
          },
    passedOver: {
      count: row.passed_count,
      latest: JSON.parse(row.passed_latest) as { sha: string; reason: string }[],
    },
  };
}

/**
 * Records `unchanged` for a tracking that, at this moment, is enabled, stands at `head` and has
 * no open publish run: the check and the write are one statement, the whole cost of an idle
 * tracking in a scan. False, and nothing written, when it does not hold.
 */
export function recordUnchangedAt(
  db: Database,
  repo: string,
  branch: string,
  head: string,
  stamp: string,
): boolean {
  return (
    db
      .query(
        `INSERT INTO tracking_status (repo, branch, last_scan_at, last_outcome, last_error, last_success_at, upstream_head)
         SELECT t.repo, t.branch, $stamp, 'unchanged', NULL, $stamp, $head FROM tracking t
         WHERE t.repo = $repo AND t.branch = $branch AND t.enabled IS NOT NULL AND t.enabled != 0
           AND t.scm_commit = $head
           AND NOT EXISTS (SELECT 1 FROM publish_run o
                           WHERE o.repo = t.repo AND o.branch = t.branch AND o.state = 'open')
         ON CONFLICT (repo, branch) DO UPDATE SET
           last_scan_at = excluded.last_scan_at,
           last_outcome = excluded.last_outcome,
           last_error = NULL,
           last_success_at = excluded.last_success_at,
           upstream_head = excluded.upstream_head`,
      )
      .run({ repo, branch, head, stamp }).changes > 0
  );
}

/** Patches (non-empty commits of finished runs) proposed per UTC day, for the last `days` days. */
export function proposedPerDay(
  db: Database,
  days: number,
  now = new Date(),
): { day: string; patches: number }[] {
  const since = new Date(now.getTime() - (days - 1) * 86_400_000).toISOString().slice(0, 10);
  const rows = db
    .query<{ day: string; patches: number }, [string]>(
      `SELECT substr(r.finished_at, 1, 10) AS day, COUNT(*) AS patches
       FROM publish_run r JOIN publish_commit c ON c.run_id = r.id
       WHERE r.state = 'done' AND c.empty = 0 AND c.carried_as IS NULL
         AND (c.verdict IS NULL OR c.verdict NOT LIKE 'passed over:%') AND substr(r.finished_at, 1, 10) >= ?
       GROUP BY day`,
    )
    .all(since);
  const counts = new Map(rows.map((row) => [row.day, row.patches]));
  const out: { day: string; patches: number }[] = [];
  for (let i = days - 1; i >= 0; i--) {
    const day = new Date(now.getTime() - i * 86_400_000).toISOString().slice(0, 10);
    out.push({ day, patches: counts.get(day) ?? 0 });
  }
  return out;
}

/**
 * Counts of trackings by state, for the summary and metrics: each through an index, so the
 * status page's header costs milliseconds with 200,000 trackings.
 */
export function trackingCounts(db: Database): {
  total: number;
  enabled: number;
  failing: number;
  openRuns: number;
} {
  const row = db
    .query<{ total: number; enabled: number; failing: number; open_runs: number }, []>(
      `SELECT (SELECT COUNT(*) FROM tracking) AS total,
              (SELECT COUNT(*) FROM tracking) - (SELECT COUNT(*) FROM tracking
                 WHERE enabled IS NULL OR enabled < 1 OR enabled > 1) AS enabled,
              (SELECT COUNT(*) FROM tracking_status s
                 JOIN tracking t ON t.repo = s.repo AND t.branch = s.branch
                 WHERE s.last_outcome IN ('failed', 'diverged')) AS failing,
              (SELECT COUNT(*) FROM publish_run WHERE state = 'open') AS open_runs`,
    )
    .get();
  return {
    total: row?.total ?? 0,
    enabled: row?.enabled ?? 0,
    failing: row?.failing ?? 0,
    openRuns: row?.open_runs ?? 0,
  };
}
