/**
 * The `Forge` interface: where proposals are written (Gitee v5 and compatible forges). The publish
 * pipeline depends only on this. Writes are *ensure* operations: each looks for existing work
 * first, so repeating a step after a crash or a lost answer never creates a second copy.
 */

/** A downstream repository, `owner/name`. */
export interface RepoPath {
  readonly owner: string;
  readonly name: string;
}

export interface ForgeFile {
  readonly content: Uint8Array;
  /** Git blob sha, needed to update the file. */
  readonly sha: string;
}

export interface ForgeIssue {
  /** Gitee issue numbers are strings such as `I6D3AV`. */
  readonly number: string;
  readonly url: string;
  readonly title: string;
}

export interface ForgePull {
  readonly number: number;
  readonly url: string;
  readonly head: string;
  readonly base: string;
}

export type EnsureOutcome = "created" | "existed" | "updated";

/** A pull request is open, merged, or closed without merging. */
export type PullState = "open" | "merged" | "closed";

/** A file directly in a folder of a branch, with its git blob sha. */
export interface ForgeEntry {
  readonly path: string;
  readonly sha: string;
  /** Bytes, when the listing says. */
  readonly size?: number | null;
}

export interface PullRequestSpec {
  head: string;
  base: string;
  title: string;
  body: string;
}

export interface Forge {
  /** The account the token belongs to; throws AuthFailedError for a bad token. */
  whoami(): Promise<string>;
  branchExists(repo: RepoPath, branch: string): Promise<boolean>;
  /** Creates `branch` from `from` unless it exists. */
  ensureBranch(repo: RepoPath, branch: string, from: string): Promise<EnsureOutcome>;
  /** The file on `branch`, or null when it does not exist. */
  readFile(repo: RepoPath, branch: string, path: string): Promise<ForgeFile | null>;
  /**
   * Creates (`sha` null) or updates (`sha` = current blob) a file. Throws ConflictError when the
   * file exists already or `sha` is stale, so the caller re-reads and decides again.
   */
  writeFile(
    repo: RepoPath,
    branch: string,
    path: string,
    content: Uint8Array,
    message: string,
    sha: string | null,
  ): Promise<void>;
  /** Makes `path` on `branch` hold exactly `content`. */
  ensureFile(
    repo: RepoPath,
    branch: string,
    path: string,
    content: Uint8Array,
    message: string,
  ): Promise<EnsureOutcome>;
  /** The issue with exactly this title opened by the service's account, if any. */
  findIssue(repo: RepoPath, title: string): Promise<ForgeIssue | null>;
  ensureIssue(
    repo: RepoPath,
    title: string,
    body: string,
  ): Promise<ForgeIssue & { outcome: EnsureOutcome }>;
  /** The pull request from `head` into `base` in any state, if any. */
  findPull(repo: RepoPath, head: string, base: string): Promise<ForgePull | null>;
  ensurePull(
    repo: RepoPath,
    spec: PullRequestSpec,
  ): Promise<ForgePull & { outcome: EnsureOutcome }>;
  /** Whether the pull request is still open, was merged, or was closed without merging. */
  pullState(repo: RepoPath, number: number): Promise<PullState>;
  /** Sets the body of an issue the service opened (a full replacement: repeating it is safe). */
  updateIssue(repo: RepoPath, number: string, body: string): Promise<void>;
  /**
   * Comments on a pull request unless a comment with exactly this body is already there. The
   * comments are read first only when `mayExist` (an earlier attempt may have posted it) or after
   * an answer was lost, so the usual case costs one request.
   */
  ensurePullComment(
    repo: RepoPath,
    number: number,
    body: string,
    mayExist: boolean,
  ): Promise<EnsureOutcome>;
  /** Comments on an issue unless this exact comment is there (as ensurePullComment). */
  ensureIssueComment(
    repo: RepoPath,
    number: string,
    body: string,
    mayExist: boolean,
  ): Promise<EnsureOutcome>;
  /** Closes an issue the service opened (closing a closed one changes nothing). */
  closeIssue(repo: RepoPath, number: string): Promise<void>;
  /** Closes an open pull request without merging it (closing a closed one changes nothing). */
  closePull(repo: RepoPath, number: number): Promise<void>;
  /** The files directly in folder `dir` ("" = the root) of `branch`, with their blob shas. */
  listFiles(repo: RepoPath, branch: string, dir?: string): Promise<ForgeEntry[]>;
  /** The bytes of the blob `sha` (a file of any branch), e.g. a source archive. */
  readBlob(repo: RepoPath, sha: string): Promise<Uint8Array>;
  /** Web address of a repository, for links shown to operators. */
  webUrl(repo: RepoPath): string;
}
