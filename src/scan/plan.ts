/**
 * The dry run: what a scan of one tracking would propose right now — commits (with those the
 * package already carries and the apply check's verdicts), patch files, the spec diff, the issue and pull request, and whether
 * they would join the tracking's open proposal — computed with reads only. Nothing is written to
 * the forge or the database.
 */
import type { Database } from "bun:sqlite";
import { getFilters } from "../db/filters.ts";
import { openProposalFor, type Proposal } from "../db/proposals.ts";
import { openRunFor, proposalCommits } from "../db/runs.ts";
import { getTracking, type Tracking } from "../db/trackings.ts";
import { DivergedError } from "../errors.ts";
import type { Forge, RepoPath } from "../forge/types.ts";
import { type ApplyChecker, summaryLine, verdictText } from "./apply-check.ts";
import { makeTimestamp, workBranchName } from "./branch-name.ts";
import { compileFilters, isPassedOver, type TrackingFilters } from "./filters.ts";
import { type ForgeHolds, holdOf, upstreamHold } from "./forge-holds.ts";
import { issueTitle, patchFileName, pullTitle } from "./issue-body.ts";
import { findCarried } from "./proposal/carried.ts";
import {
  ALREADY_APPLIED,
  carriedVerdict,
  getsPatchFile,
  type ProposalCommit,
} from "./proposal/commits.ts";
import { patchesBefore } from "./proposal/extend.ts";
import { issueBody, pullBody } from "./proposal/render.ts";
import { type ProposalMode, parseRepoPath } from "./publish.ts";
import { MAX_COMMITS_PER_RUN, withVerdicts } from "./scan-tracking.ts";
import { editSpec, SpecEditError } from "./spec.ts";
import { unifiedDiff } from "./text-diff.ts";
import type { HeadResult, Upstream } from "./upstream/types.ts";

export type PlanState =
  | "not-started" // no scm_commit: the first scan records the head
  | "up-to-date"
  | "open-run" // a journaled run is still being published; it is resumed first
  | "diverged"
  | "passed-over" // every new commit is empty, passed over by the filters or already carried
  | "would-propose"
  // a forge it needs is behind an open breaker or parked by a rate limit: not asked (see reason)
  | "not-checked";

/** What would happen to the tracking's open proposal (rolling mode). */
export type ProposalAction =
  | "extend" // the new commits join it
  | "replace" // the tracked spec changed under it: a successor with all its commits and the new ones
  | "merged" // it was merged: the new commits open a new proposal
  | "closed"; // closed without merging: its commits are declined; the new ones open a new proposal

export interface Plan {
  tracking: Tracking;
  state: PlanState;
  upstreamHead: string | null;
  reason?: string;
  commits: {
    sha: string;
    date: string;
    subject: string;
    empty: boolean;
    /**
     * `passed over: <filter>` when the filters keep the commit out of the proposal,
     * "already carried as backport-fix.patch", else the apply check's verdict (`applies`,
     * `conflict (a.c)`, `already applied`, ...) when it ran.
     */
    verdict: string | null;
    patchFile: string | null;
    patchBytes: number;
  }[];
  /** How many listed commits the filters pass over. */
  passedOver: number;
  /** The tracking's backport filters (`{}` when none). */
  filters: TrackingFilters;
  /** The apply check's summary line, which would start the pull request body or the comment. */
  applySummary?: string;
  /** Commits beyond one run's limit, left for the following run. */
  remainingCommits: number;
  /** The tracking's open proposal, and what a scan would do with it. */
  proposal?: {
    action: ProposalAction;
    pullNumber: number;
    pullUrl: string | null;
    issueNumber: string;
    /** Upstream shas it holds now. */
    commits: string[];
  };
  workBranch?: string;
  spec?: { path: string; created: boolean; diff: string; notes: string[]; error?: string };
  issue?: { title: string; body: string };
  /** `number` when the commits would join that open pull request; `body` when one would open. */
  pull?: { title: string; head: string; base: string; body?: string; number?: number };
}

export interface PlanDeps {
  /** Tries each commit on the package's sources; null or absent: APPLY_CHECK is off. */
  applyChecker?: ApplyChecker | null;
  db: Database;
  forge: Forge;
  upstreams: Record<Tracking["version_control"], Upstream>;
  now?: () => Date;
  /** Default "rolling". */
  proposals?: ProposalMode;
  /**
   * The scanner's breakers and rate-limit parking: a forge a scan would not ask now is not asked
   * by the plan either (absent: every forge is asked).
   */
  holds?: ForgeHolds;
  /** The downstream forge's name for its breaker; default `gitee`. */
  downstreamForge?: string;
}

export async function planTracking(
  deps: PlanDeps,
  repo: string,
  branch: string,
): Promise<Plan | null> {
  const tracking = getTracking(deps.db, repo, branch);
  if (!tracking) return null;
  const ref = { repo: tracking.scm_repo, branch: tracking.scm_branch };
  const held = deps.holds ? upstreamHold(deps.holds, tracking) : null;
  const [headResult] = held ? [] : await deps.upstreams[tracking.version_control].heads([ref]);
  return planFromHead(deps, tracking, headResult);
}

