/**
 * In-memory state of the Gitee emulator: repositories whose branches each own a file map and a
 * chain of fake commits, plus issues and pull requests. Object ids follow git where a client can
 * check them (blob shas); commit and tree shas are made up but unique.
 */
import { createHash } from "node:crypto";

export type IssueState = "open" | "progressing" | "closed" | "rejected";
export type PullState = "open" | "closed" | "merged";

export interface CommitRecord {
  sha: string;
  message: string;
  /** Epoch milliseconds. */
  time: number;
}

export interface BranchState {
  name: string;
  /** Path → bytes. Values are never mutated in place, so branches may share them. */
  files: Map<string, Uint8Array>;
  /** Oldest first; the last one is the branch head. */
  commits: CommitRecord[];
}

/** A comment on an issue or a pull request. */
export interface CommentRecord {
  id: number;
  body: string;
  creator: string;
  /** Epoch milliseconds. */
  createdAt: number;
}

export interface IssueRecord {
  id: number;
  /** Gitee's issue "number" is a string such as `I6D3AV`. */
  number: string;
  title: string;
  body: string;
  state: IssueState;
  /** Login of the author. */
  creator: string;
  labels: string[];
  comments: CommentRecord[];
  /** Epoch milliseconds. */
  createdAt: number;
  updatedAt: number;
}

export interface PullRecord {
  id: number;
  /** Unlike issues, pull request numbers are integers, counted per repository. */
  number: number;
  title: string;
  body: string;
  state: PullState;
  head: string;
  base: string;
  /** Head commit of `head` when the pull request was opened. */
  headSha: string;
  baseSha: string;
  pruneSourceBranch: boolean;
  creator: string;
  comments: CommentRecord[];
  createdAt: number;
  updatedAt: number;
}

export interface RepoState {
  id: number;
  owner: string;
  name: string;
  defaultBranch: string;
  branches: Map<string, BranchState>;
  issues: IssueRecord[];
  pulls: PullRecord[];
  createdAt: number;
}

export interface Store {
  /** Keyed by lower-cased `owner/name`: Gitee paths are not case-sensitive. */
  repos: Map<string, RepoState>;
  /** Next value of the one id sequence shared by repositories, issues and pulls. */
  nextId: number;
  /** Makes every fake commit sha unique even for identical content and time. */
  commitCounter: number;
}

export function createStore(): Store {
  return { repos: new Map(), nextId: 1000, commitCounter: 0 };
}

export function takeId(store: Store): number {
  return store.nextId++;
}

/** The git blob id of `bytes`: sha1 of `blob <length>\0` followed by the bytes. */
export function blobSha(bytes: Uint8Array): string {
  return createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");
}

export function toBytes(content: string | Uint8Array): Uint8Array {
  return typeof content === "string" ? new TextEncoder().encode(content) : Uint8Array.from(content);
}

/** Splits `owner/name`, rejecting anything else. */
export function splitRepoPath(path: string): { owner: string; name: string } {
  const parts = path.split("/");
  if (parts.length !== 2 || !parts[0] || !parts[1]) {
    throw new Error(`repository path must be owner/name, got "${path}"`);
  }
  return { owner: parts[0], name: parts[1] };
}

export function findRepo(store: Store, owner: string, name: string): RepoState | undefined {
  return store.repos.get(`${owner}/${name}`.toLowerCase());
}

/** Like findRepo for fixture helpers, where a missing repository is a mistake in the test. */
export function requireRepo(store: Store, path: string): RepoState {
  const { owner, name } = splitRepoPath(path);
  const repo = findRepo(store, owner, name);
  if (!repo) throw new Error(`gitee emulator has no repository ${path}`);
  return repo;
}

export function requireBranch(repo: RepoState, name: string): BranchState {
  const branch = repo.branches.get(name);
  if (!branch) throw new Error(`repository ${repo.owner}/${repo.name} has no branch ${name}`);
  return branch;
}

