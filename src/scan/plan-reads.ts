/**
 * A read-through view of the forge for one plan or one attempt of a run: each folder of a branch
 * is listed once; a file at the top of the package (spec, carried patches, archive) is then read
 * by its blob sha through the on-disk source cache (GIT_BASE_PATH/source-cache), so an unchanged
 * file is never downloaded again, by a plan, a run or the apply check; a pull request's state is
 * asked once. The carried check, the apply check, the spec edit and the extend step of one run
 * thus share one listing of the package and one pull request state.
 *
 * A dry run's view (planReads) refuses every write: a plan that tried one would be a defect, and
 * Gitee must not see it. A run's view (runReads) passes writes on unchanged — the journal and the
 * ensure steps stay the one way to write — and forgets everything it read when one is sent, so a
 * read-back after a write (proposal/files.ts) always asks the forge.
 */
import { readFileSync } from "node:fs";
import type { Forge, ForgeEntry, ForgeFile, RepoPath } from "../forge/types.ts";
import type { BlobCache } from "./sources/blob-cache.ts";

export class DryRunWriteError extends Error {
  constructor(method: string) {
    super(`a dry run must not write to the forge (${method})`);
    this.name = "DryRunWriteError";
  }
}

function refused(method: string): () => never {
  return () => {
    throw new DryRunWriteError(method);
  };
}

export interface ReadThroughOptions {
  /** "refuse": a dry run, every write throws. "pass": a run, writes go to the forge. */
  writes: "refuse" | "pass";
  /** A listing or pull request state older than this is asked again (default: kept). */
  maxAgeMs?: number;
  clock?: () => number;
}

/** A dry run's read-only view (make a new one for each plan). */
export function planReads(forge: Forge, cache: BlobCache | null): Forge {
  return readThrough(forge, cache, { writes: "refuse" });
}

/**
 * How long a run's attempt trusts what it read: a long apply check in between makes the spec
 * edit and the extend step ask again, so an edit never starts from a stale copy.
 */
export const RUN_READS_FRESH_MS = 30_000;

/** One attempt of a run's view (make a new one for each attempt). */
export function runReads(forge: Forge, cache: BlobCache | null, clock?: () => number): Forge {
  return readThrough(forge, cache, { writes: "pass", maxAgeMs: RUN_READS_FRESH_MS, clock });
}

interface Remembered<T> {
  at: number;
  value: Promise<T>;
}

/**
 * Without a cache, a top-level file is read by sha once per view when the folder is listed
 * already, and directly otherwise (one request, where a listing and a blob would be two).
 */
