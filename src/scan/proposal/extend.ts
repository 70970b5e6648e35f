/**
 * Extending a rolling proposal: new upstream commits join the tracking's open pull request —
 * their patch files go onto its work branch, its spec is made again from the tracked branch's
 * spec with every commit of the proposal (so Release is bumped once and there is one changelog
 * entry), its issue lists every commit, and a comment on the pull request says what was added.
 *
 * Journaled like a publish run, each step an ensure, so a retry after a crash or a lost answer
 * repeats nothing. When the proposal can take no more commits — its pull request was merged or
 * closed, or the tracked branch's spec changed under it — the run is turned into one that opens a
 * new proposal (replacing the open one in the last case) and the caller publishes that; a merged
 * proposal's issue is closed first (proposal/merged.ts).
 */
import type { Database } from "bun:sqlite";
import { endProposal, getProposal, type Proposal } from "../../db/proposals.ts";
import {
  convertToNewProposal,
  finishRun,
  getRun,
  markUploaded,
  openingRun,
  type PublishRun,
  proposalCommits,
  type RunCommit,
  type RunStep,
  recordIssue,
  recordPull,
  runCommits,
  setStep,
} from "../../db/runs.ts";
import type { EnsureOutcome, Forge, ForgeFile, RepoPath } from "../../forge/types.ts";
import type { Logger } from "../../log.ts";
import type { CheckedCommit } from "../apply-check.ts";
import { makeTimestamp, workBranchName } from "../branch-name.ts";
import { filesMessage, patchFileName, specMessage } from "../issue-body.ts";
import { checkpoint, type PublishDeps } from "../publish.ts";
import { createOnce } from "../unanswered-creates.ts";
import { getsPatchFile, patchFileChanges } from "./commits.ts";
import { ensureFiles } from "./files.ts";
import { closeMergedIssue } from "./merged.ts";
import { extensionComment, issueBody } from "./render.ts";
import { editProposalSpec } from "./spec-edit.ts";
import type { TrackedSpec } from "./tracked-spec.ts";

/**
 * Where each step stands in an extend run (see publish.ts): a step at or before the one the run
 * resumed at may have been sent already and reads the forge back first; a later one writes at once.
 * "patches" and "spec" are the steps of runs journaled before the files were one commit.
 */
const EXTEND_RUN_ORDER: Partial<Record<RunStep, number>> = {
  target: 0,
  merged: 0,
  patches: 1,
  spec: 1,
  files: 1,
  issue: 2,
  comment: 3,
  finish: 4,
};

/**
 * Runs (or resumes) an extend run. Returns the finished run, or null when the run was turned into
 * one that opens a new proposal (the caller then publishes it as such).
 */
export async function extendSteps(
  deps: PublishDeps,
  repo: RepoPath,
  runId: number,
  spec: TrackedSpec,
): Promise<PublishRun | null> {
  const { db, forge } = deps;
  const current = () => {
    const run = getRun(db, runId);
    if (!run) throw new Error(`publish run ${runId} vanished from the journal`);
    return run;
  };
  let run = current();
  if (run.state !== "open" || run.kind !== "extend") return run.state === "open" ? null : run;
  const log = deps.log.child({ run: run.id, tracking: `${run.repo}:${run.branch}` });
  // A step this pipeline does not know is taken as "may have been sent": read back first.
  const resumedAt = EXTEND_RUN_ORDER[run.step] ?? 1;
  const resumedStep = run.step;
  const mayExist = (step: RunStep) => resumedAt >= (EXTEND_RUN_ORDER[step] ?? 0);
  const proposal = run.proposalId === null ? null : getProposal(db, run.proposalId);
  const fresh = () => {
    const timestamp = makeTimestamp((deps.now ?? (() => new Date()))());
    return { timestamp, workBranch: workBranchName(timestamp) };
  };
  if (proposal?.state !== "open") {
    convertToNewProposal(db, run.id, fresh(), null);
    return null;
  }

  // Every attempt first checks the proposal can still take commits: a maintainer may have merged
  // or closed it since the last one.
  checkpoint(deps);
  setStep(db, run.id, "target");
  const state = await forge.pullState(repo, proposal.pullNumber);
  if (state !== "open") {
    if (state === "merged") {
      // Its issue is closed first, so a crash before the proposal is recorded as ended repeats
      // this step instead of skipping it.
      setStep(db, run.id, "merged");
      const issue = await closeMergedIssue(deps, repo, run.id, proposal, resumedStep === "merged");
      log.info("merged proposal's issue", { issue: proposal.issueNumber, outcome: issue });
    }
    endProposal(db, proposal.id, state === "merged" ? "merged" : "declined");
    log.info("proposal ended; the new commits open a new one", {
      pull: proposal.pullNumber,
      state,
    });
    convertToNewProposal(db, run.id, fresh(), null);
    return null;
  }
  // The tracked spec, already read for the carried check.
  const base = await spec.read();
  if (proposal.baseSpecSha !== null && (base?.sha ?? "") !== proposal.baseSpecSha) {
    const earlier = await withPatches(deps, repo, proposal, proposalCommits(db, proposal.id));
    const opening = openingRun(db, proposal.id);
    convertToNewProposal(db, run.id, fresh(), {
      proposalId: proposal.id,
      commits: earlier,
      baseCommit: opening?.baseCommit ?? run.baseCommit,
    });
    log.info("the tracked spec changed under the open proposal; replacing it", {
      pull: proposal.pullNumber,
    });
    return null;
  }
  // The run writes to the proposal's branch, issue and pull request.
  recordIssue(db, run.id, { number: proposal.issueNumber, url: proposal.issueUrl ?? "" });
  recordPull(db, run.id, { number: proposal.pullNumber, url: proposal.pullUrl ?? "" });
  const added = runCommits(db, run.id);
  const all = [...proposalCommits(db, proposal.id), ...added];

  if (resumedAt <= (EXTEND_RUN_ORDER.files ?? 0)) {
    checkpoint(deps);
    setStep(db, run.id, "files");
    const outcome = await ensureExtensionFiles(deps, repo, current(), proposal, base, {
      added,
      all,
      mayExist: mayExist("files"),
    });
    log.info("patch files and spec added", { branch: proposal.workBranch, outcome });
  }

  if (resumedAt <= (EXTEND_RUN_ORDER.issue ?? 0)) {
    checkpoint(deps);
    setStep(db, run.id, "issue");
    run = current();
    // A full replacement of the body: repeating it is harmless.
    await forge.updateIssue(repo, proposal.issueNumber, issueBody(all, run.notes));
    log.info("issue updated", { issue: proposal.issueNumber, commits: all.length });
  }

  checkpoint(deps);
  setStep(db, run.id, "comment");
  run = current();
  const comment = extensionComment(added, proposal.issueNumber, run.applySummary);
  const outcome = await createOnce(
    deps,
    run.id,
    `comment on !${proposal.pullNumber}`,
    mayExist("comment"),
    (look, beforeSend) =>
      forge.ensurePullComment(repo, proposal.pullNumber, comment, look, beforeSend),
  );
  log.info("pull request extended", { pull: proposal.pullNumber, added: added.length, outcome });

  setStep(db, run.id, "finish");
  finishRun(db, current(), { keepPatches: true });
  return current();
}

