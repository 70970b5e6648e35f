/**
 * The publish pipeline: carries one journaled run to the forge, step by step — work branch,
 * patch files, spec, issue, pull request — then advances the tracking in one transaction.
 *
 * Every step is an *ensure*: it checks what the forge already holds before writing, and the
 * journal records each step's result before the next starts. Running `executeRun` again on the
 * same run — after an error, a lost answer, or a crash and restart — continues where the forge
 * actually is, so no branch, file, issue or pull request is ever created twice and no commit is
 * skipped.
 */
import type { Database } from "bun:sqlite";
import { getProposal } from "../db/proposals.ts";
import {
  finishRun,
  getRun,
  markUploaded,
  type PublishRun,
  type RunCommit,
  recordBaseSpec,
  recordIssue,
  recordNotes,
  recordPull,
  runCommits,
  setStep,
} from "../db/runs.ts";
import { ConflictError } from "../errors.ts";
import type { Forge, RepoPath } from "../forge/types.ts";
import type { Logger } from "../log.ts";
import { downstreamRepoPath } from "../tracking-rules.ts";
import type { ApplyChecker } from "./apply-check.ts";
import type { KeyedMutex } from "./concurrency.ts";
import { issueTitle, patchFileName, pullTitle, specMessage, uploadMessage } from "./issue-body.ts";
import { getsPatchFile } from "./proposal/commits.ts";
import { extendSteps } from "./proposal/extend.ts";
import { judgeRun } from "./proposal/judge.ts";
import {
  issueBody,
  pullBody,
  supersededComment,
  supersededIssueComment,
} from "./proposal/render.ts";
import { editSpec, SpecEditError, specAlreadyHasPatches } from "./spec.ts";

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

const SPEC_ATTEMPTS = 3;

/** Runs (or resumes) `run` to completion. Throws the forge's typed errors; the run stays open. */
export async function executeRun(deps: PublishDeps, initial: PublishRun): Promise<PublishRun> {
  const repo = parseRepoPath(initial.repo);
  return deps.repoLocks.run(`${repo.owner}/${repo.name}`, async () => {
    const run = getRun(deps.db, initial.id) ?? initial;
    if (run.state !== "open") return run;
    if (!(await judgeRun(deps, repo, run))) return getRun(deps.db, run.id) ?? run;
    if (run.kind === "extend") {
      const extended = await extendSteps(deps, repo, initial.id);
      // Null: the proposal could take no more commits and the run now opens a new one.
      if (extended) return extended;
    }
    return publishSteps(deps, repo, initial.id);
  });
}

/** Throws StoppingError when the service is stopping (checked between steps). */
export function checkpoint(deps: PublishDeps): void {
  if (deps.signal?.aborted) throw new StoppingError();
}

/** Uploads the `<sha>.patch` files of `commits` not uploaded yet to the work branch. */
export async function uploadPatches(
  deps: PublishDeps,
  repo: RepoPath,
  run: PublishRun,
  commits: readonly RunCommit[],
): Promise<void> {
  for (const commit of commits) {
    if (!getsPatchFile(commit) || commit.uploaded) continue;
    checkpoint(deps);
    if (!commit.patch)
      throw new Error(`run ${run.id}: patch of ${commit.sha} missing from the journal`);
    const outcome = await deps.forge.ensureFile(
      repo,
      run.workBranch,
      patchFileName(commit.sha),
      commit.patch,
      uploadMessage(run.timestamp, commit),
    );
    markUploaded(deps.db, run.id, commit.position);
    deps.log.debug("patch file ready", { run: run.id, sha: commit.sha, outcome });
  }
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
  oldId: number,
  successor: { pull: { number: number; url: string }; issue: { number: string } },
): Promise<void> {
  const old = getProposal(deps.db, oldId);
  if (!old) return;
  const why =
    "the spec on the tracked branch changed under it, so it could no longer merge cleanly";
  await deps.forge.ensurePullComment(
    repo,
    old.pullNumber,
    supersededComment(successor.pull.number, successor.pull.url, why),
    true,
  );
  await deps.forge.closePull(repo, old.pullNumber);
  await deps.forge.ensureIssueComment(
    repo,
    old.issueNumber,
    supersededIssueComment(
      { pull: successor.pull.number, pullUrl: successor.pull.url, issue: successor.issue.number },
      why,
    ),
    true,
  );
  await deps.forge.closeIssue(repo, old.issueNumber);
  deps.log.info("superseded proposal closed", {
    pull: old.pullNumber,
    issue: old.issueNumber,
    successor: successor.pull.number,
  });
}

