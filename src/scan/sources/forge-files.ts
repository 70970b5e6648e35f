/**
 * A package's files read through the forge: one listing of the tracked branch's root (names,
 * blob shas, sizes) and each needed blob by sha, through the blob cache.
 */
import { join } from "node:path";
import type { Forge, RepoPath } from "../../forge/types.ts";
import type { BlobCache } from "./blob-cache.ts";
import type { PackageFiles } from "./package-files.ts";

export function forgePackageFiles(
  forge: Forge,
  repo: RepoPath,
  branch: string,
  cache: BlobCache,
  scratch: string,
): PackageFiles {
  return {
    async list() {
      const entries = await forge.listFiles(repo, branch);
      return entries.map((entry) => ({
        path: entry.path,
        sha: entry.sha,
        size: entry.size ?? null,
      }));
    },
    async fetch(entry) {
      const cached = cache.get(entry.sha);
      if (cached) return cached;
      const bytes = await forge.readBlob(repo, entry.sha);
      // A read-through view (plan-reads.ts) may have cached it while reading it.
      const stored = cache.get(entry.sha);
      if (stored) return stored;
      return cache.put(entry.sha, bytes, join(scratch, `blob-${entry.sha}`));
    },
  };
}
