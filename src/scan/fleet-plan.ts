/**
 * The fleet plan: for every enabled tracking, the dry run of scan/plan.ts — one code path for a
 * tracking's plan — condensed to what an operator scans down a list for: new commits, commits
 * the filters pass over, those the package already carries, the apply check's verdicts, and
 * whether they would join the open proposal or open a new one. Reads only.
 *
 * It spends requests the way a scan does: one batched head lookup per upstream kind (GraphQL,
 * 100 branches a query, or conditional requests for GitHub; one `ls-remote` per URL for git),
 * then one compare (or mirror fetch) per tracking whose head moved. Gitee is asked only about
 * trackings with commits left to propose after the filters: one listing of the package's root,
 * the spec and carried patches by blob sha through the on-disk source cache (read once per
 * content), the open proposal's pull request state and its work branch's listing (plan-reads.ts).
 *
 * A page of the plan is read from the database by itself (not by listing the fleet), then looked
 * up and planned a chunk at a time (one GitHub head query's worth), so its memory does not grow
 * with the fleet.
 */

import { trackingPage } from "../db/tracking-pages.ts";
import type { Tracking } from "../db/trackings.ts";
import type { Logger } from "../log.ts";
import { verdictKind } from "./apply-check.ts";
import { mapLimited } from "./concurrency.ts";
import { upstreamHold } from "./forge-holds.ts";
import {
  type Plan,
  type PlanDeps,
  type PlanState,
  type ProposalAction,
  planFromHead,
} from "./plan.ts";
import { isCarriedVerdict } from "./proposal/commits.ts";
import type { HeadResult } from "./upstream/types.ts";

export interface FleetPlanDeps {
  /**
   * The dry run's dependencies, asked for once per tracking: each tracking gets its own
   * read-only view of the forge (plan-reads.ts), so no listing outlives its plan.
   */
  planDeps: () => PlanDeps;
  /** Trackings planned at the same time (the scanner's SCAN_CONCURRENCY). */
  concurrency?: number;
  /** Progress lines of a long plan, at most one per `progressEveryMs`. */
  log?: Logger;
  /** Default {@link PROGRESS_EVERY_MS}. */
  progressEveryMs?: number;
}

/**
 * Trackings looked up and planned together: one GitHub head query holds 100 branches. A page
 * holds one chunk's heads and plans in flight at a time, however many trackings it covers.
 */
export const PLAN_CHUNK = 100;
/** Milliseconds between two progress lines of one plan. */
export const PROGRESS_EVERY_MS = 5_000;

/** The apply check's verdicts over the commits it tried (null: it did not run). */
export interface FleetApplyCounts {
  applies: number;
  alreadyApplied: number;
  conflicts: number;
  notChecked: number;
}

export interface FleetItem {
  repo: string;
  branch: string;
  upstream: string;
  state: PlanState | "failed";
  /** Commits after `scm_commit` in the next batch (at most one run's worth). */
  newCommits: number;
  /** Of those, the ones the filters pass over. */
  passedOver: number;
  /** Of those, the empty ones. */
  empty: number;
  /** Of those, the ones the package already carries (a Patch file with the same patch id). */
  carried: number;
  /** The apply check's verdicts (null when it is off or had nothing to try). */
  applyCheck: FleetApplyCounts | null;
  /** Of those, the ones that would get a patch file. */
  proposed: number;
  /** Commits beyond this batch, left for the following run. */
  remaining: number;
  /**
   * Would the commits open a new proposal, join the open one, or replace it (the tracked spec
   * changed under it: a successor holds its commits and these)?
   */
  proposal: "new" | "extend" | "replace" | null;
  /** The tracking's proposal in rolling mode, and what the scan would do with it. */
  openProposal: { pull: number; action: ProposalAction } | null;
  /** Why the spec could not be edited (the proposal would go ahead and say so). */
  specError?: string;
  reason?: string;
}

export interface FleetSummary {
  trackings: number;
  /** Commits that would get a patch file, and the proposals (new or extended) they go to. */
  commits: number;
  proposals: number;
  /** Of `proposals`, those joining an open one. */
  extending: number;
  passedOver: number;
  carried: number;
  alreadyApplied: number;
  conflicts: number;
  failures: number;
  /** Trackings not looked at: a forge they need is unreachable or rate limited (see reason). */
  notChecked: number;
}

