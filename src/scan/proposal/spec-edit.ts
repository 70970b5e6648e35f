/**
 * Editing the package's spec for a proposal, shared by a new proposal and an extension.
 */
import type { PublishRun, RunCommit } from "../../db/runs.ts";
import { recordNotes } from "../../db/runs.ts";
import type { ForgeFile, RepoPath } from "../../forge/types.ts";
import { patchFileName } from "../issue-body.ts";
import type { PublishDeps } from "../publish.ts";
import { editSpec, SpecEditError } from "../spec.ts";
import { getsPatchFile } from "./commits.ts";

/**
 * The spec edited to declare (and, where %prep is explicit, apply) the run's patches; null when
 * the editor cannot change it safely (a note then asks for the Patch lines by hand — the patches
 * are never held back). The notes are journaled for the issue.
 */
export function editProposalSpec(
  deps: PublishDeps,
  repo: RepoPath,
  run: PublishRun,
  commits: readonly RunCommit[],
  base: ForgeFile | null,
): { content: Uint8Array; created: boolean } | null {
  const first = commits[0];
  const last = commits.at(-1);
  if (!first || !last) return null;
  try {
    const edited = editSpec({
      spec: base ? new TextDecoder().decode(base.content) : null,
      packageName: repo.name,
      patches: commits
        .filter((commit) => getsPatchFile(commit))
        .map((commit) => ({ sha: commit.sha, fileName: patchFileName(commit.sha) })),
      fromSha: first.sha,
      toSha: last.sha,
      date: (deps.now ?? (() => new Date()))(),
    });
    recordNotes(deps.db, run.id, edited.notes);
    return { content: new TextEncoder().encode(edited.text), created: edited.created };
  } catch (error) {
    if (!(error instanceof SpecEditError)) throw error;
    recordNotes(deps.db, run.id, [
      `${repo.name}.spec was not updated automatically: ${error.reason}. Add the Patch lines by hand.`,
    ]);
    return null;
  }
}