export function headSha(branch: BranchState): string {
  return branch.commits.at(-1)?.sha ?? "0".repeat(40);
}

/** A branch by name, or the branch whose head is the commit `ref` (Gitee accepts both). */
export function resolveRef(repo: RepoState, ref: string): BranchState | undefined {
  const named = repo.branches.get(ref);
  if (named) return named;
  if (!/^[0-9a-f]{40}$/.test(ref)) return undefined;
  for (const branch of repo.branches.values()) {
    if (headSha(branch) === ref) return branch;
  }
  return undefined;
}

/** Applies `change` to the branch's files and records it as a new head commit. */
export function commit(
  store: Store,
  branch: BranchState,
  message: string,
  change: (files: Map<string, Uint8Array>) => void,
): CommitRecord {
  change(branch.files);
  store.commitCounter++;
  const sha = createHash("sha1")
    .update(`commit ${headSha(branch)} ${store.commitCounter} ${Date.now()}\n${message}`)
    .digest("hex");
  const record = { sha, message, time: Date.now() };
  branch.commits.push(record);
  return record;
}

export function addRepo(
  store: Store,
  path: string,
  options: { defaultBranch?: string; files?: Record<string, string | Uint8Array> } = {},
): RepoState {
  const { owner, name } = splitRepoPath(path);
  if (findRepo(store, owner, name)) throw new Error(`gitee emulator already has ${path}`);
  const defaultBranch = options.defaultBranch ?? "master";
  const branch: BranchState = { name: defaultBranch, files: new Map(), commits: [] };
  const repo: RepoState = {
    id: takeId(store),
    owner,
    name,
    defaultBranch,
    branches: new Map([[defaultBranch, branch]]),
    issues: [],
    pulls: [],
    createdAt: Date.now(),
  };
  commit(store, branch, "Initial commit", (files) => {
    for (const [file, content] of Object.entries(options.files ?? {})) {
      files.set(file, toBytes(content));
    }
  });
  store.repos.set(path.toLowerCase(), repo);
  return repo;
}

/** A new branch pointing at `from`'s head, with its own copy of the file map. */
export function branchFrom(repo: RepoState, name: string, from: BranchState): BranchState {
  const branch: BranchState = {
    name,
    files: new Map(from.files),
    commits: [...from.commits],
  };
  repo.branches.set(name, branch);
  return branch;
}

const NUMBER_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/** A fresh issue number: `I` and five random upper-case letters or digits, like `I6D3AV`. */
export function newIssueNumber(repo: RepoState): string {
  for (;;) {
    const random = crypto.getRandomValues(new Uint8Array(5));
    const tail = Array.from(random, (byte) => NUMBER_ALPHABET[byte % NUMBER_ALPHABET.length]);
    const number = `I${tail.join("")}`;
    if (!repo.issues.some((issue) => issue.number === number)) return number;
  }
}

/**
 * The immediate children of directory `dir` ("" for the root): names mapped to their kind.
 * Empty when nothing lives below `dir`.
 */
export function listDirectory(
  files: Map<string, Uint8Array>,
  dir: string,
): Map<string, "file" | "dir"> {
  const prefix = dir === "" ? "" : `${dir}/`;
  const children = new Map<string, "file" | "dir">();
  for (const path of files.keys()) {
    if (!path.startsWith(prefix)) continue;
    const rest = path.slice(prefix.length);
    const slash = rest.indexOf("/");
    if (slash === -1) children.set(rest, "file");
    else children.set(rest.slice(0, slash), "dir");
  }
  return new Map([...children].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** A stable made-up tree id for a directory listing (real tree ids are not needed by clients). */
export function treeSha(files: Map<string, Uint8Array>, dir: string): string {
  const hash = createHash("sha1").update(`tree ${dir}\0`);
  const prefix = dir === "" ? "" : `${dir}/`;
  for (const [path, bytes] of files) {
    if (path.startsWith(prefix)) hash.update(`${path}\0${blobSha(bytes)}\n`);
  }
  return hash.digest("hex");
}
