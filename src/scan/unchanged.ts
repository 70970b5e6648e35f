/**
 * The common case of a scan, settled in bulk: a tracking whose upstream head is the commit it
 * already stands at, with no publish run open, is "unchanged". Recording that one tracking at a
 * time costs a write transaction each (a few WAL pages apiece: 200,000 of them per scan at
 * distribution scale); here a whole slice is checked and recorded in one transaction.
 */
import type { Database } from "bun:sqlite";
import { recordScan } from "../db/status.ts";
import { getTracking, type Tracking } from "../db/trackings.ts";
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
  const openRun = db.query<{ id: number }, [string, string]>(
    "SELECT id FROM publish_run WHERE repo = ? AND branch = ? AND state = 'open'",
  );
  db.transaction(() => {
    for (const candidate of candidates) {
      const head = headOf(candidate);
      if (!head || !("sha" in head)) continue;
      const now = getTracking(db, candidate.repo, candidate.branch);
      if (!now?.enabled || !now.scm_commit || now.scm_commit !== head.sha) continue;
      if (openRun.get(candidate.repo, candidate.branch)) continue;
      recordScan(db, candidate.repo, candidate.branch, {
        outcome: "unchanged",
        upstreamHead: head.sha,
      });
      recorded.add(candidate);
    }
  })();
  return recorded;
}
