/**
 * Creates of a publish run that were sent and whose result is not known yet: an issue, a pull
 * request or a comment is recorded here right before it goes out and forgotten once the forge
 * answered (or a look-up found it). A record left behind — the answer was lost, or the service
 * stopped — says the create may still land; scan/unanswered-creates.ts decides what to do.
 */
import type { Database } from "bun:sqlite";

/** When `item` of the run was last sent without a known result (epoch ms), or null. */
export function pendingCreateSentAt(db: Database, runId: number, item: string): number | null {
  const row = db
    .query<{ sent_at: string }, [number, string]>(
      "SELECT sent_at FROM pending_create WHERE run_id = ? AND item = ?",
    )
    .get(runId, item);
  return row ? Date.parse(row.sent_at) : null;
}

export function recordCreateSent(db: Database, runId: number, item: string, at: Date): void {
  db.query(
    `INSERT INTO pending_create (run_id, item, sent_at) VALUES (?, ?, ?)
     ON CONFLICT (run_id, item) DO UPDATE SET sent_at = excluded.sent_at`,
  ).run(runId, item, at.toISOString());
}

export function forgetCreate(db: Database, runId: number, item: string): void {
  db.query("DELETE FROM pending_create WHERE run_id = ? AND item = ?").run(runId, item);
}

/** Drops every record of a run that has ended (nothing of it will be sent again). */
export function forgetRunCreates(db: Database, runId: number): void {
  db.query("DELETE FROM pending_create WHERE run_id = ?").run(runId);
}
