/**
 * The files of a downstream package repository (spec, archives, patches), wherever they come
 * from: the forge's API (forge-files.ts) or a local bare git repository (the corpus check).
 * Blobs are addressed by their git sha so a cache can key on it.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { git, gitBytes } from "../../git.ts";

export interface PackageEntry {
  /** Path in the repository; only top-level files matter for %prep. */
  path: string;
  /** Git blob sha. */
  sha: string;
  /** Bytes, when the listing says. */
  size: number | null;
}

export interface PackageFiles {
  /** Top-level files of the tracked branch. */
  list(): Promise<PackageEntry[]>;
  /** The blob's bytes in a file on disk (the caller only reads it). */
  fetch(entry: PackageEntry): Promise<string>;
}

/** A branch of a local (bare) git repository; blobs are written below `scratch`. */
export function gitPackageFiles(repo: string, ref: string, scratch: string): PackageFiles {
  return {
    async list() {
      const out = await git(["ls-tree", "-l", ref], { cwd: repo });
      const entries: PackageEntry[] = [];
      for (const line of out.split("\n")) {
        const match = /^\d+ blob ([0-9a-f]{40,64})\s+(\d+|-)\t(.+)$/.exec(line);
        if (!match) continue;
        const [, sha = "", size = "", path = ""] = match;
        entries.push({ path, sha, size: size === "-" ? null : Number(size) });
      }
      return entries;
    },
    async fetch(entry) {
      mkdirSync(scratch, { recursive: true });
      const file = join(scratch, entry.sha);
      await Bun.write(file, await gitBytes(["cat-file", "blob", entry.sha], { cwd: repo }));
      return file;
    },
  };
}
