/**
 * The first thing a run does: compare its commits with the patches the package already carries
 * (once; the verdicts are journaled). A run left with no commit that needs a patch file proposes
 * nothing: the tracking advances past its commits without a write to the forge.
 */
import { recordPassedOver } from "../../db/carried.ts";
import { getRun, type PublishRun, passOverRun, recordVerdicts, runCommits } from "../../db/runs.ts";
import type { RepoPath } from "../../forge/types.ts";
import type { PublishDeps } from "../publish.ts";
import { findCarried } from "./carried.ts";
import { carriedVerdict, getsPatchFile } from "./commits.ts";

/** Judges the run's commits if not done yet; false when the run was passed over (finished). */
export async function judgeRun(
  deps: PublishDeps,
  repo: RepoPath,
  run: PublishRun,
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
    );
    const verdicts = new Map(
      [...carried].map(([sha, file]) => [sha, { verdict: carriedVerdict(file), carriedAs: file }]),
    );
    recordVerdicts(deps.db, run.id, verdicts);
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
  deps.log.info("nothing to propose: every commit is empty or already carried", {
    run: run.id,
    head: run.headCommit,
  });
  return false;
}
