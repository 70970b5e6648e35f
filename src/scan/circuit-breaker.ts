/**
 * One circuit breaker per forge (GitHub, each git host, the downstream forge). A forge that
 * cannot be reached — refused connections, DNS or TLS failures, timeouts, a burst of 5xx — opens
 * its breaker: the scanner stops sending it work (its trackings wait), and a single probe tests
 * it on a capped, jittered exponential schedule. The first successful probe closes the breaker,
 * and the trackings held back are let through in a slow start (1, 2, 3 … at a time).
 *
 * Only transport failures count (see `TransportFailure`): a 404, a renamed branch or a refused
 * write is the forge answering. Failures that can belong to one repository rather than the whole
 * forge (timeouts, cut connections, 5xx) open the breaker only when they come from at least two
 * subjects (trackings, batched lookups) in a row; a connection that cannot be made at all
 * (refused, DNS, TLS, proxy) is the forge's, whoever saw it.
 *
 * The class holds no timers and makes no requests: the scheduler asks `probeDue()` and runs the
 * probe, so the same breaker serves any client (upstreams, the downstream forge, its budget).
 */
import { ServiceError, TransientError, type TransportFailure } from "../errors.ts";

export type BreakerState = "closed" | "open";

/** What an operator sees of one forge's breaker (status page, CLI, API). */
export interface BreakerView {
  forge: string;
  state: BreakerState;
  /** When the current outage was detected (ISO 8601), while open. */
  since: string | null;
  /** When the next probe is due (ISO 8601), while open. */
  nextProbeAt: string | null;
  /** The failure that opened the breaker, or the last failed probe's. */
  lastError: string | null;
  /** Failed probes since the breaker opened. */
  failedProbes: number;
}

export interface BreakerOptions {
  /** Consecutive transport failures that open a breaker; default 3. */
  threshold?: number;
  /** First delay before a probe; doubles after each failed probe; default 5 s. */
  probeBaseMs?: number;
  /** Longest delay between probes; default 5 min. */
  probeMaxMs?: number;
  /** Most trackings let through at once while a closed breaker ramps up; default 8. */
  rampMax?: number;
  now?: () => number;
  random?: () => number;
  /**
   * Called on every open/close, e.g. for metrics and logs; on opening, with the subjects whose
   * failures opened it (they were the outage's first victims, not broken on their own).
   */
  onChange?: (view: BreakerView, subjects: readonly string[]) => void;
}

/** Failures only a whole forge can cause: no connection could be made. */
const FORGE_WIDE: ReadonlySet<TransportFailure> = new Set(["refused", "dns", "tls", "proxy"]);

interface Breaker {
  forge: string;
  state: BreakerState;
  /** Consecutive transport failures, and who saw them, since the forge last answered. */
  streak: number;
  subjects: Set<string>;
  forgeWide: boolean;
  openedAt: number;
  nextProbeAt: number;
  probing: boolean;
  failedProbes: number;
  lastError: string | null;
  /** A subject the probe can use (a tracking waiting on this forge). */
  probeSubject: string | null;
  /** Slow start after closing: trackings allowed at once (Infinity when ramped up). */
  window: number;
  inFlight: number;
  queue: Array<() => void>;
}

/** The transport failure an error stands for, or null when the forge answered. */
export function transportFailure(error: unknown): TransportFailure | null {
  return error instanceof TransientError ? error.transport : null;
}

export class CircuitBreakers {
  private readonly breakers = new Map<string, Breaker>();
  private readonly threshold: number;
  private readonly probeBaseMs: number;
  private readonly probeMaxMs: number;
  private readonly rampMax: number;
  private readonly now: () => number;
  private readonly random: () => number;

  constructor(private readonly options: BreakerOptions = {}) {
    this.threshold = Math.max(1, options.threshold ?? 3);
    this.probeBaseMs = options.probeBaseMs ?? 5_000;
    this.probeMaxMs = Math.max(this.probeBaseMs, options.probeMaxMs ?? 300_000);
    this.rampMax = Math.max(1, options.rampMax ?? 8);
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
  }

