/**
 * The publish pipeline: carries one journaled run to the forge, step by step — the work branch
 * with its patch files and spec (one commit, proposal/files.ts), issue, pull request — then
 * advances the tracking in one transaction.
 *
 * Every step is an *ensure*: a step the journal says may have been sent before (its answer lost,
 * or the service stopped) checks what the forge already holds before writing; a step never tried
 * writes at once, since its result cannot exist yet (the branch, issue and pull request names
 * carry the run's own timestamp). The journal records each step's result before the next starts.
 * Running `executeRun` again on the same run — after an error, a lost answer, or a crash and
 * restart — continues where the forge actually is, so no branch, file, issue or pull request is
 * ever created twice and no commit is skipped.
 */
import type { Database } from "bun:sqlite";
import { getProposal } from "../db/proposals.ts";
import {
  finishRun,
  getRun,
  markUploaded,
  type PublishRun,
  type RunCommit,
  type RunStep,
  recordBaseSpec,
  recordIssue,
  recordPull,
  runCommits,
  setStep,
} from "../db/runs.ts";
import type { EnsureOutcome, Forge, RepoPath } from "../forge/types.ts";
import type { Logger } from "../log.ts";
import { downstreamRepoPath } from "../tracking-rules.ts";
import type { ApplyChecker } from "./apply-check.ts";
import type { KeyedMutex } from "./concurrency.ts";
import { filesMessage, issueTitle, pullTitle, specMessage } from "./issue-body.ts";
import { runReads } from "./plan-reads.ts";
import { getsPatchFile, patchFileChanges } from "./proposal/commits.ts";
import { extendSteps } from "./proposal/extend.ts";
import { ensureFiles } from "./proposal/files.ts";
import { judgeRun } from "./proposal/judge.ts";
import {
  issueBody,
  pullBody,
  supersededComment,
  supersededIssueComment,
} from "./proposal/render.ts";
import { editProposalSpec } from "./proposal/spec-edit.ts";
import { TrackedSpec } from "./proposal/tracked-spec.ts";
import type { BlobCache } from "./sources/blob-cache.ts";
import { createOnce } from "./unanswered-creates.ts";

/** "rolling": one open proposal per tracking that new commits join; "per-batch": one per scan. */
export type ProposalMode = "rolling" | "per-batch";

export interface PublishDeps {
  db: Database;
  forge: Forge;
  log: Logger;
  /** Serialises writes per downstream repository. */
  repoLocks: KeyedMutex;
  /** Aborted when the service stops: the run halts between steps and stays open. */
  signal?: AbortSignal;
  now?: () => Date;
  /** Default "rolling". */
  proposals?: ProposalMode;
  /** Tries each commit on the package's sources; null or absent: APPLY_CHECK is off. */
  applyChecker?: ApplyChecker | null;
  /**
   * The package file cache (GIT_BASE_PATH/source-cache), whether or not APPLY_CHECK is on: the
   * spec and carried patches are read by blob sha through it. Absent: read from the forge.
   */
  sourceCache?: BlobCache | null;
  /**
   * How long a create that got no answer may still land before it is sent again (default
   * SETTLE_MS; scan/unanswered-creates.ts).
   */
  settleMs?: number;
}

/** Thrown between steps when the service is stopping; the run resumes on the next start. */
export class StoppingError extends Error {
  constructor() {
    super("the service is stopping; the run will resume on the next start");
    this.name = "StoppingError";
  }
}

export function parseRepoPath(repo: string): RepoPath {
  const path = downstreamRepoPath(repo);
  const [owner, name] = (path ?? "").split("/");
  if (!owner || !name) throw new Error(`not a downstream repository: ${repo}`);
  return { owner, name };
}

