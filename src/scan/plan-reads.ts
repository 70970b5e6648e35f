/**
 * The forge as a dry run sees it: reads only, with the request economy of a scan. Each folder of
 * a branch is listed once per plan; a file at the top of the package (spec, carried patches) is
 * then read by its blob sha through the on-disk source cache (GIT_BASE_PATH/source-cache), so an
 * unchanged file is never downloaded again, by a plan or by the apply check; a pull request's
 * state is asked once. Every write throws: a plan that tried one would be a defect, and Gitee
 * must not see it.
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

/**
 * A read-only view of `forge` for one plan (listings are remembered for its lifetime: make a new
 * view for each plan). Without a cache, top-level files are still read by sha, once per plan.
 */
export function planReads(forge: Forge, cache: BlobCache | null): Forge {
  const listings = new Map<string, Promise<ForgeEntry[]>>();
  const key = (repo: RepoPath, branch: string, dir: string) =>
    JSON.stringify([repo.owner, repo.name, branch, dir]);
  const listFiles = (repo: RepoPath, branch: string, dir = ""): Promise<ForgeEntry[]> => {
    const id = key(repo, branch, dir);
    let listing = listings.get(id);
    if (!listing) {
      listing = forge.listFiles(repo, branch, dir);
      // A failed listing is not remembered: the next read asks again.
      listing.catch(() => listings.delete(id));
      listings.set(id, listing);
    }
    return listing;
  };
  const blobs = new Map<string, Promise<Uint8Array>>();
  const cachedBlob = (repo: RepoPath, sha: string): Promise<Uint8Array> => {
    let blob = blobs.get(sha);
    if (!blob) {
      blob = (async () => {
        const hit = cache?.get(sha);
        if (hit) return new Uint8Array(readFileSync(hit));
        const bytes = await forge.readBlob(repo, sha);
        // put() checks the bytes are that blob. A file larger than the whole cache is not kept
        // (so put's overflow file is never needed).
        if (cache && bytes.length <= cache.maxBytes) cache.put(sha, bytes, "");
        return bytes;
      })();
      blob.catch(() => blobs.delete(sha));
      blobs.set(sha, blob);
    }
    return blob;
  };

  const pullStates = new Map<string, ReturnType<Forge["pullState"]>>();

  return {
    whoami: () => forge.whoami(),
    branchExists: (repo, branch) => forge.branchExists(repo, branch),
    async readFile(repo, branch, path): Promise<ForgeFile | null> {
      const slash = path.lastIndexOf("/");
      const dir = slash < 0 ? "" : path.slice(0, slash);
      // Only the root is listed this way (files in sub-folders are rare: ask for them directly).
      if (dir !== "") return forge.readFile(repo, branch, path);
      const entry = (await listFiles(repo, branch)).find((file) => file.path === path);
      if (!entry) return null;
      return { content: await cachedBlob(repo, entry.sha), sha: entry.sha };
    },
    listFiles,
    readBlob: (repo, sha) => forge.readBlob(repo, sha),
    findIssue: (repo, title) => forge.findIssue(repo, title),
    findPull: (repo, head, base) => forge.findPull(repo, head, base),
    pullState(repo, number) {
      // Asked once per plan (the apply check and the proposal's fate both need it).
      const id = JSON.stringify([repo.owner, repo.name, number]);
      let state = pullStates.get(id);
      if (!state) {
        state = forge.pullState(repo, number);
        state.catch(() => pullStates.delete(id));
        pullStates.set(id, state);
      }
      return state;
    },
    webUrl: (repo) => forge.webUrl(repo),
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
