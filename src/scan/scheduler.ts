/**
 * The scanner: every SCAN_DB_INTERVAL seconds, every enabled tracking is scanned, with bounded
 * concurrency and at most one scan per (repo, branch) at a time. It also resumes journaled runs at
 * start, scans a tracking at once when it is added without `scm_commit`, parks a rate-limited
 * service until its reset time, and stops cleanly between publish steps.
 */
import type { Database } from "bun:sqlite";
import { openRuns } from "../db/runs.ts";
import { getStatus, recordScan, type ScanOutcome } from "../db/status.ts";
import { trackingBatches } from "../db/tracking-pages.ts";
import { getTracking, type Tracking } from "../db/trackings.ts";
import { AuthFailedError, type RateLimitedError, type Service } from "../errors.ts";
import type { Forge } from "../forge/types.ts";
import type { Logger } from "../log.ts";
import type { ServiceMetrics } from "../metrics.ts";
import type { ApplyChecker } from "./apply-check.ts";
import { isWorkBranch } from "./branch-name.ts";
import {
  type BreakerOptions,
  type BreakerView,
  CircuitBreakers,
  transportFailure,
  upstreamForge,
} from "./circuit-breaker.ts";
import { KeyedMutex, mapLimited, Semaphore } from "./concurrency.ts";
import { type ProposalMode, parseRepoPath } from "./publish.ts";
import { RUN_BACKOFF_BASE_MS, runBackoffMs } from "./run-backoff.ts";
import { type ScanOptions, type ScanResult, scanTracking } from "./scan-tracking.ts";
import type { BlobCache } from "./sources/blob-cache.ts";
import { recordUnchanged } from "./unchanged.ts";
import type { HeadResult, Upstream } from "./upstream/types.ts";

export interface ScannerOptions {
  db: Database;
  log: Logger;
  forge: Forge;
  upstreams: Record<Tracking["version_control"], Upstream>;
  /** Seconds between scans. */
  intervalSeconds: number;
  concurrency: number;
  /** Trackings read, looked up and scanned together; default {@link SCAN_SLICE}. */
  sliceSize?: number;
  /** How new commits become proposals; default "rolling". */
  proposals?: ProposalMode;
  /** Tries each commit on the package's sources (APPLY_CHECK); null or absent: off. */
  applyChecker?: ApplyChecker | null;
  /** The package file cache (GIT_BASE_PATH/source-cache) runs read the spec and patches through. */
  sourceCache?: BlobCache | null;
  /** How long a create without an answer may still land before it is sent again. */
  settleMs?: number;
  /** Checks the tokens at start; an AuthFailedError turns the scanner off. */
  checkTokens?: () => Promise<void>;
  /** Milliseconds a stop waits for running publish steps. */
  stopGraceMs?: number;
  /** First delay before a tracking that failed transiently is scanned again; doubles each time. */
  retryBaseMs?: number;
  /** Backoff of a failed publish run after n failed attempts (default: retryBaseMs, doubling). */
  runBackoff?: (attempts: number) => number;
  /** Longest delay between such retries; default 1 hour. */
  retryMaxMs?: number;
  metrics?: ServiceMetrics;
  /** The per-forge circuit breakers' tuning (probe schedule, threshold). */
  breaker?: Omit<BreakerOptions, "onChange">;
  /** The downstream forge's name, for its breaker; default `gitee`. */
  downstreamForge?: string;
}

export interface ScanSummary {
  startedAt: string;
  finishedAt: string;
  trackings: number;
  outcomes: Partial<Record<ScanOutcome, number>>;
}

export interface ScannerState {
  enabled: boolean;
  disabledReason: string | null;
  scanning: boolean;
  lastScan: ScanSummary | null;
  parked: Partial<Record<Service, string>>;
  /** Every forge's circuit breaker that has seen a failure; `open` ones hold trackings back. */
  breakers: BreakerView[];
}

