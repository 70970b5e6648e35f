/**
 * Exactly once for creates whose answer never came. An issue, pull request or comment create that
 * timed out, lost its connection or got a 5xx may still land on the forge — after the look-up
 * that follows it found nothing. Sending it again then makes a second one (a forge that refuses a
 * second open pull request for one head branch catches that case, but nothing catches it for
 * issues and comments).
 *
 * So each create is journaled right before it is sent (db/pending-creates.ts) and forgotten once
 * its result is known. An attempt that finds a create still pending looks for it first; when it
 * is not there, the run waits until the settle period after that send has passed — it is parked
 * (SettlingError: its next attempt time is set, the scan goes on with other trackings) — and
 * sends again only if a look-up then still finds nothing. A create the forge refused outright
 * (4xx) or that never left (refused connection, DNS, TLS, proxy) cannot land: its record is
 * dropped and the next attempt sends at once.
 */
import type { Database } from "bun:sqlite";
import { forgetCreate, pendingCreateSentAt, recordCreateSent } from "../db/pending-creates.ts";
import {
  AuthFailedError,
  NotFoundError,
  RateLimitedError,
  RejectedError,
  TransientError,
} from "../errors.ts";
import type { BeforeSend } from "../forge/types.ts";

/** How long a create without an answer may still land; at least this, see settleMsFor. */
export const SETTLE_MS = 5 * 60_000;

/**
 * The settle period for a request timeout: a forge allowed to take longer to answer may also
 * take longer to finish what it was still doing when the client gave up.
 */
export function settleMsFor(requestTimeoutMs: number): number {
  return Math.max(SETTLE_MS, 10 * requestTimeoutMs);
}

/** The run waits for an unanswered create to show up before it may send it again. */
export class SettlingError extends Error {
  constructor(
    readonly item: string,
    readonly sentAt: number,
    /** When the create may be sent again if it has not shown up (epoch ms). */
    readonly until: number,
  ) {
    super(
      `waiting until ${new Date(until).toISOString()} before sending the ${item} again: it was sent at ${new Date(sentAt).toISOString()}, got no answer, and has not shown up yet`,
    );
    this.name = "SettlingError";
  }
}

export interface CreateJournal {
  db: Database;
  now?: () => Date;
  /** Default SETTLE_MS. */
  settleMs?: number;
}

/** True when the forge cannot hold the create: it refused it, or it was never delivered. */
function neverLanded(error: unknown): boolean {
  if (
    error instanceof RejectedError ||
    error instanceof NotFoundError ||
    error instanceof AuthFailedError ||
    error instanceof RateLimitedError
  )
    return true;
  if (error instanceof TransientError) {
    return ["refused", "dns", "tls", "proxy"].includes(error.transport ?? "");
  }
  return false;
}

/**
 * Runs one ensure-create of run `runId` (`item` names it within the run, e.g. "issue" or
 * "comment on !12"). `send(mayExist, beforeSend)` calls the forge's ensure operation: `mayExist`
 * is the caller's (an earlier attempt of the step may have sent it) or true when an earlier send
 * is pending, so the forge looks before it creates; `beforeSend` goes to the forge, which calls
 * it right before the create leaves.
 */
export async function createOnce<T>(
  journal: CreateJournal,
  runId: number,
  item: string,
  mayExist: boolean,
  send: (mayExist: boolean, beforeSend: BeforeSend) => Promise<T>,
): Promise<T> {
  const { db } = journal;
  const now = () => (journal.now ?? (() => new Date()))();
  const sentAt = pendingCreateSentAt(db, runId, item);
  let sent = false;
  const beforeSend = () => {
    if (sentAt !== null) {
      const until = sentAt + (journal.settleMs ?? SETTLE_MS);
      if (now().getTime() < until) throw new SettlingError(item, sentAt, until);
    }
    recordCreateSent(db, runId, item, now());
    sent = true;
  };
  try {
    const result = await send(mayExist || sentAt !== null, beforeSend);
    forgetCreate(db, runId, item);
    return result;
  } catch (error) {
    // Only this attempt's own send can be known not to have landed (a failed look-up says nothing).
    if (sent && neverLanded(error)) forgetCreate(db, runId, item);
    throw error;
  }
}