export interface FleetPlan {
  /** Enabled trackings in total; `items` covers [offset, offset + items.length). */
  total: number;
  offset: number;
  items: FleetItem[];
  summary: FleetSummary;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Heads of `trackings`, one batched call per upstream kind, as the scanner asks for them; none for
 * a tracking whose upstream a scan would not ask now (open breaker, rate limit).
 */
async function batchHeads(
  { upstreams, holds }: PlanDeps,
  trackings: readonly Tracking[],
): Promise<Map<Tracking, HeadResult>> {
  const heads = new Map<Tracking, HeadResult>();
  for (const kind of ["github", "git"] as const) {
    const items = trackings.filter(
      (tracking) => tracking.version_control === kind && !(holds && upstreamHold(holds, tracking)),
    );
    if (items.length === 0) continue;
    try {
      const results = await upstreams[kind].heads(
        items.map((tracking) => ({ repo: tracking.scm_repo, branch: tracking.scm_branch })),
      );
      items.forEach((tracking, index) => {
        const result = results[index];
        if (result) heads.set(tracking, result);
      });
    } catch (error) {
      for (const tracking of items) heads.set(tracking, { error: error as Error });
    }
  }
  return heads;
}

function applyCounts(plan: Plan): FleetApplyCounts | null {
  const kinds = plan.commits.map((commit) => verdictKind(commit.verdict));
  if (!kinds.some((kind) => kind !== null)) return null;
  const count = (kind: string) => kinds.filter((each) => each === kind).length;
  return {
    applies: count("applies"),
    alreadyApplied: count("already applied"),
    conflicts: count("conflict"),
    notChecked: count("not checked"),
  };
}

/** A tracking's dry run as one item of the fleet plan. */
export function fleetItem(plan: Plan): FleetItem {
  const { tracking, commits } = plan;
  const proposed = commits.filter((commit) => commit.patchFile !== null).length;
  const action = plan.proposal?.action;
  return {
    repo: tracking.repo,
    branch: tracking.branch,
    upstream: `${tracking.scm_repo}@${tracking.scm_branch}`,
    state: plan.state,
    newCommits: commits.length,
    passedOver: plan.passedOver,
    empty: commits.filter((commit) => commit.empty).length,
    carried: commits.filter((commit) => isCarriedVerdict(commit.verdict)).length,
    applyCheck: applyCounts(plan),
    proposed,
    remaining: plan.remainingCommits,
    proposal:
      plan.state !== "would-propose" || proposed === 0
        ? null
        : action === "extend" || action === "replace"
          ? action
          : "new",
    openProposal: plan.proposal && action ? { pull: plan.proposal.pullNumber, action } : null,
    ...(plan.spec?.error ? { specError: plan.spec.error } : {}),
    ...(plan.reason ? { reason: plan.reason } : {}),
  };
}

async function planOne(
  deps: FleetPlanDeps,
  tracking: Tracking,
  head: HeadResult | undefined,
): Promise<FleetItem> {
  try {
    return fleetItem(await planFromHead(deps.planDeps(), tracking, head));
  } catch (error) {
    return {
      repo: tracking.repo,
      branch: tracking.branch,
      upstream: `${tracking.scm_repo}@${tracking.scm_branch}`,
      state: "failed",
      newCommits: 0,
      passedOver: 0,
      empty: 0,
      carried: 0,
      applyCheck: null,
      proposed: 0,
      remaining: 0,
      proposal: null,
      openProposal: null,
      reason: describe(error),
    };
  }
}

export function summarize(items: readonly FleetItem[]): FleetSummary {
  const sum = (of: (item: FleetItem) => number) =>
    items.reduce((total, item) => total + of(item), 0);
  return {
    trackings: items.length,
    commits: sum((item) => item.proposed),
    proposals: items.filter((item) => item.proposal !== null).length,
    extending: items.filter((item) => item.proposal === "extend").length,
    passedOver: sum((item) => item.passedOver),
    carried: sum((item) => item.carried),
    alreadyApplied: sum((item) => item.applyCheck?.alreadyApplied ?? 0),
    conflicts: sum((item) => item.applyCheck?.conflicts ?? 0),
    failures: items.filter((item) => item.state === "failed" || item.state === "diverged").length,
    notChecked: items.filter((item) => item.state === "not-checked").length,
  };
}

/** The summary of two sets of items, from theirs (pages of one plan add up). */
export function addSummaries(a: FleetSummary, b: FleetSummary): FleetSummary {
  const sum = { ...a };
  for (const key of Object.keys(sum) as (keyof FleetSummary)[]) sum[key] += b[key];
  return sum;
}

/**
 * The plan of the enabled trackings in [offset, offset + limit), in the order of their ids, read
 * and planned {@link PLAN_CHUNK} at a time (a page never holds more than its own trackings).
 */
export async function planFleet(
  deps: FleetPlanDeps,
  page: { offset?: number; limit?: number } = {},
): Promise<FleetPlan> {
  const planDeps = deps.planDeps();
  const offset = page.offset ?? 0;
  const { total, rows } = trackingPage(
    planDeps.db,
    { enabled: true },
    { offset, limit: page.limit },
  );
  const items: FleetItem[] = [];
  const started = Date.now();
  let reported = started;
  for (let start = 0; start < rows.length; start += PLAN_CHUNK) {
    const chunk = rows.slice(start, start + PLAN_CHUNK);
    const heads = await batchHeads(planDeps, chunk);
    items.push(
      ...(await mapLimited(chunk, deps.concurrency ?? 4, (tracking) =>
        planOne(deps, tracking, heads.get(tracking)),
      )),
    );
    const every = deps.progressEveryMs ?? PROGRESS_EVERY_MS;
    if (Date.now() - reported >= every && items.length < rows.length) {
      reported = Date.now();
      deps.log?.info("fleet plan progress", {
        offset,
        planned: items.length,
        of: rows.length,
        total,
        seconds: Math.round((reported - started) / 1000),
      });
    }
  }
  return { total, offset, items, summary: summarize(items) };
}