async function publishSteps(deps: PublishDeps, repo: RepoPath, runId: number): Promise<PublishRun> {
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

  check();
  setStep(db, run.id, "branch");
  const branchOutcome = await forge.ensureBranch(repo, run.workBranch, run.branch);
  log.info("work branch ready", { branch: run.workBranch, outcome: branchOutcome });

  setStep(db, run.id, "patches");
  await uploadPatches(deps, repo, run, commits);

  check();
  setStep(db, run.id, "spec");
  await ensureSpec(deps, repo, run, commits);

  check();
  setStep(db, run.id, "issue");
  run = current();
  const issue = await forge.ensureIssue(
    repo,
    issueTitle(run.branch, run.timestamp),
    issueBody(commits, run.notes),
  );
  recordIssue(db, run.id, issue);
  log.info("issue ready", { issue: issue.number, outcome: issue.outcome });

  check();
  setStep(db, run.id, "pull");
  const pull = await forge.ensurePull(repo, {
    head: run.workBranch,
    base: run.branch,
    title: pullTitle(run.timestamp),
    body: pullBody(issue.number, run.applySummary),
  });
  recordPull(db, run.id, pull);
  log.info("pull request ready", { pull: pull.number, outcome: pull.outcome });

  if (run.supersedes !== null) {
    check();
    setStep(db, run.id, "supersede");
    await closeSuperseded(deps, repo, run.supersedes, { pull, issue });
  }

  setStep(db, run.id, "finish");
  finishRun(db, current(), { keepPatches: (deps.proposals ?? "rolling") === "rolling" });
  log.info("run finished", { head: run.headCommit, commits: commits.length });
  return current();
}

/**
 * Makes the work branch's spec declare (and, where %prep is explicit, apply) the run's patches.
 * The editor's notes for the issue are journaled before the write, so a resumed run keeps them.
 */
async function ensureSpec(
  deps: PublishDeps,
  repo: RepoPath,
  run: PublishRun,
  commits: ReturnType<typeof runCommits>,
): Promise<void> {
  const patches = commits
    .filter((commit) => getsPatchFile(commit))
    .map((commit) => ({
      sha: commit.sha,
      fileName: patchFileName(commit.sha),
    }));
  const first = commits[0];
  const last = commits.at(-1);
  if (!first || !last) return;
  const path = `${repo.name}.spec`;
  for (let attempt = 1; ; attempt++) {
    const file = await deps.forge.readFile(repo, run.workBranch, path);
    const text = file ? new TextDecoder().decode(file.content) : null;
    if (text !== null && specAlreadyHasPatches(text, patches)) return;
    // The spec this proposal starts from: a later extension checks the tracked branch still has it.
    recordBaseSpec(deps.db, run.id, file?.sha ?? "");
    let edited: ReturnType<typeof editSpec>;
    try {
      edited = editSpec({
        spec: text,
        packageName: repo.name,
        patches,
        fromSha: first.sha,
        toSha: last.sha,
        date: (deps.now ?? (() => new Date()))(),
      });
    } catch (error) {
      if (!(error instanceof SpecEditError)) throw error;
      // Never hold back the patches over a spec this editor cannot change safely.
      recordNotes(deps.db, run.id, [
        `${path} was not updated automatically: ${error.reason}. Add the Patch lines by hand.`,
      ]);
      return;
    }
    recordNotes(deps.db, run.id, edited.notes);
    try {
      await deps.forge.writeFile(
        repo,
        run.workBranch,
        path,
        new TextEncoder().encode(edited.text),
        specMessage(run.timestamp, edited.created),
        file?.sha ?? null,
      );
      return;
    } catch (error) {
      // Someone (or a lost earlier attempt) changed the spec: read it again and decide again.
      if (!(error instanceof ConflictError) || attempt >= SPEC_ATTEMPTS) throw error;
    }
  }
}
