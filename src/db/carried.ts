/**
 * What the "already carried" check remembers: the patch ids of each carried patch file by its
 * blob sha (a file that did not change is never read again), and the commits passed over because
 * the package already carries their change.
 */
import type { Database } from "bun:sqlite";

/** The cached `git patch-id --stable` values of a blob, or null when it was never computed. */
export function cachedPatchIds(db: Database, blobSha: string): string[] | null {
  const row = db
    .query<{ patch_ids: string }, [string]>(
      "SELECT patch_ids FROM carried_patch WHERE blob_sha = ?",
    )
    .get(blobSha);
  return row ? (JSON.parse(row.patch_ids) as string[]) : null;
}

export function cachePatchIds(db: Database, blobSha: string, ids: readonly string[]): void {
  db.query("INSERT OR REPLACE INTO carried_patch (blob_sha, patch_ids) VALUES (?, ?)").run(
    blobSha,
    JSON.stringify(ids),
  );
}

export interface PassedOver {
  sha: string;
  message: string;
  reason: string;
  at: string;
}

export function recordPassedOver(
  db: Database,
  repo: string,
  branch: string,
  commits: readonly { sha: string; message: string; reason: string }[],
): void {
  const stamp = new Date().toISOString();
  const insert = db.prepare(
    "INSERT OR REPLACE INTO passed_over (repo, branch, sha, message, reason, at) VALUES (?, ?, ?, ?, ?, ?)",
  );
  db.transaction(() => {
    for (const commit of commits)
      insert.run(repo, branch, commit.sha, commit.message, commit.reason, stamp);
  })();
}

/** The newest commits passed over for a tracking, newest first. */
export function passedOverFor(
  db: Database,
  repo: string,
  branch: string,
  limit = 20,
): PassedOver[] {
  return db
    .query<PassedOver, [string, string, number]>(
      "SELECT sha, message, reason, at FROM passed_over WHERE repo = ? AND branch = ? ORDER BY at DESC, rowid DESC LIMIT ?",
    )
    .all(repo, branch, limit);
}
