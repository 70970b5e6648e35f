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

/** Gitee's issue states (forge-apis §1.9): "progressing" is still open, "rejected" is closed. */
export const ISSUE_STATES = ["open", "progressing", "closed", "rejected"] as const;
export type IssueState = (typeof ISSUE_STATES)[number];

/** A file directly in a folder of a branch, with its git blob sha. */
export interface ForgeEntry {
  readonly path: string;
  readonly sha: string;
  /** Bytes, when the listing says. */
  readonly size?: number | null;
}

/**
 * One file of a commit. `create` requires the file to be absent, `update` requires it present:
 * a forge refuses the whole commit otherwise, so a commit repeated after a lost answer cannot land
 * twice. `sha` (the file's current blob) lets a forge that writes file by file update without
 * reading first.
 */
export interface FileChange {
  readonly action: "create" | "update";
  readonly path: string;
  readonly content: Uint8Array;
  readonly sha?: string;
  /** This file's own commit message where the forge writes file by file (else the commit's). */
  readonly message?: string;
}

export interface FilesCommit {
  /** The branch written to. */
  readonly branch: string;
  /** Creates `branch` from this branch in the same write (`branch` must not exist yet). */
  readonly startBranch?: string;
  readonly message: string;
  readonly changes: readonly FileChange[];
}

/**
 * Called by an ensure operation right before it sends a create, once any look-up found nothing:
 * the journal records the send here, or throws to hold it back (scan/unanswered-creates.ts).
 */
export type BeforeSend = () => void;

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
  /**
   * Writes `commit.changes` to `commit.branch`: one atomic commit where the profile has
   * `multiFileCommit`, otherwise one contents write per file (and a branch creation first). Throws
   * the typed errors of a failed write; an unknown outcome is for the caller to check
   * (proposal/files.ts reads the branch back).
   */
  commitFiles(repo: RepoPath, commit: FilesCommit): Promise<void>;
  /** The issue with exactly this title opened by the service's account, if any. */
  findIssue(repo: RepoPath, title: string): Promise<ForgeIssue | null>;
  /**
   * Finds the issue by its title first only when `mayExist` (an earlier attempt may have opened
   * it) or after an answer was lost, so a first attempt costs one request. `beforeSend` runs
   * right before the create is sent.
   */
  ensureIssue(
    repo: RepoPath,
    title: string,
    body: string,
    mayExist?: boolean,
    beforeSend?: BeforeSend,
  ): Promise<ForgeIssue & { outcome: EnsureOutcome }>;
  /** The pull request from `head` into `base` in any state, if any. */
  findPull(repo: RepoPath, head: string, base: string): Promise<ForgePull | null>;
  /** Looks for the pull request first only when `mayExist`, like ensureIssue. */
  ensurePull(
    repo: RepoPath,
    spec: PullRequestSpec,
    mayExist?: boolean,
    beforeSend?: BeforeSend,
  ): Promise<ForgePull & { outcome: EnsureOutcome }>;
  /** Whether the pull request is still open, was merged, or was closed without merging. */
  pullState(repo: RepoPath, number: number): Promise<PullState>;
  /** The state of an issue. */
  issueState(repo: RepoPath, number: string): Promise<IssueState>;
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
    beforeSend?: BeforeSend,
  ): Promise<EnsureOutcome>;
  /** Comments on an issue unless this exact comment is there (as ensurePullComment). */
  ensureIssueComment(
    repo: RepoPath,
    number: string,
    body: string,
    mayExist: boolean,
    beforeSend?: BeforeSend,
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
