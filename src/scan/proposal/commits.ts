/**
 * The commit list of a proposal: every upstream commit it covers, oldest first, each with an
 * optional verdict — why it gets no patch file ("already carried as x.patch") or how it fares
 * when applied. Checks that judge commits (carried patches, apply check, filters) set verdicts;
 * the renderers show them; the publish pipeline only moves the list around.
 */
import type { PublishRun, RunCommit } from "../../db/runs.ts";
import type { FileChange } from "../../forge/types.ts";
import { isPassedOver } from "../filters.ts";
import { patchFileName, uploadMessage } from "../issue-body.ts";

export interface ProposalCommit {
  sha: string;
  date: string;
  message: string;
  url: string | null;
  /** No change at all: no patch file. */
  empty: boolean;
  /** Shown beside the message, e.g. "already carried as backport-fix.patch". */
  verdict?: string | null;
  /** The package already carries this change in that file: no patch file, no Patch line. */
  carriedAs?: string | null;
}

/** The apply check's verdict for a change the package's sources already contain. */
export const ALREADY_APPLIED = "already applied";

/** Whether the proposal gets a `<sha>.patch` file and a Patch line for this commit. */
export function getsPatchFile(commit: ProposalCommit): boolean {
  return (
    !commit.empty &&
    !commit.carriedAs &&
    !isPassedOver(commit.verdict) &&
    commit.verdict !== ALREADY_APPLIED
  );
}

/**
 * The `<sha>.patch` files a run creates for `patched` (commits that get a patch file), from the
 * patches in its journal.
 */
export function patchFileChanges(run: PublishRun, patched: readonly RunCommit[]): FileChange[] {
  return patched.map((commit) => {
    if (!commit.patch)
      throw new Error(`run ${run.id}: patch of ${commit.sha} missing from the journal`);
    return {
      action: "create",
      path: patchFileName(commit.sha),
      content: commit.patch,
      message: uploadMessage(run.timestamp, commit),
    };
  });
}

const CARRIED = "already carried as ";

export function carriedVerdict(file: string): string {
  return `${CARRIED}${file}`;
}

/** Whether a verdict says the package already carries the change. */
export function isCarriedVerdict(verdict: string | null | undefined): boolean {
  return verdict?.startsWith(CARRIED) ?? false;
}