const TOKEN_CHECK_TIMEOUT_MS = 30_000;
/**
 * Trackings per slice of a scan (a multiple of GitHub's 100 refs per head query). A git URL
 * that appears in two slices is looked up once per slice.
 */
export const SCAN_SLICE = 5_000;
/** Idle trackings recorded per write transaction; the event loop runs between two. */
const SETTLE_CHUNK = 500;

export class Scanner {
  private readonly semaphore: Semaphore;
  private readonly repoLocks = new KeyedMutex();
  private readonly inFlight = new Map<string, Promise<ScanResult>>();
  private readonly parked = new Map<Service, number>();
  /** Early retries of trackings whose last scan failed transiently: attempts, due time, timer. */
  private readonly retries = new Map<
    string,
    { attempts: number; at: number; timer: ReturnType<typeof setTimeout> }
  >();
  readonly breakers: CircuitBreakers;
  private probeTimer: ReturnType<typeof setTimeout> | null = null;
  /** A breaker closed while a scan ran: scan again when it ends, for the trackings it held. */
  private rescanPending = false;
  private readonly abort = new AbortController();
  private timer: ReturnType<typeof setInterval> | null = null;
  private wakeTimer: ReturnType<typeof setTimeout> | null = null;
  private currentScan: Promise<ScanSummary> | null = null;
  private lastScan: ScanSummary | null = null;
  private disabledReason: string | null = null;
  private started = false;
  private readonly log: Logger;

  constructor(private readonly options: ScannerOptions) {
    this.semaphore = new Semaphore(options.concurrency);
    this.log = options.log.child({ component: "scan" });
    this.breakers = new CircuitBreakers({
      rampMax: options.concurrency,
      ...options.breaker,
      onChange: (view, subjects) => this.onBreakerChange(view, subjects),
    });
  }

  private onBreakerChange(view: BreakerView, subjects: readonly string[]): void {
    this.options.metrics?.breakerTransitions.inc({ forge: view.forge, to: view.state });
    this.options.metrics?.breakerState.set({ forge: view.forge }, view.state === "open" ? 1 : 0);
    if (view.state === "open") {
      this.log.warn("forge unreachable; its trackings wait", {
        forge: view.forge,
        error: view.lastError,
        nextProbeAt: view.nextProbeAt,
      });
      // The trackings whose failures revealed the outage wait like the others (instead of
      // showing `failed` and retrying on their own schedule).
      for (const subject of subjects) this.holdForOutage(subject, view.forge);
      this.scheduleProbe();
      return;
    }
    this.log.info("forge reachable again; scanning the trackings it held", { forge: view.forge });
    // The next pass takes the held trackings; the breaker's slow start spreads them out.
    if (this.currentScan) this.rescanPending = true;
    else if (!this.abort.signal.aborted && this.disabledReason === null) {
      setTimeout(() => void this.scanAll(), 0);
    }
  }

  private holdForOutage(subject: string, forge: string): void {
    const split = subject.lastIndexOf(":");
    if (split <= 0) return;
    const repo = subject.slice(0, split);
    const branch = subject.slice(split + 1);
    const id = key(repo, branch);
    const retry = this.retries.get(id);
    if (retry) clearTimeout(retry.timer);
    this.retries.delete(id);
    if (getStatus(this.options.db, repo, branch)?.lastOutcome !== "failed") return;
    recordScan(this.options.db, repo, branch, {
      outcome: "waiting",
      error: this.breakers.waitingReason(forge),
    });
  }

  /** One timer for the earliest due probe of all open breakers. */
  private scheduleProbe(): void {
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.probeTimer = null;
    if (this.abort.signal.aborted) return;
    const delay = this.breakers.nextProbeIn();
    if (delay === null) return;
    this.probeTimer = setTimeout(() => {
      this.probeTimer = null;
      for (const forge of this.breakers.probeDue()) void this.probe(forge);
      this.scheduleProbe();
    }, delay);
  }