/**
 * The plan of `tracking` given its upstream head (the fleet plan looks heads up in batches, as
 * the scanner does). Throws what the upstream throws, except a rewritten history ("diverged").
 */
export async function planFromHead(
  deps: PlanDeps,
  tracking: Tracking,
  headResult: HeadResult | undefined,
): Promise<Plan> {
  const { repo, branch } = tracking;
  const upstream = deps.upstreams[tracking.version_control];
  const ref = { repo: tracking.scm_repo, branch: tracking.scm_branch };
  const unknown: Plan = {
    tracking,
    state: "up-to-date",
    upstreamHead: headResult && "sha" in headResult ? headResult.sha : null,
    commits: [],
    remainingCommits: 0,
    passedOver: 0,
    filters: getFilters(deps.db, repo, branch),
  };
  const open = openRunFor(deps.db, repo, branch);
  if (open) {
    return {
      ...unknown,
      state: "open-run",
      reason: `run ${open.id} (${open.workBranch}) is at step ${open.step}`,
    };
  }
  // As a scan: an upstream behind an open breaker or parked is not asked (its head was not
  // looked up either).
  const upstreamHeld = deps.holds ? upstreamHold(deps.holds, tracking) : null;
  if (upstreamHeld) return { ...unknown, state: "not-checked", reason: upstreamHeld.reason };
  if (!headResult) throw new Error("the upstream returned no head");
  if ("error" in headResult) throw headResult.error;
  const head = headResult.sha;
  const base: Plan = { ...unknown, upstreamHead: head };
  if (!tracking.scm_commit)
    return { ...base, state: "not-started", reason: "the first scan records the upstream head" };
  if (tracking.scm_commit === head) return base;

  let commits: Awaited<ReturnType<Upstream["commitsSince"]>>;
  try {
    commits = await upstream.commitsSince(ref, tracking.scm_commit, head);
  } catch (error) {
    if (error instanceof DivergedError)
      return { ...base, state: "diverged", reason: error.message };
    throw error;
  }
  const batch = withVerdicts(compileFilters(base.filters), commits.slice(0, MAX_COMMITS_PER_RUN));
  const remainingCommits = commits.length - batch.length;
  const passedOver = batch.filter((commit) => isPassedOver(commit.verdict)).length;
  const repoPath = parseRepoPath(tracking.repo);
  // As a scan: the downstream forge is asked only for commits to propose, and not while held.
  const downstreamHeld =
    deps.holds && !batch.every((commit) => commit.empty || commit.verdict)
      ? holdOf(deps.holds, deps.downstreamForge ?? "gitee", "gitee", "Gitee")
      : null;
  if (downstreamHeld) {
    return {
      ...base,
      state: "not-checked",
      reason: downstreamHeld.reason,
      commits: batch.map((commit) => listedCommit(commit, commit.verdict, null)),
      passedOver,
      remainingCommits,
    };
  }
  // Commits the filters pass over are not compared with the carried patches (no read for them).
  const carried = await findCarried(
    { db: deps.db, forge: deps.forge, remember: false },
    repoPath,
    tracking.branch,
    batch.filter((commit) => !commit.verdict),
  );
  // The apply check tries only the commits the filters let through and the package lacks.
  const checked = await planVerdicts(
    deps,
    repoPath,
    tracking,
    batch.filter((commit) => !commit.verdict && !carried.has(commit.sha)),
  );
  const judged: ProposalCommit[] = batch.map((commit) => {
    const file = carried.get(commit.sha) ?? null;
    const verdict = file
      ? carriedVerdict(file)
      : (commit.verdict ?? checked.verdicts.get(commit.sha) ?? null);
    return { ...commit, carriedAs: file, verdict };
  });
  const listed = judged.map((commit, index) =>
    listedCommit(
      commit,
      commit.verdict ?? null,
      getsPatchFile(commit)
        ? { file: patchFileName(commit.sha), bytes: batch[index]?.patch.length ?? 0 }
        : null,
    ),
  );
  if (!judged.some(getsPatchFile)) {
    if (batch.every((commit) => commit.empty))
      return { ...base, commits: listed, remainingCommits };
    return {
      ...base,
      state: "passed-over",
      // The filters alone need no reason: the dry run names them.
      ...(judged.some((commit) => commit.carriedAs || commit.verdict === ALREADY_APPLIED)
        ? {
            reason:
              "every new commit is empty, passed over by the filters, already carried or already applied",
          }
        : {}),
      commits: listed,
      passedOver,
      remainingCommits,
    };
  }

  const now = (deps.now ?? (() => new Date()))();
  const specPath = `${repoPath.name}.spec`;
  const tracked = await deps.forge.readFile(repoPath, tracking.branch, specPath);
  const target = await proposalTarget(deps, repoPath, tracking, tracked?.sha ?? "");
  // The commits the proposal's spec and issue will cover, and the spec the diff starts from.
  let all: ProposalCommit[] = judged;
  let before = tracked ? new TextDecoder().decode(tracked.content) : "";
  let timestamp = makeTimestamp(now);
  if (target && (target.action === "extend" || target.action === "replace")) {
    all = [...proposalCommits(deps.db, target.proposal.id), ...judged];
  }
  if (target?.action === "extend") {
    timestamp = target.proposal.timestamp;
    const work = await deps.forge.readFile(repoPath, target.proposal.workBranch, specPath);
    before = work ? new TextDecoder().decode(work.content) : "";
  }
  const first = all[0];
  const last = all.at(-1);
  let spec: NonNullable<Plan["spec"]>;
  try {
    const edited = editSpec({
      spec: tracked ? new TextDecoder().decode(tracked.content) : null,
      packageName: repoPath.name,
      patches: all
        .filter(getsPatchFile)
        .map((commit) => ({ sha: commit.sha, fileName: patchFileName(commit.sha) })),
      fromSha: first?.sha ?? "",
      toSha: last?.sha ?? "",
      date: now,
    });
    spec = {
      path: specPath,
      created: edited.created,
      diff: await unifiedDiff(specPath, before, edited.text),
      notes: edited.notes,
    };
  } catch (error) {
    if (!(error instanceof SpecEditError)) throw error;
    spec = { path: specPath, created: false, diff: "", notes: [], error: error.reason };
  }
  const extending = target?.action === "extend" ? target.proposal : null;
  const workBranch = extending?.workBranch ?? workBranchName(timestamp);
  return {
    ...base,
    state: "would-propose",
    commits: listed,
    passedOver,
    remainingCommits,
    ...(target
      ? {
          proposal: {
            action: target.action,
            pullNumber: target.proposal.pullNumber,
            pullUrl: target.proposal.pullUrl,
            issueNumber: target.proposal.issueNumber,
            commits: proposalCommits(deps.db, target.proposal.id).map((commit) => commit.sha),
          },
        }
      : {}),
    workBranch,
    spec,
    ...(checked.summary ? { applySummary: checked.summary } : {}),
    issue: { title: issueTitle(tracking.branch, timestamp), body: issueBody(all, spec.notes) },
    pull: {
      title: pullTitle(timestamp),
      head: workBranch,
      base: tracking.branch,
      ...(extending
        ? { number: extending.pullNumber }
        : { body: pullBody("<issue>", checked.summary) }),
    },
  };
}