/** Runs (or resumes) `run` to completion. Throws the forge's typed errors; the run stays open. */
export async function executeRun(outer: PublishDeps, initial: PublishRun): Promise<PublishRun> {
  const repo = parseRepoPath(initial.repo);
  return outer.repoLocks.run(`${repo.owner}/${repo.name}`, async () => {
    const run = getRun(outer.db, initial.id) ?? initial;
    if (run.state !== "open") return run;
    // One read-through view per attempt: the carried check, the apply check, the spec edit and the
    // extend step share one listing of the package and one pull request state (plan-reads.ts).
    const deps = { ...outer, forge: runReads(outer.forge, outer.sourceCache ?? null) };
    // One read of the tracked spec serves the carried check and the spec edit.
    const spec = new TrackedSpec(deps.forge, repo, run.branch);
    if (!(await judgeRun(deps, repo, run, spec))) return getRun(deps.db, run.id) ?? run;
    if (run.kind === "extend") {
      const extended = await extendSteps(deps, repo, initial.id, spec);
      // Null: the proposal could take no more commits and the run now opens a new one.
      if (extended) return extended;
    }
    return publishSteps(deps, repo, initial.id, spec);
  });
}

/** Throws StoppingError when the service is stopping (checked between steps). */
export function checkpoint(deps: PublishDeps): void {
  if (deps.signal?.aborted) throw new StoppingError();
}

/**
 * Closes the proposal `oldId` replaced by the run's new pull request: its pull request and its
 * issue each get a comment linking the successor, then are closed. Every call is safe to repeat
 * (a resumed run looks for each comment first; closing a closed one changes nothing), so the
 * journal's one "supersede" step covers them all.
 */
async function closeSuperseded(
  deps: PublishDeps,
  repo: RepoPath,
  runId: number,
  oldId: number,
  successor: { pull: { number: number; url: string }; issue: { number: string } },
): Promise<void> {
  const old = getProposal(deps.db, oldId);
  if (!old) return;
  const why =
    "the spec on the tracked branch changed under it, so it could no longer merge cleanly";
  const pullComment = supersededComment(successor.pull.number, successor.pull.url, why);
  await createOnce(deps, runId, `comment on !${old.pullNumber}`, true, (mayExist, beforeSend) =>
    deps.forge.ensurePullComment(repo, old.pullNumber, pullComment, mayExist, beforeSend),
  );
  await deps.forge.closePull(repo, old.pullNumber);
  const issueComment = supersededIssueComment(
    { pull: successor.pull.number, pullUrl: successor.pull.url, issue: successor.issue.number },
    why,
  );
  await createOnce(deps, runId, `comment on #${old.issueNumber}`, true, (mayExist, beforeSend) =>
    deps.forge.ensureIssueComment(repo, old.issueNumber, issueComment, mayExist, beforeSend),
  );
  await deps.forge.closeIssue(repo, old.issueNumber);
  deps.log.info("superseded proposal closed", {
    pull: old.pullNumber,
    issue: old.issueNumber,
    successor: successor.pull.number,
  });
}

/**
 * Where each step stands in a new run: a step at or before the one the run resumed at may have
 * been sent already, so it reads the forge back first; a later one has never been tried and writes
 * at once. "patches" and "spec" are the steps of runs journaled before the files were one commit.
 */
const NEW_RUN_ORDER: Partial<Record<RunStep, number>> = {
  branch: 0,
  patches: 1,
  spec: 1,
  files: 1,
  issue: 2,
  pull: 3,
  supersede: 4,
  finish: 5,
};

