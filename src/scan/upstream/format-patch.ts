/**
 * One commit as one patch in `git format-patch` form, from a local repository.
 *
 * Plain `git format-patch -1 <merge>` silently emits a different commit (it skips merges while
 * walking), so a merge is rendered as its diff against the first parent — the change the merge
 * brought to the tracked branch — with the same mail headers. An empty commit yields a message
 * without a diff and is flagged, so callers can decide not to ship a patch that applies nothing.
 */
import { git, gitBytes, runGit } from "../../git.ts";

export interface FormattedCommit {
  sha: string;
  parents: string[];
  patch: Uint8Array;
  /** The commit changes no file (relative to its first parent). */
  empty: boolean;
}

/** Parent shas of `sha` (empty for a root commit). */
export async function commitParents(
  repoDir: string,
  sha: string,
  timeoutMs?: number,
): Promise<string[]> {
  const line = await git(["rev-list", "--parents", "-n", "1", sha, "--"], {
    cwd: repoDir,
    timeoutMs,
  });
  return line.trim().split(/\s+/).slice(1);
}

export async function formatCommitPatch(
  repoDir: string,
  sha: string,
  options: { timeoutMs?: number } = {},
): Promise<FormattedCommit> {
  const { timeoutMs } = options;
  const parents = await commitParents(repoDir, sha, timeoutMs);
  // diff-tree --quiet exits 1 when the commit changes something, 0 when it changes nothing.
  const changes = await runGit(
    parents.length === 0
      ? ["diff-tree", "--quiet", "--root", "-r", sha, "--"]
      : ["diff-tree", "--quiet", "-r", parents[0] as string, sha, "--"],
    { cwd: repoDir, timeoutMs },
  );
  const empty = changes.code === 0;
  const common = ["--stat", "--summary", "--binary", "--full-index", "--no-color"];
  const patch =
    parents.length > 1
      ? await gitBytes(
          ["log", "-1", "--format=email", "-p", "--diff-merges=first-parent", ...common, sha, "--"],
          { cwd: repoDir, timeoutMs },
        )
      : await gitBytes(
          ["format-patch", "-1", "--always", "--stdout", "--no-signature", ...common, sha, "--"],
          {
            cwd: repoDir,
            timeoutMs,
          },
        );
  return { sha, parents, patch, empty };
}
