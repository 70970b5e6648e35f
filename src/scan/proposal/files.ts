/**
 * The files of a proposal on its work branch — `<sha>.patch` files and the edited spec — written
 * as one ensure step of the run journal, in one commit where the forge profile allows
 * (`multiFileCommit`; file by file otherwise).
 *
 * A first attempt (the journal says nothing was sent yet) writes without reading: a new work
 * branch is created by the commit itself, so it holds no patch file. An attempt that may follow a
 * write whose answer was lost, or a crash, reads the branch back first — does it exist, and which
 * files it holds with which blob sha — and commits only what is still missing or different; when
 * nothing is, the earlier write landed and nothing is sent. A commit carries whole files, never
 * deltas, and creates at least one patch file: a forge refuses to create a file (or branch) that
 * exists, so even a write that lands late cannot add a file or a Patch line twice.
 */
import { ConflictError, NotFoundError, RejectedError, TransientError } from "../../errors.ts";
import type { EnsureOutcome, FileChange, FilesCommit, Forge, RepoPath } from "../../forge/types.ts";
import type { Logger } from "../../log.ts";
import { gitBlobSha } from "../sources/blob-cache.ts";

/** Read-backs (and writes) of one ensure before its error is passed on. */
const ATTEMPTS = 3;

export interface FilesRequest extends FilesCommit {
  /** An earlier attempt may have sent this commit (its answer lost, or the service crashed). */
  readonly mayExist: boolean;
}

/** True for failures after which the forge may or may not hold the write. */
function outcomeUnknown(error: unknown): boolean {
  return (
    error instanceof TransientError ||
    error instanceof RejectedError ||
    error instanceof ConflictError
  );
}

function folderOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash === -1 ? "" : path.slice(0, slash);
}

/**
 * What is still to be written, read from the branch: null when every file already holds its
 * content. A missing branch is created again from `startBranch` (an error without one).
 */
async function pending(
  forge: Forge,
  repo: RepoPath,
  request: FilesRequest,
): Promise<FilesCommit | null> {
  if (!(await forge.branchExists(repo, request.branch))) {
    if (!request.startBranch) {
      throw new NotFoundError(
        "gitee",
        `${repo.owner}/${repo.name} has no branch ${request.branch} to add the files to`,
        404,
      );
    }
    return request;
  }
  const present = new Map<string, string>();
  for (const folder of new Set(request.changes.map((change) => folderOf(change.path)))) {
    for (const entry of await forge.listFiles(repo, request.branch, folder)) {
      present.set(entry.path, entry.sha);
    }
  }
  const changes: FileChange[] = request.changes
    .filter((change) => present.get(change.path) !== gitBlobSha(change.content))
    .map((change) => {
      const sha = present.get(change.path);
      return sha === undefined
        ? { ...change, action: "create", sha: undefined }
        : { ...change, action: "update", sha };
    });
  if (changes.length === 0) return null;
  return { branch: request.branch, message: request.message, changes };
}

/** Makes `request.branch` hold every file of `request.changes`; see the module comment. */
export async function ensureFiles(
  forge: Forge,
  repo: RepoPath,
  request: FilesRequest,
  log: Logger,
): Promise<EnsureOutcome> {
  let lastError: unknown;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    let commit: FilesCommit | null = request;
    if (attempt > 0 || request.mayExist) {
      commit = await pending(forge, repo, request);
      if (!commit) return attempt === 0 ? "existed" : "created";
    }
    try {
      await forge.commitFiles(repo, commit);
      return "created";
    } catch (error) {
      if (!outcomeUnknown(error)) throw error;
      lastError = error;
      log.debug("files commit uncertain; reading the branch back", {
        branch: request.branch,
        error,
      });
    }
  }
  throw lastError;
}
