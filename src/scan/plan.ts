/**
 * The dry run: what a scan of one tracking would propose right now — commits, patch files, the
 * spec diff, the issue and pull request — computed with reads only. Nothing is written to the
 * forge or the database.
 */
import type { Database } from "bun:sqlite";
import { getFilters } from "../db/filters.ts";
import { openRunFor } from "../db/runs.ts";
import { getTracking, type Tracking } from "../db/trackings.ts";
import { DivergedError } from "../errors.ts";
import type { Forge } from "../forge/types.ts";
import { type ApplyChecker, summaryLine, verdictText } from "./apply-check.ts";
import { makeTimestamp, workBranchName } from "./branch-name.ts";
import { compileFilters, type TrackingFilters } from "./filters.ts";
import { issueTitle, patchFileName, pullTitle } from "./issue-body.ts";
import { ALREADY_APPLIED } from "./proposal/commits.ts";
import { issueBody, pullBody } from "./proposal/render.ts";
import { parseRepoPath } from "./publish.ts";
import { MAX_COMMITS_PER_RUN, withVerdicts } from "./scan-tracking.ts";
import { editSpec, SpecEditError } from "./spec.ts";
import { unifiedDiff } from "./text-diff.ts";
import type { Upstream } from "./upstream/types.ts";

export type PlanState =
  | "not-started" // no scm_commit: the first scan records the head
  | "up-to-date"
  | "open-run" // a journaled run is still being published; it is resumed first
  | "diverged"
  | "passed-over" // the filters pass over every new commit: scm_commit advances, nothing proposed
  | "would-propose";

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
     * `passed over: <filter>` when the filters keep the commit out of the proposal, else the
     * apply check's verdict (`applies`, `conflict (a.c)`, `already applied`, ...) when it ran.
     */
    verdict: string | null;
    patchFile: string | null;
    patchBytes: number;
  }[];
  /** How many listed commits the filters pass over. */
  passedOver: number;
  /** The tracking's backport filters (`{}` when none). */
  filters: TrackingFilters;
  /** The apply check's summary line, which would start the pull request body. */
  applySummary?: string;
  /** Commits beyond one run's limit, left for the following run. */
  remainingCommits: number;
  workBranch?: string;
  spec?: { path: string; created: boolean; diff: string; notes: string[]; error?: string };
  issue?: { title: string; body: string };
  pull?: { title: string; head: string; base: string; body?: string };
}

export interface PlanDeps {
  /** Tries each commit on the package's sources; null or absent: APPLY_CHECK is off. */
  applyChecker?: ApplyChecker | null;
  db: Database;
  forge: Forge;
  upstreams: Record<Tracking["version_control"], Upstream>;
  now?: () => Date;
}

export async function planTracking(
  deps: PlanDeps,
  repo: string,
  branch: string,
): Promise<Plan | null> {
  const tracking = getTracking(deps.db, repo, branch);
  if (!tracking) return null;
  const upstream = deps.upstreams[tracking.version_control];
  const ref = { repo: tracking.scm_repo, branch: tracking.scm_branch };
  const [headResult] = await upstream.heads([ref]);
  if (!headResult) throw new Error("the upstream returned no head");
  if ("error" in headResult) throw headResult.error;
  const head = headResult.sha;
  const base: Plan = {
    tracking,
    state: "up-to-date",
    upstreamHead: head,
    commits: [],
    remainingCommits: 0,
    passedOver: 0,
    filters: getFilters(deps.db, repo, branch),
  };
  const open = openRunFor(deps.db, repo, branch);
  if (open) {
    return {
      ...base,
      state: "open-run",
      reason: `run ${open.id} (${open.workBranch}) is at step ${open.step}`,
    };
  }
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
  const decoder = new TextDecoder();
  const repoPath = parseRepoPath(tracking.repo);
  // The apply check tries only the commits the filters let through.
  const checked = await planVerdicts(
    deps,
    repoPath,
    tracking.branch,
    batch.filter((commit) => !commit.verdict),
  );
  const verdictOf = (commit: (typeof batch)[number]) =>
    commit.verdict ?? checked.verdicts.get(commit.sha) ?? null;
  const listed = batch.map((commit) => {
    const verdict = verdictOf(commit);
    const patched = !commit.empty && !commit.verdict && verdict !== ALREADY_APPLIED;
    return {
      sha: commit.sha,
      date: commit.date,
      subject: commit.message.split("\n")[0] ?? "",
      empty: commit.empty,
      verdict,
      patchFile: patched ? patchFileName(commit.sha) : null,
      patchBytes: patched ? commit.patch.length : 0,
    };
  });
  const passedOver = batch.filter((commit) => commit.verdict).length;
  const first = batch[0];
  const last = batch.at(-1);
  if (!first || !last || listed.every((commit) => commit.patchFile === null)) {
    return {
      ...base,
      state: passedOver > 0 ? "passed-over" : "up-to-date",
      commits: listed,
      passedOver,
      remainingCommits: commits.length - batch.length,
    };
  }

  const timestamp = makeTimestamp((deps.now ?? (() => new Date()))());
  const specPath = `${repoPath.name}.spec`;
  const file = await deps.forge.readFile(repoPath, tracking.branch, specPath);
  const before = file ? decoder.decode(file.content) : "";
  let spec: NonNullable<Plan["spec"]>;
  try {
    const edited = editSpec({
      spec: file ? before : null,
      packageName: repoPath.name,
      patches: listed.flatMap((commit) =>
        commit.patchFile ? [{ sha: commit.sha, fileName: commit.patchFile }] : [],
      ),
      fromSha: first.sha,
      toSha: last.sha,
      date: (deps.now ?? (() => new Date()))(),
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
  const workBranch = workBranchName(timestamp);
  return {
    ...base,
    state: "would-propose",
    commits: listed,
    passedOver,
    remainingCommits: commits.length - batch.length,
    workBranch,
    spec,
    ...(checked.summary ? { applySummary: checked.summary } : {}),
    issue: {
      title: issueTitle(tracking.branch, timestamp),
      body: issueBody(
        batch.map((commit) => ({ ...commit, verdict: verdictOf(commit) })),
        spec.notes,
      ),
    },
    pull: {
      title: pullTitle(timestamp),
      head: workBranch,
      base: tracking.branch,
      body: pullBody("<issue>", checked.summary),
    },
  };
}

/** The apply check's verdicts for the dry run, by sha (nothing when the check is off). */
async function planVerdicts(
  deps: PlanDeps,
  repo: ReturnType<typeof parseRepoPath>,
  branch: string,
  commits: readonly { sha: string; empty: boolean; patch: Uint8Array }[],
): Promise<{ verdicts: Map<string, string>; summary: string | null }> {
  const verdicts = new Map<string, string>();
  const candidates = commits.filter((commit) => !commit.empty);
  if (!deps.applyChecker || candidates.length === 0) return { verdicts, summary: null };
  const report = await deps.applyChecker.check(repo, branch, candidates);
  candidates.forEach((commit, i) => {
    const verdict = report.verdicts[i];
    if (verdict) verdicts.set(commit.sha, verdictText(verdict));
  });
  return { verdicts, summary: summaryLine(report) };
}