  /** One request to an unreachable forge: any answer closes its breaker. */
  private async probe(forge: string): Promise<void> {
    const claim = this.breakers.beginProbe(forge);
    if (!claim) return;
    this.options.metrics?.breakerProbes.inc({ forge });
    try {
      await this.sendProbe(forge, claim.subject);
      this.breakers.probeSucceeded(forge);
    } catch (error) {
      if (transportFailure(error)) {
        this.breakers.probeFailed(forge, (error as Error).message);
        this.log.info("forge still unreachable", {
          forge,
          error: (error as Error).message,
          nextProbeAt: this.breakers.views().find((view) => view.forge === forge)?.nextProbeAt,
        });
      } else {
        // The forge answered (even a 404 or a refusal): it is reachable.
        this.breakers.probeSucceeded(forge);
      }
    }
    this.scheduleProbe();
  }

  /**
   * The first enabled tracking (of `forge`, when given), read a slice at a time: at 200,000
   * trackings the probe must not load them all to pick one.
   */
  private firstTrackingOf(forge: string | null): Tracking | null {
    for (const slice of trackingBatches(this.options.db, { enabled: true }, SCAN_SLICE)) {
      const found = slice.find((candidate) => forge === null || forgeOf(candidate) === forge);
      if (found) return found;
    }
    return null;
  }

  /** The probe: the head of one waiting tracking, or a branch look-up downstream. */
  private async sendProbe(forge: string, subject: string | null): Promise<void> {
    const downstream = this.options.downstreamForge ?? "gitee";
    const split = subject?.lastIndexOf(":") ?? -1;
    let tracking =
      subject && split > 0
        ? getTracking(this.options.db, subject.slice(0, split), subject.slice(split + 1))
        : null;
    if (!tracking || (forge !== downstream && forgeOf(tracking) !== forge)) {
      tracking = this.firstTrackingOf(forge === downstream ? null : forge);
    }
    // Nothing waits on this forge any more: nothing to protect.
    if (!tracking) return;
    if (forge === downstream) {
      await this.options.forge.branchExists(parseRepoPath(tracking.repo), tracking.branch);
      return;
    }
    const [result] = await this.options.upstreams[tracking.version_control].heads([
      { repo: tracking.scm_repo, branch: tracking.scm_branch },
    ]);
    if (result && "error" in result) throw result.error;
  }

  /** Checks tokens in the background, then resumes open runs and starts the interval. */
  start(): void {
    if (this.started) return;
    this.started = true;
    void this.boot();
  }

  private async boot(): Promise<void> {
    if (this.options.checkTokens) {
      try {
        await Promise.race([
          this.options.checkTokens(),
          new Promise((_, reject) =>
            setTimeout(
              () => reject(new Error("token check timed out")),
              TOKEN_CHECK_TIMEOUT_MS,
            ).unref(),
          ),
        ]);
      } catch (error) {
        if (error instanceof AuthFailedError) {
          this.disabledReason = `${error.service} token refused: ${error.message}`;
          this.log.error("scanner off: token refused", {
            service: error.service,
            error: error.message,
          });
          return;
        }
        // Unreachable forges are no reason to stay off; each scan retries them.
        this.log.warn("token check inconclusive; scanning anyway", {
          error: (error as Error).message,
        });
      }
    }
    if (this.abort.signal.aborted) return;
    this.timer = setInterval(() => void this.scanAll(), this.options.intervalSeconds * 1000);
    this.log.info("scanner started", {
      intervalSeconds: this.options.intervalSeconds,
      concurrency: this.options.concurrency,
      openRuns: openRuns(this.options.db).length,
    });
    await this.scanAll();
  }

  get enabled(): boolean {
    return this.started && this.disabledReason === null && !this.abort.signal.aborted;
  }

  state(): ScannerState {
    const parked: Partial<Record<Service, string>> = {};
    for (const service of this.parked.keys()) {
      const until = this.parkedUntil(service);
      if (until) parked[service] = new Date(until).toISOString();
    }
    return {
      enabled: this.enabled,
      disabledReason: this.disabledReason,
      scanning: this.currentScan !== null,
      lastScan: this.lastScan,
      parked,
      breakers: this.breakers.views(),
    };
  }