  private get(forge: string): Breaker {
    let breaker = this.breakers.get(forge);
    if (!breaker) {
      breaker = {
        forge,
        state: "closed",
        streak: 0,
        subjects: new Set(),
        forgeWide: false,
        openedAt: 0,
        nextProbeAt: 0,
        probing: false,
        failedProbes: 0,
        lastError: null,
        probeSubject: null,
        window: Number.POSITIVE_INFINITY,
        inFlight: 0,
        queue: [],
      };
      this.breakers.set(forge, breaker);
    }
    return breaker;
  }

  isOpen(forge: string): boolean {
    return this.breakers.get(forge)?.state === "open";
  }

  /** The outcome text of a tracking held back by an open breaker, e.g. `github unreachable since …`. */
  waitingReason(forge: string): string {
    const breaker = this.get(forge);
    return `${forge} unreachable since ${new Date(breaker.openedAt).toISOString()}`;
  }

  /** Remembers a tracking waiting on `forge`, for the probe to use. */
  noteWaiting(forge: string, subject: string): void {
    const breaker = this.get(forge);
    breaker.probeSubject ??= subject;
  }

  /** The forge answered (any status that is not a 5xx): its failure streak ends. */
  succeeded(forge: string): void {
    const breaker = this.breakers.get(forge);
    if (!breaker) return;
    breaker.streak = 0;
    breaker.subjects.clear();
    breaker.forgeWide = false;
    if (breaker.state === "open") this.close(breaker);
    else if (breaker.window !== Number.POSITIVE_INFINITY) {
      // Slow start: one more tracking at a time per success, until the ramp is over.
      breaker.window =
        breaker.window + 1 > this.rampMax ? Number.POSITIVE_INFINITY : breaker.window + 1;
      this.wake(breaker);
    }
  }

  /**
   * Records what a call to `forge` ended with: a transport failure counts towards opening the
   * breaker, a typed answer from the forge (not found, rejected, rate limited) ends the streak,
   * anything else (a local error) says nothing about the forge.
   */
  report(forge: string, subject: string, error: unknown): void {
    const transport = transportFailure(error);
    if (transport) this.failed(forge, subject, transport, (error as Error).message);
    else if (error instanceof ServiceError) this.succeeded(forge);
  }

  failed(forge: string, subject: string, transport: TransportFailure, message: string): void {
    const breaker = this.get(forge);
    breaker.lastError = message;
    breaker.probeSubject ??= subject;
    if (breaker.state === "open") return;
    breaker.streak++;
    breaker.subjects.add(subject);
    if (FORGE_WIDE.has(transport)) breaker.forgeWide = true;
    const enoughSubjects = breaker.forgeWide || breaker.subjects.size >= 2;
    if (breaker.streak >= this.threshold && enoughSubjects) this.open(breaker);
  }

  /** Forges whose probe is due now (open, not already probing). */
  probeDue(): string[] {
    const now = this.now();
    return [...this.breakers.values()]
      .filter((b) => b.state === "open" && !b.probing && b.nextProbeAt <= now)
      .map((b) => b.forge);
  }

  /** Milliseconds until the earliest probe of an open breaker, or null when none is open. */
  nextProbeIn(): number | null {
    let earliest: number | null = null;
    for (const breaker of this.breakers.values()) {
      if (breaker.state !== "open" || breaker.probing) continue;
      earliest = Math.min(earliest ?? Number.POSITIVE_INFINITY, breaker.nextProbeAt);
    }
    return earliest === null ? null : Math.max(0, earliest - this.now());
  }

  /** Claims the probe of `forge`; returns the subject to probe with, or null if none is due. */
  beginProbe(forge: string): { subject: string | null } | null {
    const breaker = this.breakers.get(forge);
    if (breaker?.state !== "open" || breaker.probing) return null;
    breaker.probing = true;
    return { subject: breaker.probeSubject };
  }