/** A commit as the plan lists it. */
function listedCommit(
  commit: { sha: string; date: string; message: string; empty: boolean },
  verdict: string | null,
  patch: { file: string; bytes: number } | null,
): Plan["commits"][number] {
  return {
    sha: commit.sha,
    date: commit.date,
    subject: commit.message.split("\n")[0] ?? "",
    empty: commit.empty,
    verdict,
    patchFile: patch?.file ?? null,
    patchBytes: patch?.bytes ?? 0,
  };
}

/** The open proposal (rolling mode) and what a scan would do with it; null when there is none. */
async function proposalTarget(
  deps: PlanDeps,
  repo: RepoPath,
  tracking: Tracking,
  trackedSpecSha: string,
): Promise<{ proposal: Proposal; action: ProposalAction } | null> {
  if ((deps.proposals ?? "rolling") !== "rolling") return null;
  const proposal = openProposalFor(deps.db, tracking.repo, tracking.branch);
  if (!proposal) return null;
  const state = await deps.forge.pullState(repo, proposal.pullNumber);
  if (state === "merged") return { proposal, action: "merged" };
  if (state === "closed") return { proposal, action: "closed" };
  if (proposal.baseSpecSha !== null && proposal.baseSpecSha !== trackedSpecSha)
    return { proposal, action: "replace" };
  return { proposal, action: "extend" };
}

/** The apply check's verdicts for the dry run, by sha (nothing when the check is off). */
async function planVerdicts(
  deps: PlanDeps,
  repo: RepoPath,
  tracking: Tracking,
  commits: readonly { sha: string; empty: boolean; patch: Uint8Array }[],
): Promise<{ verdicts: Map<string, string>; summary: string | null }> {
  const verdicts = new Map<string, string>();
  const candidates = commits.filter((commit) => !commit.empty);
  if (!deps.applyChecker || candidates.length === 0) return { verdicts, summary: null };
  // Commits that would join the open proposal are tried after its patches, as a scan does.
  const earlier =
    (deps.proposals ?? "rolling") === "rolling"
      ? await patchesBefore(deps, repo, openProposalFor(deps.db, tracking.repo, tracking.branch))
      : [];
  const checked = await deps.applyChecker.check(
    repo,
    tracking.branch,
    [...earlier, ...candidates],
    deps.forge,
  );
  const report = { ...checked, verdicts: checked.verdicts.slice(earlier.length) };
  candidates.forEach((commit, i) => {
    const verdict = report.verdicts[i];
    if (verdict) verdicts.set(commit.sha, verdictText(verdict));
  });
  return { verdicts, summary: summaryLine(report) };
}
