/**
 * An on-disk cache of package files (archives, patches, specs) keyed by git blob sha, under
 * `GIT_BASE_PATH/source-cache`, so an unchanged package is not downloaded twice. A blob's sha
 * names its content, so an entry never goes stale; the cache only has to stay within its size cap:
 * after each write the least recently used entries are removed until the total fits.
 */
import { createHash } from "node:crypto";
import {
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";

const SHA = /^[0-9a-f]{40}$|^[0-9a-f]{64}$/;

/** The git blob id of `bytes` (sha1 of `blob <length>\0` + bytes). */
export function gitBlobSha(bytes: Uint8Array): string {
  return createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");
}

export class BlobCache {
  constructor(
    readonly dir: string,
    readonly maxBytes: number,
  ) {}

  /** The cached file for `sha`, marked as just used; null when absent. */
  get(sha: string): string | null {
    if (!SHA.test(sha)) return null;
    const path = join(this.dir, sha);
    try {
      const now = new Date();
      utimesSync(path, now, now);
      return path;
    } catch {
      return null;
    }
  }

  /**
   * Stores `bytes` as `sha` after checking they are that blob (a wrong answer never poisons the
   * cache), then evicts. Returns the file. Content larger than the whole cap is written to
   * `overflow` instead (used once, not kept).
   */
  put(sha: string, bytes: Uint8Array, overflow: string): string {
    if (!SHA.test(sha) || gitBlobSha(bytes) !== sha) {
      throw new Error(`the forge sent content that is not blob ${sha}`);
    }
    if (bytes.length > this.maxBytes) {
      writeFileSync(overflow, bytes);
      return overflow;
    }
    mkdirSync(this.dir, { recursive: true });
    const path = join(this.dir, sha);
    const partial = `${path}.${process.pid}.partial`;
    writeFileSync(partial, bytes);
    renameSync(partial, path);
    this.evict(sha);
    return path;
  }

  /** Removes least recently used entries (never `keep`) until the total is within the cap. */
  evict(keep?: string): void {
    let entries: { name: string; size: number; used: number }[];
    try {
      entries = readdirSync(this.dir).flatMap((name) => {
        try {
          const stat = statSync(join(this.dir, name));
          return [{ name, size: stat.size, used: stat.mtimeMs }];
        } catch {
          return [];
        }
      });
    } catch {
      return;
    }
    let total = entries.reduce((sum, entry) => sum + entry.size, 0);
    entries.sort((a, b) => a.used - b.used);
    for (const entry of entries) {
      if (total <= this.maxBytes) break;
      if (entry.name === keep) continue;
      rmSync(join(this.dir, entry.name), { force: true });
      total -= entry.size;
    }
  }

  /** Total bytes held. */
  size(): number {
    try {
      return readdirSync(this.dir).reduce(
        (sum, name) => sum + statSync(join(this.dir, name)).size,
        0,
      );
    } catch {
      return 0;
    }
  }
}
