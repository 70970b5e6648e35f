/**
 * Git look-ups for the GitHub emulator: every answer it gives comes from the real repository
 * through these functions, so "first parent", ancestry and patches are git's own.
 */
import { git, gitBytes, runGit } from "../../src/git.ts";

export interface Signature {
  name: string;
  email: string;
  /** ISO 8601 in UTC with a `Z`, as GitHub writes dates. */
  date: string;
}

export interface CommitInfo {
  sha: string;
  parents: string[];
  tree: string;
  author: Signature;
  committer: Signature;
  message: string;
}

export interface FileEntry {
  filename: string;
  status: "added" | "removed" | "modified" | "renamed" | "copied" | "changed";
  additions: number;
  deletions: number;
  changes: number;
  /** Absent for binary files, as on GitHub. */
  patch?: string;
  previous_filename?: string;
}

const FIELDS = ["%H", "%P", "%T", "%an", "%ae", "%aI", "%cn", "%ce", "%cI", "%B"];

/** `2024-05-01T12:00:00+02:00` → `2024-05-01T10:00:00Z`. */
export function utcDate(iso: string): string {
  return new Date(iso).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** Commits selected by `revArgs` (passed to `git log`), in git's order. */
export async function readCommits(dir: string, revArgs: readonly string[]): Promise<CommitInfo[]> {
  const out = await git(["log", "-z", `--format=${FIELDS.join("%x00")}`, ...revArgs, "--"], {
    cwd: dir,
  });
  const fields = out.split("\0");
  const commits: CommitInfo[] = [];
  for (let i = 0; i + FIELDS.length <= fields.length; i += FIELDS.length) {
    const [sha, parents, tree, an, ae, ad, cn, ce, cd, message] = fields.slice(
      i,
      i + FIELDS.length,
    );
    commits.push({
      sha: sha as string,
      parents: parents ? parents.split(" ") : [],
      tree: tree as string,
      author: { name: an as string, email: ae as string, date: utcDate(ad as string) },
      committer: { name: cn as string, email: ce as string, date: utcDate(cd as string) },
      message: (message as string).replace(/\n+$/, ""),
    });
  }
  return commits;
}

export async function readCommit(dir: string, sha: string): Promise<CommitInfo> {
  const [commit] = await readCommits(dir, ["-1", "--no-walk", sha]);
  if (!commit) throw new Error(`commit ${sha} not found in ${dir}`);
  return commit;
}

async function verify(dir: string, rev: string): Promise<string | null> {
  const result = await runGit(["rev-parse", "--verify", "--quiet", "--end-of-options", rev], {
    cwd: dir,
  });
  if (result.code !== 0) return null;
  return new TextDecoder().decode(result.stdout).trim();
}

/** The commit a branch points at, or null. */
export function branchHead(dir: string, branch: string): Promise<string | null> {
  if (!branch || branch.startsWith("-")) return Promise.resolve(null);
  return verify(dir, `refs/heads/${branch}^{commit}`);
}

/**
 * Every branch of `dir` and the commit it points at, from one `git for-each-ref` (a GraphQL query
 * naming a hundred branches of one repository then costs one git process, not a hundred).
 */
export async function branchHeads(dir: string): Promise<Map<string, string>> {
  const out = await git(
    [
      "for-each-ref",
      "--format=%(refname)%00%(objecttype)%00%(objectname)%00%(*objecttype)%00%(*objectname)",
      "refs/heads/",
    ],
    { cwd: dir },
  );
  const heads = new Map<string, string>();
  for (const line of out.split("\n")) {
    const [ref, type, sha, peeledType, peeled] = line.split("\0");
    if (!ref?.startsWith("refs/heads/")) continue;
    const commit = type === "commit" ? sha : peeledType === "commit" ? peeled : undefined;
    if (commit) heads.set(ref.slice("refs/heads/".length), commit);
  }
  return heads;
}

/** Resolves what GitHub accepts as a ref: a sha (also abbreviated), `heads/X`, `tags/X`, X. */
export async function resolveRef(dir: string, ref: string): Promise<string | null> {
  if (!ref || ref.startsWith("-")) return null;
  const candidates = ref.startsWith("heads/")
    ? [`refs/${ref}`]
    : ref.startsWith("tags/")
      ? [`refs/${ref}`]
      : [`refs/heads/${ref}`, `refs/tags/${ref}`];
  if (/^[0-9a-f]{4,64}$/.test(ref)) candidates.push(ref);
  for (const candidate of candidates) {
    const sha = await verify(dir, `${candidate}^{commit}`);
    if (sha) return sha;
  }
  return null;
}

export async function defaultBranch(dir: string): Promise<string> {
  const result = await runGit(["symbolic-ref", "--short", "HEAD"], { cwd: dir });
  return result.code === 0 ? new TextDecoder().decode(result.stdout).trim() : "main";
}

export async function mergeBase(dir: string, a: string, b: string): Promise<string | null> {
  const result = await runGit(["merge-base", a, b], { cwd: dir });
  return result.code === 0 ? new TextDecoder().decode(result.stdout).trim() : null;
}

export async function countRange(dir: string, from: string, to: string): Promise<number> {
  return Number((await git(["rev-list", "--count", `${from}..${to}`], { cwd: dir })).trim());
}

let emptyTree: string | null = null;

/** The tree a root commit is diffed against. */
export async function emptyTreeSha(dir: string): Promise<string> {
  emptyTree ??= (
    await git(["hash-object", "-t", "tree", "--stdin"], { cwd: dir, input: "" })
  ).trim();
  return emptyTree;
}

const STATUS: Record<string, FileEntry["status"]> = {
  A: "added",
  D: "removed",
  M: "modified",
  R: "renamed",
  C: "copied",
  T: "changed",
};

/** Per-file summary of `git diff from to`, like GitHub's `files[]` (at most `limit` entries). */
export async function diffFiles(
  dir: string,
  from: string,
  to: string,
  limit = 300,
): Promise<FileEntry[]> {
  const diff = ["diff", "--no-color", "-M"];
  const [names, numbers, text] = await Promise.all([
    git([...diff, "--name-status", "-z", from, to, "--"], { cwd: dir }),
    git([...diff, "--numstat", "-z", from, to, "--"], { cwd: dir }),
    git([...diff, from, to, "--"], { cwd: dir }),
  ]);
  const nameFields = names.split("\0");
  const counts: Array<{ additions: number; deletions: number; binary: boolean }> = [];
  const numberFields = numbers.split("\0");
  for (let i = 0; i < numberFields.length; i++) {
    const field = numberFields[i] as string;
    if (!field) continue;
    const [add, del, path] = field.split("\t");
    // A rename's numstat line has an empty path followed by the old and new names.
    if (path === "") i += 2;
    counts.push({ additions: Number(add) || 0, deletions: Number(del) || 0, binary: add === "-" });
  }
  const chunks = text.split(/^(?=diff --git )/m).filter((chunk) => chunk.startsWith("diff --git "));
  const files: FileEntry[] = [];
  for (let i = 0, n = 0; nameFields[i]; n++) {
    const code = (nameFields[i] as string)[0] as string;
    const twoPaths = code === "R" || code === "C";
    const entry: FileEntry = {
      filename: (twoPaths ? nameFields[i + 2] : nameFields[i + 1]) as string,
      status: STATUS[code] ?? "modified",
      additions: counts[n]?.additions ?? 0,
      deletions: counts[n]?.deletions ?? 0,
      changes: (counts[n]?.additions ?? 0) + (counts[n]?.deletions ?? 0),
    };
    if (twoPaths) entry.previous_filename = nameFields[i + 1] as string;
    const chunk = chunks[n] ?? "";
    const hunk = chunk.indexOf("\n@@");
    if (!counts[n]?.binary && hunk >= 0) entry.patch = chunk.slice(hunk + 1).replace(/\n$/, "");
    files.push(entry);
    i += twoPaths ? 3 : 2;
    if (files.length >= limit) break;
  }
  return files;
}

/** Plain diff text between two commits (the `diff` media type). */
export function diffText(dir: string, from: string, to: string): Promise<Uint8Array> {
  return gitBytes(["diff", "--no-color", "--full-index", "--binary", from, to, "--"], { cwd: dir });
}

/**
 * `git format-patch` of a range as one mailbox. Like plain git (and presumably GitHub), merges and
 * empty commits are left out; clients must fetch those one by one.
 */
export function formatPatchRange(dir: string, from: string, to: string): Promise<Uint8Array> {
  return gitBytes(
    [
      "format-patch",
      "--stdout",
      "--no-signature",
      "--stat",
      "--summary",
      "--binary",
      "--full-index",
      "--no-color",
      `${from}..${to}`,
      "--",
    ],
    { cwd: dir },
  );
}

export async function renameBranch(dir: string, from: string, to: string): Promise<void> {
  if (from.startsWith("-") || to.startsWith("-"))
    throw new Error("branch names cannot start with -");
  await git(["branch", "-m", from, to], { cwd: dir });
}
