/**
 * Client-side pacing under a forge's published request budget (e.g. GitCode: 50 per minute and
 * 4,000 per hour), so a scan never learns the limit from 429s.
 *
 * Sliding windows: a request may go when fewer than `limit` requests were sent in the last
 * `windowMs` of every window. A short wait is waited out here; a wait longer than `maxWaitMs`
 * (an hour's budget spent) throws `RateLimitedError`, so the scanner parks the forge until the
 * budget frees instead of holding a scan worker for an hour. A 429 from the forge still parks it
 * too (in `gitee-http.ts`): the budget is the forge's, and other clients may share the token.
 */
import { RateLimitedError, type Service } from "../errors.ts";

export interface BudgetWindow {
  readonly limit: number;
  readonly windowMs: number;
}

export interface RequestBudgetOptions {
  windows: readonly BudgetWindow[];
  /**
   * Added to every window: the forge counts a request when it arrives, which may be a little
   * later than when it was sent, so a request sent exactly one window after another could still
   * land inside the forge's window. Default 5 % of the window, at least 100 ms.
   */
  marginMs?: (windowMs: number) => number;
  /** Longest wait done here; longer ones throw RateLimitedError. Default 30 s. */
  maxWaitMs?: number;
  service?: Service;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** Windows of a per-minute and per-hour budget (null or 0: no limit for that window). */
export function budgetWindows(limits: {
  perMinute: number | null;
  perHour: number | null;
}): BudgetWindow[] {
  const windows: BudgetWindow[] = [];
  if (limits.perMinute) windows.push({ limit: limits.perMinute, windowMs: 60_000 });
  if (limits.perHour) windows.push({ limit: limits.perHour, windowMs: 3_600_000 });
  return windows;
}

export class RequestBudget {
  /** Send times of the requests still inside the longest window, oldest first. */
  private readonly sent: number[] = [];
  /** Requests wait their turn in order: a later caller never overtakes an earlier one. */
  private queue: Promise<void> = Promise.resolve();
  private readonly longestMs: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  /** Milliseconds spent waiting for the budget, for metrics and tests. */
  waitedMs = 0;

  private readonly windows: BudgetWindow[];

  constructor(private readonly options: RequestBudgetOptions) {
    const margin = options.marginMs ?? ((windowMs) => Math.max(100, windowMs * 0.05));
    this.windows = options.windows.map(({ limit, windowMs }) => ({
      limit,
      windowMs: windowMs + margin(windowMs),
    }));
    this.longestMs = Math.max(0, ...this.windows.map((window) => window.windowMs));
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  get limited(): boolean {
    return this.windows.length > 0;
  }

  /** How long a request sent now would have to wait (0: it may go). */
  delayMs(at = this.now()): number {
    while (this.sent.length > 0 && (this.sent[0] ?? 0) <= at - this.longestMs) this.sent.shift();
    let wait = 0;
    for (const { limit, windowMs } of this.windows) {
      // Requests inside this window; the one that must age out is `limit` back from the end.
      let inside = 0;
      for (let index = this.sent.length - 1; index >= 0; index--) {
        if ((this.sent[index] ?? 0) <= at - windowMs) break;
        inside++;
      }
      if (inside < limit) continue;
      const blocking = this.sent[this.sent.length - limit] ?? at;
      wait = Math.max(wait, blocking + windowMs - at);
    }
    return wait;
  }

  /** Waits until one more request fits the budget and counts it as sent. */
  take(): Promise<void> {
    if (!this.limited) return Promise.resolve();
    const turn = this.queue.then(() => this.waitForRoom());
    // A refused turn must not block the ones behind it.
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private async waitForRoom(): Promise<void> {
    const maxWaitMs = this.options.maxWaitMs ?? 30_000;
    for (;;) {
      const now = this.now();
      const wait = this.delayMs(now);
      if (wait <= 0) {
        this.sent.push(now);
        return;
      }
      if (wait > maxWaitMs) {
        throw new RateLimitedError(
          this.options.service ?? "gitee",
          `the forge's request budget is spent until ${new Date(now + wait).toISOString()} (client-side pacing)`,
          now + wait,
        );
      }
      this.waitedMs += wait;
      await this.sleep(wait);
    }
  }
}