  parkedUntil(service: Service): number | null {
    const until = this.parked.get(service);
    if (until === undefined) return null;
    if (until <= Date.now()) {
      this.parked.delete(service);
      return null;
    }
    return until;
  }

  private park(error: RateLimitedError): void {
    const until = Math.max(error.resetAt, this.parked.get(error.service) ?? 0);
    this.parked.set(error.service, until);
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    // Come back right after the reset instead of waiting for the next interval.
    this.wakeTimer = setTimeout(() => void this.scanAll(), Math.max(0, until - Date.now()) + 1000);
  }

  /**
   * A failed publish run's backoff: from `retryBaseMs` (30 s), or from the scan interval when that
   * is shorter, doubling per failed attempt up to a day.
   */
  private runBackoff(attempts: number): number {
    const base = Math.min(
      this.options.retryBaseMs ?? RUN_BACKOFF_BASE_MS,
      this.options.intervalSeconds * 1000,
    );
    return runBackoffMs(attempts, base);
  }

  /** Scans every enabled tracking; a scan already running is joined, not repeated. */
  scanAll(): Promise<ScanSummary> {
    if (this.currentScan) return this.currentScan;
    const scan = this.runScan().finally(() => {
      this.currentScan = null;
      if (this.rescanPending && this.enabled) {
        this.rescanPending = false;
        void this.scanAll();
      }
    });
    this.currentScan = scan;
    return scan;
  }

  private async runScan(): Promise<ScanSummary> {
    const startedAt = new Date().toISOString();
    const now = Date.now();
    const outcomes: Partial<Record<ScanOutcome, number>> = {};
    let total = 0;
    // The trackings are read and scanned a slice at a time, the next slice's heads looked up
    // while the current one is scanned: a scan holds two slices, however many trackings exist.
    const slices = trackingBatches(
      this.options.db,
      { enabled: true },
      this.options.sliceSize ?? SCAN_SLICE,
    );
    const headsOf = (batch: IteratorResult<Tracking[]>) => {
      if (batch.done) return null;
      const trackings = batch.value.filter(
        (tracking) =>
          !isWorkBranch(tracking.branch) &&
          // A tracking backing off after failures keeps its own schedule (see planRetry).
          (this.retries.get(key(tracking.repo, tracking.branch))?.at ?? 0) <= now,
      );
      return { trackings, heads: this.batchHeads(trackings) };
    };
    let current = headsOf(slices.next());
    while (current) {
      const { trackings } = current;
      const heads = await current.heads;
      const next = headsOf(slices.next());
      total += trackings.length;
      const settled = await this.settleUnchanged(trackings, heads);
      if (settled.size > 0) outcomes.unchanged = (outcomes.unchanged ?? 0) + settled.size;
      // `concurrency` workers walk the rest of the slice, so a scan holds a few pending tasks,
      // not one per tracking.
      const rest = settled.size === 0 ? trackings : trackings.filter((t) => !settled.has(t));
      await mapLimited(rest, this.options.concurrency, async (tracking) => {
        const id = key(tracking.repo, tracking.branch);
        const result = await this.scanOne(tracking.repo, tracking.branch, heads.get(id));
        heads.delete(id);
        outcomes[result.outcome] = (outcomes[result.outcome] ?? 0) + 1;
      });
      current = next;
    }
    const summary = {
      startedAt,
      finishedAt: new Date().toISOString(),
      trackings: total,
      outcomes,
    };
    this.options.metrics?.scanDuration.observe(
      (Date.parse(summary.finishedAt) - Date.parse(startedAt)) / 1000,
    );
    this.lastScan = summary;
    this.log.info("scan finished", { trackings: total, ...outcomes });
    return summary;
  }