  /** The probe could not reach the forge: wait longer (capped, jittered) before the next one. */
  probeFailed(forge: string, message: string): void {
    const breaker = this.get(forge);
    breaker.probing = false;
    breaker.failedProbes++;
    breaker.lastError = message;
    breaker.nextProbeAt = this.now() + this.probeDelay(breaker.failedProbes);
  }

  /** The probe reached the forge (whatever it answered): close the breaker. */
  probeSucceeded(forge: string): void {
    const breaker = this.get(forge);
    breaker.probing = false;
    this.succeeded(forge);
  }

  /**
   * Waits for a turn to send `forge` a tracking's work; returns the release. Free while the
   * forge is ramped up; right after an outage it lets 1, 2, 3 … trackings through at once.
   */
  async admit(forge: string): Promise<() => void> {
    const breaker = this.get(forge);
    if (breaker.inFlight < breaker.window) breaker.inFlight++;
    // `wake` counts a queued waiter in before resolving it, so no one overtakes it.
    else await new Promise<void>((resolve) => breaker.queue.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      breaker.inFlight--;
      this.wake(breaker);
    };
  }

  views(): BreakerView[] {
    return [...this.breakers.values()].map((breaker) => this.view(breaker));
  }

  openViews(): BreakerView[] {
    return this.views().filter((view) => view.state === "open");
  }

  private view(breaker: Breaker): BreakerView {
    const open = breaker.state === "open";
    return {
      forge: breaker.forge,
      state: breaker.state,
      since: open ? new Date(breaker.openedAt).toISOString() : null,
      nextProbeAt: open ? new Date(breaker.nextProbeAt).toISOString() : null,
      lastError: breaker.lastError,
      failedProbes: breaker.failedProbes,
    };
  }

  /** Capped exponential delay with full jitter in its upper half (never two probes at once). */
  private probeDelay(failedProbes: number): number {
    const ceiling = Math.min(this.probeMaxMs, this.probeBaseMs * 2 ** failedProbes);
    return Math.round(ceiling / 2 + (this.random() * ceiling) / 2);
  }

  private open(breaker: Breaker): void {
    breaker.state = "open";
    breaker.openedAt = this.now();
    breaker.failedProbes = 0;
    breaker.probing = false;
    breaker.nextProbeAt = breaker.openedAt + this.probeDelay(0);
    this.options.onChange?.(this.view(breaker), [...breaker.subjects]);
  }

  private close(breaker: Breaker): void {
    breaker.state = "closed";
    breaker.probeSubject = null;
    breaker.window = 1;
    this.options.onChange?.(this.view(breaker), []);
    this.wake(breaker);
  }

  private wake(breaker: Breaker): void {
    while (breaker.queue.length > 0 && breaker.inFlight < breaker.window) {
      breaker.inFlight++;
      breaker.queue.shift()?.();
    }
  }
}

/** The forge a tracking's upstream lives on: `github`, or the host of a git URL. */
export function upstreamForge(versionControl: "github" | "git", scmRepo: string): string {
  if (versionControl === "github") return "github";
  return gitHost(scmRepo);
}

/**
 * The server of a git URL: host and port (`https://h/…`, `ssh://u@h:22/…` → `h:22`, `u@h:path`);
 * `local` for paths and `file://`.
 */
export function gitHost(url: string): string {
  if (/^(file:|\/|\.)/i.test(url)) return "local";
  const scheme = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/]*@)?(\[[^\]]+\]|[^/:?#]+)(:\d+)?/i.exec(url);
  if (scheme) return `${scheme[1]?.toLowerCase() ?? "local"}${scheme[2] ?? ""}`;
  const scp = /^(?:[^@/:]+@)?([^/:]+):/.exec(url);
  if (scp && !/^[a-z]:$/i.test(`${scp[1]}:`)) return scp[1]?.toLowerCase() ?? "local";
  return "local";
}