/**
 * The added commits' patch files and the proposal's spec — the tracked branch's spec (`base`)
 * edited for every commit of the proposal at once, so Release is bumped once and there is one
 * changelog entry — as one commit on the proposal's work branch (proposal/files.ts).
 */
async function ensureExtensionFiles(
  deps: PublishDeps,
  repo: RepoPath,
  run: PublishRun,
  proposal: Proposal,
  base: ForgeFile | null,
  commits: { added: readonly RunCommit[]; all: readonly RunCommit[]; mayExist: boolean },
): Promise<EnsureOutcome> {
  const { added, all } = commits;
  const path = `${repo.name}.spec`;
  const patched = added.filter((commit) => getsPatchFile(commit));
  const changes = patchFileChanges(run, patched);
  const edited = editProposalSpec(deps, repo, run, all, base);
  // The proposal's branch has the spec: it started from `base`, or its opening made one.
  if (edited) {
    changes.push({
      action: "update",
      path,
      content: edited.content,
      message: specMessage(proposal.timestamp, false),
    });
  }
  const specChanged = edited !== null;
  const outcome = await ensureFiles(
    deps.forge,
    repo,
    {
      branch: proposal.workBranch,
      message: filesMessage(run.timestamp, patched, specChanged ? "update" : null),
      changes,
      // Without a tracked spec, whether the opening made one is read from the branch.
      mayExist: commits.mayExist || base === null,
    },
    deps.log,
  );
  for (const commit of patched) markUploaded(deps.db, run.id, commit.position);
  return outcome;
}

/**
 * The proposal's commits with their patch bytes, for a successor. The journal keeps them while
 * the proposal is open; one journaled before that (or by per-batch mode) is read back from the
 * proposal's work branch.
 */
export async function withPatches(
  deps: { forge: Forge },
  repo: RepoPath,
  proposal: Proposal,
  commits: readonly RunCommit[],
): Promise<RunCommit[]> {
  const out: RunCommit[] = [];
  for (const commit of commits) {
    if (!getsPatchFile(commit) || commit.patch) {
      out.push(commit);
      continue;
    }
    const file = await deps.forge.readFile(repo, proposal.workBranch, patchFileName(commit.sha));
    if (!file) {
      throw new Error(
        `cannot replace pull request ${proposal.pullNumber}: ${patchFileName(commit.sha)} is neither journaled nor on ${proposal.workBranch}`,
      );
    }
    out.push({ ...commit, patch: file.content });
  }
  return out;
}

/**
 * The patches new commits will follow in an open proposal, in order, for the apply check: a
 * commit that builds on (or reverts) one of them is judged on the tree the proposal makes, not
 * on the bare package (where a revert would look "already applied" and lose its patch file).
 * None when the pull request was closed without merging (its commits go nowhere), or when its
 * patches cannot be had (the check then runs on the package alone, as for a new proposal).
 */
export async function patchesBefore(
  deps: { db: Database; forge: Forge; log?: Logger },
  repo: RepoPath,
  proposal: Proposal | null,
): Promise<CheckedCommit[]> {
  if (proposal?.state !== "open") return [];
  if ((await deps.forge.pullState(repo, proposal.pullNumber)) === "closed") return [];
  try {
    const commits = await withPatches(deps, repo, proposal, proposalCommits(deps.db, proposal.id));
    return commits
      .filter(getsPatchFile)
      .map((commit) => ({ sha: commit.sha, patch: commit.patch ?? new Uint8Array() }));
  } catch (error) {
    deps.log?.warn("the open proposal's patches are not at hand; checking without them", {
      pull: proposal.pullNumber,
      error: error instanceof Error ? error.message : String(error),
    });
    return [];
  }
}