export function readThrough(
  forge: Forge,
  cache: BlobCache | null,
  options: ReadThroughOptions,
): Forge {
  const clock = options.clock ?? Date.now;
  const maxAge = options.maxAgeMs ?? Number.POSITIVE_INFINITY;
  const listings = new Map<string, Remembered<ForgeEntry[]>>();
  const pullStates = new Map<string, Remembered<Awaited<ReturnType<Forge["pullState"]>>>>();
  const blobs = new Map<string, Promise<Uint8Array>>();

  /** The remembered answer for `id` while fresh; otherwise asks (a failure is not remembered). */
  function remembered<T>(memo: Map<string, Remembered<T>>, id: string, ask: () => Promise<T>) {
    const now = clock();
    const known = memo.get(id);
    if (known && now - known.at <= maxAge) return known.value;
    const value = ask();
    value.catch(() => {
      if (memo.get(id)?.value === value) memo.delete(id);
    });
    memo.set(id, { at: now, value });
    return value;
  }
  const listingKey = (repo: RepoPath, branch: string, dir: string) =>
    JSON.stringify([repo.owner, repo.name, branch, dir]);
  const listFiles = (repo: RepoPath, branch: string, dir = ""): Promise<ForgeEntry[]> =>
    remembered(listings, listingKey(repo, branch, dir), () => forge.listFiles(repo, branch, dir));
  const listed = (repo: RepoPath, branch: string): boolean => {
    const known = listings.get(listingKey(repo, branch, ""));
    return known !== undefined && clock() - known.at <= maxAge;
  };

  const throughCache = async (repo: RepoPath, sha: string): Promise<Uint8Array> => {
    const hit = cache?.get(sha);
    if (hit) return new Uint8Array(readFileSync(hit));
    const bytes = await forge.readBlob(repo, sha);
    // put() checks the bytes are that blob. A file larger than the whole cache is not kept
    // (so put's overflow file is never needed).
    if (cache && bytes.length <= cache.maxBytes) cache.put(sha, bytes, "");
    return bytes;
  };
  /** A top-level file's bytes, kept for the view's lifetime (specs and patches are small). */
  const cachedBlob = (repo: RepoPath, sha: string): Promise<Uint8Array> => {
    let blob = blobs.get(sha);
    if (!blob) {
      blob = throughCache(repo, sha);
      blob.catch(() => blobs.delete(sha));
      blobs.set(sha, blob);
    }
    return blob;
  };

  const reads = {
    whoami: () => forge.whoami(),
    branchExists: (repo: RepoPath, branch: string) => forge.branchExists(repo, branch),
    async readFile(repo: RepoPath, branch: string, path: string): Promise<ForgeFile | null> {
      const slash = path.lastIndexOf("/");
      const dir = slash < 0 ? "" : path.slice(0, slash);
      // Only the root is listed this way (files in sub-folders are rare: ask for them directly).
      if (dir !== "") return forge.readFile(repo, branch, path);
      if (!cache && !listed(repo, branch)) {
        const file = await forge.readFile(repo, branch, path);
        // Its bytes serve a later read of the same blob (the apply check's).
        if (file) blobs.set(file.sha, Promise.resolve(file.content));
        return file;
      }
      const entry = (await listFiles(repo, branch)).find((file) => file.path === path);
      if (!entry) return null;
      return { content: await cachedBlob(repo, entry.sha), sha: entry.sha };
    },
    listFiles,
    // Not kept in memory: an archive may be large, and the cache holds it on disk.
    readBlob: (repo: RepoPath, sha: string) => blobs.get(sha) ?? throughCache(repo, sha),
    findIssue: (repo: RepoPath, title: string) => forge.findIssue(repo, title),
    findPull: (repo: RepoPath, head: string, base: string) => forge.findPull(repo, head, base),
    issueState: (repo: RepoPath, number: string) => forge.issueState(repo, number),
    pullState: (repo: RepoPath, number: number) =>
      // Asked once (the apply check and the proposal's fate both need it).
      remembered(pullStates, JSON.stringify([repo.owner, repo.name, number]), () =>
        forge.pullState(repo, number),
      ),
    webUrl: (repo: RepoPath) => forge.webUrl(repo),
  };

  if (options.writes === "refuse") {
    return {
      ...reads,
      ensureBranch: refused("ensureBranch"),
      writeFile: refused("writeFile"),
      ensureFile: refused("ensureFile"),
      commitFiles: refused("commitFiles"),
      ensureIssue: refused("ensureIssue"),
      ensurePull: refused("ensurePull"),
      updateIssue: refused("updateIssue"),
      ensurePullComment: refused("ensurePullComment"),
      ensureIssueComment: refused("ensureIssueComment"),
      closeIssue: refused("closeIssue"),
      closePull: refused("closePull"),
    };
  }
  /** A write changes what the forge holds: what was listed or asked is asked again. */
  const write =
    <A extends unknown[], R>(send: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> => {
      listings.clear();
      pullStates.clear();
      return send(...args);
    };
  return {
    ...reads,
    ensureBranch: write((...args) => forge.ensureBranch(...args)),
    writeFile: write((...args) => forge.writeFile(...args)),
    ensureFile: write((...args) => forge.ensureFile(...args)),
    commitFiles: write((...args) => forge.commitFiles(...args)),
    ensureIssue: write((...args) => forge.ensureIssue(...args)),
    ensurePull: write((...args) => forge.ensurePull(...args)),
    updateIssue: write((...args) => forge.updateIssue(...args)),
    ensurePullComment: write((...args) => forge.ensurePullComment(...args)),
    ensureIssueComment: write((...args) => forge.ensureIssueComment(...args)),
    closeIssue: write((...args) => forge.closeIssue(...args)),
    closePull: write((...args) => forge.closePull(...args)),
  };
}