  /**
   * Records the trackings of a slice that stand at their upstream head (and have no open run
   * nor a scan under way) as unchanged, a transaction per {@link SETTLE_CHUNK}; returns them.
   * Between chunks the event loop runs, so the next slice's head look-ups (one request after
   * another) are never held up behind thousands of writes.
   */
  private async settleUnchanged(
    trackings: readonly Tracking[],
    heads: Map<string, HeadResult>,
  ): Promise<Set<Tracking>> {
    const idle = trackings.filter((tracking) => {
      const head = heads.get(key(tracking.repo, tracking.branch));
      return (
        head !== undefined &&
        "sha" in head &&
        head.sha === tracking.scm_commit &&
        !this.inFlight.has(key(tracking.repo, tracking.branch)) &&
        !this.parkedUntil(tracking.version_control)
      );
    });
    const settled = new Set<Tracking>();
    for (let start = 0; start < idle.length; start += SETTLE_CHUNK) {
      if (start > 0) await new Promise((resolve) => setImmediate(resolve));
      const chunk = recordUnchanged(this.options.db, idle.slice(start, start + SETTLE_CHUNK), (t) =>
        heads.get(key(t.repo, t.branch)),
      );
      for (const tracking of chunk) {
        settled.add(tracking);
        const id = key(tracking.repo, tracking.branch);
        heads.delete(id);
        // As after any successful scan (planRetry): no early retry stays planned.
        const planned = this.retries.get(id);
        if (planned) {
          clearTimeout(planned.timer);
          this.retries.delete(id);
        }
      }
      if (chunk.size > 0) this.options.metrics?.scans.inc({ outcome: "unchanged" }, chunk.size);
    }
    return settled;
  }

  /** Heads of all trackings, one batched call per upstream kind (unchanged heads cost ~nothing). */
  private async batchHeads(trackings: Tracking[]): Promise<Map<string, HeadResult>> {
    const heads = new Map<string, HeadResult>();
    for (const kind of ["github", "git"] as const) {
      if (this.parkedUntil(kind)) continue;
      // A forge whose breaker is open gets no batch either: its trackings wait without a request.
      const items = trackings.filter(
        (tracking) => tracking.version_control === kind && !this.breakers.isOpen(forgeOf(tracking)),
      );
      if (items.length === 0) continue;
      try {
        const results = await this.options.upstreams[kind].heads(
          items.map((tracking) => ({ repo: tracking.scm_repo, branch: tracking.scm_branch })),
        );
        items.forEach((tracking, index) => {
          const result = results[index];
          if (result) heads.set(key(tracking.repo, tracking.branch), result);
          // An answer for this ref (a sha, or "not found") shows its forge is reachable.
          if (result && !("error" in result && transportFailure(result.error))) {
            this.breakers.succeeded(forgeOf(tracking));
          }
        });
      } catch (error) {
        // Each tracking then asks for its own head and reports its own error.
        this.log.warn("batched head lookup failed", {
          upstream: kind,
          error: (error as Error).message,
        });
      }
    }
    return heads;
  }

  /**
   * Scans one tracking now; joins a scan of the same tracking that is already running. `force`
   * (the scan endpoint) retries a backing-off publish run at once.
   */
  scanOne(
    repo: string,
    branch: string,
    headHint?: HeadResult,
    scanOptions: ScanOptions = {},
  ): Promise<ScanResult> {
    const id = key(repo, branch);
    const running = this.inFlight.get(id);
    if (running) return running;
    const task = this.semaphore
      .run(() =>
        scanTracking(
          {
            db: this.options.db,
            forge: this.options.forge,
            log: this.log,
            repoLocks: this.repoLocks,
            signal: this.abort.signal,
            upstreams: this.options.upstreams,
            proposals: this.options.proposals,
            applyChecker: this.options.applyChecker ?? null,
            sourceCache: this.options.sourceCache ?? null,
            settleMs: this.options.settleMs,
            parkedUntil: (service) => this.parkedUntil(service),
            park: (error) => this.park(error),
            runBackoff: this.options.runBackoff ?? ((attempts) => this.runBackoff(attempts)),
            metrics: this.options.metrics,
            breakers: this.breakers,
            downstreamForge: this.options.downstreamForge,
          },
          repo,
          branch,
          headHint,
          scanOptions,
        ),
      )
      .then((result) => {
        this.options.metrics?.scans.inc({ outcome: result.outcome });
        this.planRetry(id, result);
        return result;
      })
      .finally(() => this.inFlight.delete(id));
    this.inFlight.set(id, task);
    return task;
  }

