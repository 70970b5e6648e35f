/**
 * The common case of a scan, settled in bulk: a tracking whose upstream head is the commit it
 * already stands at, with no publish run open, is "unchanged". Recording that one tracking at a
 * time costs a write transaction each (a few WAL pages apiece: 200,000 of them per scan at
 * distribution scale); here a whole slice is checked and recorded in one transaction.
 */
import type { Database } from "bun:sqlite";
import { recordUnchangedAt } from "../db/status.ts";
import type { Tracking } from "../db/trackings.ts";
import type { HeadResult } from "./upstream/types.ts";

/**
 * Records "unchanged" for every tracking of `candidates` that, read again inside the
 * transaction, is still enabled, stands at its looked-up head and has no open publish run.
 * Returns those recorded; every other tracking needs a full scan.
 */
export function recordUnchanged(
  db: Database,
  candidates: readonly Tracking[],
  headOf: (tracking: Tracking) => HeadResult | undefined,
): Set<Tracking> {
  const recorded = new Set<Tracking>();
  const stamp = new Date().toISOString();
  db.transaction(() => {
    for (const candidate of candidates) {
      const head = headOf(candidate);
      if (!head || !("sha" in head)) continue;
      if (recordUnchangedAt(db, candidate.repo, candidate.branch, head.sha, stamp)) {
        recorded.add(candidate);
      }
    }
  })();
  return recorded;
}
