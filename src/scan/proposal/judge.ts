/**
 * The first thing a run does: compare its commits with the patches the package already carries
 * (once; the verdicts are journaled). A run left with no commit that needs a patch file proposes
 * nothing: the tracking advances past its commits without a write to the forge.
 */
import { recordPassedOver } from "../../db/carried.ts";
import { getProposal } from "../../db/proposals.ts";
import {
  getRun,
  type PublishRun,
  passOverRun,
  type RunCommit,
  recordVerdicts,
  runCommits,
} from "../../db/runs.ts";
import type { RepoPath } from "../../forge/types.ts";
import { summaryLine, verdictText } from "../apply-check.ts";
import type { PublishDeps } from "../publish.ts";
import { findCarried } from "./carried.ts";
import { ALREADY_APPLIED, carriedVerdict, getsPatchFile } from "./commits.ts";
import { patchesBefore } from "./extend.ts";
import type { TrackedSpec } from "./tracked-spec.ts";

/** Judges the run's commits if not done yet; false when the run was passed over (finished). */
export async function judgeRun(
  deps: PublishDeps,
  repo: RepoPath,
  run: PublishRun,
  spec: TrackedSpec,
): Promise<boolean> {
  if (!run.judged) {
    const commits = runCommits(deps.db, run.id);
    const carried = await findCarried(
      deps,
      repo,
      run.branch,
      commits.map((commit) => ({
        sha: commit.sha,
        empty: commit.empty,
        patch: commit.patch ?? new Uint8Array(),
      })),
      () => spec.read(),
    );
    const verdicts = new Map(
      [...carried].map(([sha, file]) => [
        sha,
        { verdict: carriedVerdict(file), carriedAs: file as string | null },
      ]),
    );
    const applySummary = await applyCheck(
      deps,
      repo,
      run,
      commits.filter((commit) => getsPatchFile(commit) && !carried.has(commit.sha)),
      verdicts,
    );
    recordVerdicts(deps.db, run.id, verdicts, applySummary);
    const alreadyApplied = commits.filter(
      (commit) => verdicts.get(commit.sha)?.verdict === ALREADY_APPLIED,
    );
    if (alreadyApplied.length > 0) {
      recordPassedOver(
        deps.db,
        run.repo,
        run.branch,
        alreadyApplied.map((commit) => ({
          sha: commit.sha,
          message: commit.message,
          reason: ALREADY_APPLIED,
        })),
      );
    }
    if (carried.size > 0) {
      recordPassedOver(
        deps.db,
        run.repo,
        run.branch,
        commits
          .filter((commit) => carried.has(commit.sha))
          .map((commit) => ({
            sha: commit.sha,
            message: commit.message,
            reason: verdicts.get(commit.sha)?.verdict ?? "",
          })),
      );
      deps.log.info("commits already carried by the package", {
        run: run.id,
        carried: [...carried].map(([sha, file]) => `${sha.slice(0, 12)}=${file}`).join(" "),
      });
    }
  }
  if (runCommits(deps.db, run.id).some(getsPatchFile)) return true;
  const current = getRun(deps.db, run.id) ?? run;
  passOverRun(deps.db, current);
  deps.log.info("nothing to propose: every commit is empty, already carried or already applied", {
    run: run.id,
    head: run.headCommit,
  });
  return false;
}

/**
 * Tries the commits no other verdict took on the package's sources (when APPLY_CHECK is on),
 * adds their verdicts to `verdicts`, and returns the pull request's summary line. A check that
 * fails says so in its verdicts; it never stops the run.
 */
async function applyCheck(
  deps: PublishDeps,
  repo: RepoPath,
  run: PublishRun,
  commits: readonly RunCommit[],
  verdicts: Map<string, { verdict: string; carriedAs: string | null }>,
): Promise<string | null> {
  if (!deps.applyChecker || commits.length === 0) return null;
  const started = Date.now();
  const earlier =
    run.kind === "extend" && run.proposalId !== null
      ? await patchesBefore(deps, repo, getProposal(deps.db, run.proposalId))
      : [];
  // Read through the run's view: the listing and blobs the carried check read are not asked again.
  const checked = await deps.applyChecker.check(
    repo,
    run.branch,
    [
      ...earlier,
      ...commits.map((commit) => ({ sha: commit.sha, patch: commit.patch ?? new Uint8Array() })),
    ],
    deps.forge,
  );
  // The earlier patches only set the stage; the run's own commits are judged and summed up.
  const report = { ...checked, verdicts: checked.verdicts.slice(earlier.length) };
  commits.forEach((commit, i) => {
    const verdict = report.verdicts[i];
    if (verdict) verdicts.set(commit.sha, { verdict: verdictText(verdict), carriedAs: null });
  });
  const summary = summaryLine(report);
  deps.log.info("apply check done", {
    run: run.id,
    summary,
    ms: Date.now() - started,
  });
  return summary;
}