  /**
   * A transient failure (network, 5xx, timeout) is retried after about 30 s (or one interval,
   * if shorter), then twice as long each time up to an hour, jittered, rather than a whole SCAN_DB_INTERVAL later, and the interval's scans
   * leave the tracking alone meanwhile, so a short interval never means a retry every few
   * seconds. The journaled run makes the retry safe. A forge-wide outage is the circuit
   * breaker's: its trackings wait (no retry is planned for them).
   */
  private planRetry(id: string, result: ScanResult): void {
    const previous = this.retries.get(id);
    if (previous) clearTimeout(previous.timer);
    // Held for an outage meanwhile (see holdForOutage): the breaker brings it back, not a retry.
    const held = getStatus(this.options.db, result.repo, result.branch)?.lastOutcome === "waiting";
    if (held) {
      this.retries.delete(id);
      return;
    }
    if (result.retryAt !== undefined && !this.abort.signal.aborted) {
      // A backing-off publish run: come back when it may try again, if before the next interval.
      const wait = result.retryAt - Date.now();
      if (wait < this.options.intervalSeconds * 1000) {
        const timer = setTimeout(
          () => void this.scanOne(result.repo, result.branch),
          Math.max(0, wait) + 50,
        );
        this.retries.set(id, { attempts: previous?.attempts ?? 0, at: Date.now() + wait, timer });
      } else this.retries.delete(id);
      return;
    }
    if (!result.retryable || this.abort.signal.aborted) {
      this.retries.delete(id);
      return;
    }
    const attempts = (previous?.attempts ?? 0) + 1;
    // The first retry comes within an interval at most; every further one waits twice as long.
    const base = Math.min(this.options.retryBaseMs ?? 30_000, this.options.intervalSeconds * 1000);
    const ceiling = Math.min(base * 2 ** (attempts - 1), this.options.retryMaxMs ?? 3_600_000);
    // Jitter, so trackings that failed together do not come back together.
    const delay = Math.round(ceiling * (0.75 + Math.random() * 0.25));
    const timer = setTimeout(() => {
      void this.scanOne(result.repo, result.branch);
    }, delay);
    this.retries.set(id, { attempts, at: Date.now() + delay, timer });
    this.log.info("scan retry planned", {
      tracking: `${result.repo}:${result.branch}`,
      inSeconds: Math.round(delay / 1000),
      attempt: attempts,
    });
  }

  /** Called when a tracking is saved through the API. */
  onTrackingSaved(tracking: Tracking): void {
    if (!this.enabled || !tracking.enabled || tracking.scm_commit) return;
    // A new tracking records its starting point within seconds, not at the next interval.
    void this.scanOne(tracking.repo, tracking.branch);
  }

  /** Stops scheduling, lets running steps finish (up to the grace period), and returns. */
  async stop(): Promise<void> {
    this.abort.abort();
    if (this.timer) clearInterval(this.timer);
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    if (this.probeTimer) clearTimeout(this.probeTimer);
    for (const { timer } of this.retries.values()) clearTimeout(timer);
    this.retries.clear();
    const pending = [...this.inFlight.values()];
    if (pending.length === 0) return;
    this.log.info("waiting for running scans", { scans: pending.length });
    await Promise.race([
      Promise.allSettled(pending),
      new Promise((resolve) => setTimeout(resolve, this.options.stopGraceMs ?? 10_000)),
    ]);
  }
}

function forgeOf(tracking: Tracking): string {
  return upstreamForge(tracking.version_control, tracking.scm_repo);
}

function key(repo: string, branch: string): string {
  return `${repo}\u0000${branch}`;
}