async function publishSteps(
  deps: PublishDeps,
  repo: RepoPath,
  runId: number,
  spec: TrackedSpec,
): Promise<PublishRun> {
  const { db, forge } = deps;
  const current = () => {
    const run = getRun(db, runId);
    if (!run) throw new Error(`publish run ${runId} vanished from the journal`);
    return run;
  };
  const check = () => checkpoint(deps);
  let run = current();
  if (run.state !== "open") return run;
  const log = deps.log.child({ run: run.id, tracking: `${run.repo}:${run.branch}` });
  const commits = runCommits(db, run.id);
  // A step this pipeline does not know is taken as "may have been sent": read back first.
  const resumedAt = NEW_RUN_ORDER[run.step] ?? 1;
  const mayExist = (step: RunStep) => resumedAt >= (NEW_RUN_ORDER[step] ?? 0);

  if (resumedAt <= (NEW_RUN_ORDER.files ?? 0)) {
    check();
    setStep(db, run.id, "files");
    const outcome = await ensureNewFiles(deps, repo, run, commits, spec, mayExist("files"));
    log.info("work branch and files ready", { branch: run.workBranch, outcome });
  }

  run = current();
  let issue = run.issueNumber ? { number: run.issueNumber, url: run.issueUrl ?? "" } : null;
  if (!issue) {
    check();
    setStep(db, run.id, "issue");
    const title = issueTitle(run.branch, run.timestamp);
    const body = issueBody(commits, run.notes);
    const made = await createOnce(deps, run.id, "issue", mayExist("issue"), (look, beforeSend) =>
      forge.ensureIssue(repo, title, body, look, beforeSend),
    );
    recordIssue(db, run.id, made);
    log.info("issue ready", { issue: made.number, outcome: made.outcome });
    issue = made;
  }

  let pull = run.pullNumber !== null ? { number: run.pullNumber, url: run.pullUrl ?? "" } : null;
  if (!pull) {
    check();
    setStep(db, run.id, "pull");
    const request = {
      head: run.workBranch,
      base: run.branch,
      title: pullTitle(run.timestamp),
      body: pullBody(issue.number, run.applySummary),
    };
    const made = await createOnce(
      deps,
      run.id,
      "pull request",
      mayExist("pull"),
      (look, beforeSend) => forge.ensurePull(repo, request, look, beforeSend),
    );
    recordPull(db, run.id, made);
    log.info("pull request ready", { pull: made.number, outcome: made.outcome });
    pull = made;
  }

  if (run.supersedes !== null) {
    check();
    setStep(db, run.id, "supersede");
    await closeSuperseded(deps, repo, run.id, run.supersedes, { pull, issue });
  }

  setStep(db, run.id, "finish");
  finishRun(db, current(), { keepPatches: (deps.proposals ?? "rolling") === "rolling" });
  log.info("run finished", { head: run.headCommit, commits: commits.length });
  return current();
}

/**
 * The new proposal's work branch with its patch files and spec, made by one commit from the
 * tracked branch. The spec is edited from the tracked branch's copy (already read to look for
 * carried patches), so nothing is read before the write on a first attempt. The editor's notes for
 * the issue and the spec's blob sha (the proposal's base) are journaled before the write.
 */
async function ensureNewFiles(
  deps: PublishDeps,
  repo: RepoPath,
  run: PublishRun,
  commits: readonly RunCommit[],
  spec: TrackedSpec,
  mayExist: boolean,
): Promise<EnsureOutcome> {
  const patched = commits.filter((commit) => getsPatchFile(commit));
  const changes = patchFileChanges(run, patched);
  const base = await spec.read();
  const edited = editProposalSpec(deps, repo, run, commits, base);
  // The spec this proposal starts from: a later extension checks the tracked branch still has it.
  recordBaseSpec(deps.db, run.id, base?.sha ?? "");
  if (edited) {
    changes.push({
      action: base ? "update" : "create",
      path: spec.path,
      content: edited.content,
      sha: base?.sha,
      message: specMessage(run.timestamp, edited.created),
    });
  }
  const specAction = edited ? (base ? "update" : "create") : null;
  const outcome = await ensureFiles(
    deps.forge,
    repo,
    {
      branch: run.workBranch,
      startBranch: run.branch,
      message: filesMessage(run.timestamp, patched, specAction),
      changes,
      mayExist,
    },
    deps.log,
  );
  for (const commit of patched) markUploaded(deps.db, run.id, commit.position);
  return outcome;
}
