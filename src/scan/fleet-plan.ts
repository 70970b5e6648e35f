/**
 * The fleet plan: for every enabled tracking, what a scan would do now — new commits, commits
 * the filters pass over, empty ones, and whether they would join the open proposal or open a
 * new one — with reads only. It spends requests the way a scan does: one batched head lookup
 * per upstream kind (GraphQL, 100 branches a query, or conditional requests for GitHub; one
 * `ls-remote` per URL for git), then one compare (or mirror fetch) per tracking whose head
 * moved. It asks Gitee nothing and writes nothing to Gitee or the database.
 */
import type { Database } from "bun:sqlite";
import { getFilters } from "../db/filters.ts";
import { openProposalFor } from "../db/proposals.ts";
import { openRunFor } from "../db/runs.ts";
import { listTrackings, type Tracking } from "../db/trackings.ts";
import { DivergedError } from "../errors.ts";
import { mapLimited } from "./concurrency.ts";
import { compileFilters } from "./filters.ts";
import type { PlanState } from "./plan.ts";
import { MAX_COMMITS_PER_RUN, withVerdicts } from "./scan-tracking.ts";
import type { HeadResult, Upstream } from "./upstream/types.ts";

export interface FleetPlanDeps {
  db: Database;
  upstreams: Record<Tracking["version_control"], Upstream>;
  /** `rolling`: new commits join a tracking's open proposal. */
  proposals?: "rolling" | "per-batch";
  /** Trackings read at the same time (the scanner's SCAN_CONCURRENCY). */
  concurrency?: number;
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
  /** Of those, the ones that would get a patch file. */
  proposed: number;
  /** Commits beyond this batch, left for the following run. */
  remaining: number;
  /** Would the commits open a new proposal or join the open one? */
  proposal: "new" | "extend" | null;
  reason?: string;
}

export interface FleetSummary {
  trackings: number;
  /** Commits that would get a patch file, and the proposals (new or extended) they go to. */
  commits: number;
  proposals: number;
  passedOver: number;
  failures: number;
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

/** Heads of `trackings`, one batched call per upstream kind, as the scanner asks for them. */
async function batchHeads(
  deps: FleetPlanDeps,
  trackings: readonly Tracking[],
): Promise<Map<Tracking, HeadResult>> {
  const heads = new Map<Tracking, HeadResult>();
  for (const kind of ["github", "git"] as const) {
    const items = trackings.filter((tracking) => tracking.version_control === kind);
    if (items.length === 0) continue;
    try {
      const results = await deps.upstreams[kind].heads(
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

async function planOne(
  deps: FleetPlanDeps,
  tracking: Tracking,
  head: HeadResult | undefined,
): Promise<FleetItem> {
  const item: FleetItem = {
    repo: tracking.repo,
    branch: tracking.branch,
    upstream: `${tracking.scm_repo}@${tracking.scm_branch}`,
    state: "up-to-date",
    newCommits: 0,
    passedOver: 0,
    empty: 0,
    proposed: 0,
    remaining: 0,
    proposal: null,
  };
  const open = openRunFor(deps.db, tracking.repo, tracking.branch);
  if (open) {
    return { ...item, state: "open-run", reason: `run ${open.id} is at step ${open.step}` };
  }
  if (!head) return { ...item, state: "failed", reason: "the upstream returned no head" };
  if ("error" in head) return { ...item, state: "failed", reason: describe(head.error) };
  if (!tracking.scm_commit) {
    return { ...item, state: "not-started", reason: "the first scan records the upstream head" };
  }
  if (tracking.scm_commit === head.sha) return item;
  try {
    const commits = await deps.upstreams[tracking.version_control].commitsSince(
      { repo: tracking.scm_repo, branch: tracking.scm_branch },
      tracking.scm_commit,
      head.sha,
    );
    const filter = compileFilters(getFilters(deps.db, tracking.repo, tracking.branch));
    const batch = withVerdicts(filter, commits.slice(0, MAX_COMMITS_PER_RUN));
    const passedOver = batch.filter((commit) => commit.verdict).length;
    const empty = batch.filter((commit) => commit.empty).length;
    const proposed = batch.length - passedOver - empty;
    const rolling = (deps.proposals ?? "rolling") === "rolling";
    const joins = rolling && openProposalFor(deps.db, tracking.repo, tracking.branch) !== null;
    return {
      ...item,
      state: proposed > 0 ? "would-propose" : passedOver > 0 ? "passed-over" : "up-to-date",
      newCommits: batch.length,
      passedOver,
      empty,
      proposed,
      remaining: commits.length - batch.length,
      proposal: proposed > 0 ? (joins ? "extend" : "new") : null,
    };
  } catch (error) {
    if (error instanceof DivergedError)
      return { ...item, state: "diverged", reason: error.message };
    return { ...item, state: "failed", reason: describe(error) };
  }
}

export function summarize(items: readonly FleetItem[]): FleetSummary {
  return {
    trackings: items.length,
    commits: items.reduce((sum, item) => sum + item.proposed, 0),
    proposals: items.filter((item) => item.proposal !== null).length,
    passedOver: items.reduce((sum, item) => sum + item.passedOver, 0),
    failures: items.filter((item) => item.state === "failed" || item.state === "diverged").length,
  };
}

/** The plan of the enabled trackings in [offset, offset + limit), in the order of their ids. */
export async function planFleet(
  deps: FleetPlanDeps,
  page: { offset?: number; limit?: number } = {},
): Promise<FleetPlan> {
  const enabled = listTrackings(deps.db, { enabled: true });
  const offset = page.offset ?? 0;
  const slice = enabled.slice(offset, page.limit === undefined ? undefined : offset + page.limit);
  const heads = await batchHeads(deps, slice);
  const items = await mapLimited(slice, deps.concurrency ?? 4, (tracking) =>
    planOne(deps, tracking, heads.get(tracking)),
  );
  return { total: enabled.length, offset, items, summary: summarize(items) };
}
