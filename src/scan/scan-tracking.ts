/**
 * One scan of one tracking: resume its open run if it has one, then compare the upstream head
 * with `scm_commit` and, when commits arrived, journal a run and publish it.
 */
import type { Database } from "bun:sqlite";
import { recordPassedOver } from "../db/carried.ts";
import { getFilters } from "../db/filters.ts";
import { openProposalFor } from "../db/proposals.ts";
import { createRun, openRunFor, type PublishRun, recordAttemptFailure } from "../db/runs.ts";
import { recordScan, type ScanOutcome } from "../db/status.ts";
import { getTracking, setScmCommit, type Tracking } from "../db/trackings.ts";
import { DivergedError, RateLimitedError, ServiceError, TransientError } from "../errors.ts";
import type { ServiceMetrics } from "../metrics.ts";
import { makeTimestamp, workBranchName } from "./branch-name.ts";
import { type CircuitBreakers, transportFailure, upstreamForge } from "./circuit-breaker.ts";
import { type CommitFilter, compileFilters } from "./filters.ts";
import { holdOf } from "./forge-holds.ts";
import { executeRun, type PublishDeps, StoppingError } from "./publish.ts";
import { runBackoffMs } from "./run-backoff.ts";
import { SettlingError } from "./unanswered-creates.ts";
import type { HeadResult, Upstream, UpstreamCommit, UpstreamRef } from "./upstream/types.ts";

/** Largest number of upstream commits proposed in one branch/issue/pull request. */
export const MAX_COMMITS_PER_RUN = 100;
/** Runs one scan may publish for one tracking before leaving the rest to the next scan. */
const MAX_RUNS_PER_SCAN = 10;

export interface ScanTrackingDeps extends PublishDeps {
  upstreams: Record<Tracking["version_control"], Upstream>;
  /** The time until which a service refuses requests, if it is parked (see forge-holds.ts). */
  parkedUntil: (service: ServiceError["service"]) => number | null;
  /** Parks a service after a rate limit. */
  park: (error: RateLimitedError) => void;
  /** Backoff of a failed publish run after n failed attempts; default `runBackoffMs`. */
  runBackoff?: (attempts: number) => number;
  metrics?: ServiceMetrics;
  /** Per-forge circuit breakers: an open one holds the tracking back (outcome `waiting`). */
  breakers?: CircuitBreakers;
  /** The downstream forge's name for its breaker; default `gitee`. */
  downstreamForge?: string;
}

export interface ScanResult {
  repo: string;
  branch: string;
  outcome: ScanOutcome;
  error?: string;
  /** Runs finished during this scan. */
  runs: number;
  /** The failure may pass by itself (network, 5xx): worth an early retry. */
  retryable?: boolean;
  /** When the tracking's failed publish run may be tried again (epoch ms), if it backs off. */
  retryAt?: number;
}

export interface ScanOptions {
  /** Try a backing-off publish run now (the scan endpoint: an operator asked for it). */
  force?: boolean;
}

function upstreamRef(tracking: Tracking): UpstreamRef {
  return { repo: tracking.scm_repo, branch: tracking.scm_branch };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export async function scanTracking(
  deps: ScanTrackingDeps,
  repo: string,
  branch: string,
  headHint?: HeadResult,
  options: ScanOptions = {},
): Promise<ScanResult> {
  const { db } = deps;
  const log = deps.log.child({ tracking: `${repo}:${branch}` });
  let runs = 0;
  let passedOver = 0;
  let head: string | null = null;
  const done = (outcome: ScanOutcome, error?: string): ScanResult => {
    recordScan(db, repo, branch, { outcome, error: error ?? null, upstreamHead: head });
    return { repo, branch, outcome, error, runs };
  };
  const breakers = deps.breakers;
  const subject = `${repo}:${branch}`;
  const downstream = deps.downstreamForge ?? "gitee";
  let upstreamName: string | null = null;
  /** Held back by an open breaker: no request is sent, the tracking waits for the forge. */
  const waiting = (forge: string): ScanResult | null => {
    if (!breakers?.isOpen(forge)) return null;
    breakers.noteWaiting(forge, subject);
    return done("waiting", breakers.waitingReason(forge));
  };
  /** Held back by an open breaker, or parked by a rate limit: no request is sent either way. */
  const blocked = (
    forge: string,
    service: ServiceError["service"],
    name: string,
  ): ScanResult | null => {
    const hold = holdOf(deps, forge, service, name);
    if (!hold) return null;
    if (hold.outcome === "waiting") breakers?.noteWaiting(forge, subject);
    return done(hold.outcome, hold.reason);
  };
  let release: (() => void) | null = null;

  try {
    const open = openRunFor(db, repo, branch);
    if (open) {
      const held = blocked(downstream, "gitee", "Gitee");
      if (held) return held;
      const notBefore = open.nextAttemptAt ? Date.parse(open.nextAttemptAt) : 0;
      if (!options.force && notBefore > Date.now()) {
        // Backing off: nothing is asked of any forge, and the status keeps the last attempt's.
        const error = `publish run ${open.id} failed ${open.attempts} time${open.attempts === 1 ? "" : "s"} (last: ${open.lastError ?? "unknown"}); next try at ${open.nextAttemptAt}`;
        log.debug("publish run backing off", { run: open.id, until: open.nextAttemptAt });
        return { repo, branch, outcome: "failed", error, runs, retryAt: notBefore };
      }
      log.info("resuming publish run", { run: open.id, step: open.step, attempts: open.attempts });
      const finished = await runWithJournal(deps, db, open.id, () => executeRun(deps, open));
      breakers?.succeeded(downstream);
      if (proposedSomething(finished)) runs++;
      else passedOver++;
    }

    let tracking = getTracking(db, repo, branch);
    if (!tracking) return { repo, branch, outcome: "unchanged", runs };
    const upstream = deps.upstreams[tracking.version_control];
    upstreamName = upstreamForge(tracking.version_control, tracking.scm_repo);
    const held = blocked(upstreamName, tracking.version_control, tracking.version_control);
    if (held) return held;
    // Right after an outage the forge gets the held-back trackings a few at a time.
    release = (await breakers?.admit(upstreamName)) ?? null;

    const headResult =
      runs === 0 && headHint ? headHint : (await upstream.heads([upstreamRef(tracking)]))[0];
    if (!headResult) throw new Error("the upstream returned no head");
    if ("error" in headResult) throw headResult.error;
    head = headResult.sha;
    // A hint from the batched look-up is not a fresh answer; the scheduler counted that one.
    if (!(runs === 0 && headHint)) breakers?.succeeded(upstreamName);

    if (!tracking.scm_commit) {
      // Tracking starts "from now": remember the head, propose nothing.
      setScmCommit(db, repo, branch, head);
      log.info("tracking started at the upstream head", { head });
      return done("started");
    }

    const filter = compileFilters(getFilters(db, repo, branch));
    while (
      tracking.scm_commit &&
      tracking.scm_commit !== head &&
      runs + passedOver < MAX_RUNS_PER_SCAN
    ) {
      const base = tracking.scm_commit;
      const commits = await upstream.commitsSince(upstreamRef(tracking), base, head);
      breakers?.succeeded(upstreamName);
      const last = commits.slice(0, MAX_COMMITS_PER_RUN).at(-1);
      if (!last) break;
      const batch = withVerdicts(filter, commits.slice(0, MAX_COMMITS_PER_RUN));
      const filtered = batch.filter((commit) => commit.verdict);
      recordPassedOver(
        db,
        repo,
        branch,
        filtered.map((commit) => ({
          sha: commit.sha,
          message: commit.message,
          reason: commit.verdict ?? "",
        })),
      );
      if (batch.every((commit) => commit.empty || commit.verdict)) {
        // Nothing to apply: move past the empty and filtered commits without a proposal (and
        // without a request to the forge).
        setScmCommit(db, repo, branch, last.sha);
        if (filtered.length > 0) passedOver++;
        log.info(
          filtered.length > 0
            ? "the filters passed over every commit"
            : "only empty commits arrived",
          { from: base, to: last.sha, commits: batch.length, passedOver: filtered.length },
        );
      } else {
        const heldDown = blocked(downstream, "gitee", "Gitee");
        if (heldDown) return heldDown;
        const proposal =
          (deps.proposals ?? "rolling") === "rolling" ? openProposalFor(db, repo, branch) : null;
        const timestamp = proposal?.timestamp ?? makeTimestamp();
        const run = createRun(db, {
          repo,
          branch,
          versionControl: tracking.version_control,
          scmRepo: tracking.scm_repo,
          scmBranch: tracking.scm_branch,
          baseCommit: base,
          timestamp,
          workBranch: proposal?.workBranch ?? workBranchName(timestamp),
          kind: proposal ? "extend" : "new",
          proposalId: proposal?.id ?? null,
          commits: batch,
        });
        log.info("publish run journaled", {
          run: run.id,
          kind: run.kind,
          commits: batch.length,
          from: base,
          to: last.sha,
        });
        const finished = await runWithJournal(deps, db, run.id, () => executeRun(deps, run));
        breakers?.succeeded(downstream);
        if (proposedSomething(finished)) runs++;
        else passedOver++;
      }
      tracking = getTracking(db, repo, branch);
      if (!tracking) break;
    }
    if (runs > 0) return done("proposed");
    if (passedOver > 0) return done("passed-over");
    return done(tracking?.scm_commit === head ? "unchanged" : "skipped-empty");
  } catch (error) {
    if (error instanceof StoppingError)
      return { repo, branch, outcome: "failed", error: error.message, runs };
    if (breakers && error instanceof ServiceError) {
      const forge = error.service === "gitee" ? downstream : upstreamName;
      if (forge) {
        breakers.report(forge, subject, error);
        // The failure that opened the breaker (or came in while it opened) is the outage's.
        if (transportFailure(error)) {
          const held = waiting(forge);
          if (held) {
            log.warn("forge unreachable; tracking waits", { forge, error: describe(error) });
            return held;
          }
        }
      }
    }
    if (error instanceof RateLimitedError) {
      deps.park(error);
      log.warn("rate limited; parked", {
        service: error.service,
        until: new Date(error.resetAt).toISOString(),
      });
      return done("parked", describe(error));
    }
    if (error instanceof SettlingError) {
      // Parked until the settle period is over (the run's next attempt time); nothing is stuck.
      log.info("publish run waits for an unanswered create", {
        item: error.item,
        until: new Date(error.until).toISOString(),
      });
      return { ...done("failed", describe(error)), retryAt: error.until };
    }
    if (error instanceof DivergedError) {
      log.error("upstream history rewritten; nothing proposed", { error: describe(error) });
      return done("diverged", describe(error));
    }
    log.error("scan failed", { error: describe(error) });
    const backingOff = openRunFor(db, repo, branch)?.nextAttemptAt;
    return {
      ...done("failed", describe(error)),
      retryable: error instanceof TransientError,
      ...(backingOff ? { retryAt: Date.parse(backingOff) } : {}),
    };
  } finally {
    release?.();
  }
}

/** False for a run that finished without a proposal (every commit already carried). */
function proposedSomething(run: PublishRun): boolean {
  return run.issueNumber !== null;
}

/** The batch with each commit's filter verdict: null when proposed, `passed over: …` if not. */
export function withVerdicts<T extends UpstreamCommit>(
  filter: CommitFilter,
  commits: readonly T[],
): (T & { verdict: string | null })[] {
  return commits.map((commit) => ({
    ...commit,
    verdict: commit.empty ? null : filter.verdict(commit),
  }));
}

/** Runs a publish attempt, recording its failure on the journaled run before passing it on. */
async function runWithJournal<T>(
  deps: ScanTrackingDeps,
  db: Database,
  runId: number,
  attempt: () => Promise<T>,
) {
  try {
    const result = await attempt();
    deps.metrics?.publishRuns.inc({ outcome: "done" });
    return result;
  } catch (error) {
    if (!(error instanceof StoppingError)) {
      // A rate limit parks the whole forge instead; the run itself did nothing wrong. A run
      // waiting for an unanswered create to settle goes again when the settle period is over.
      const backoff =
        error instanceof RateLimitedError
          ? undefined
          : error instanceof SettlingError
            ? () => error.until - Date.now()
            : (deps.runBackoff ?? runBackoffMs);
      const run = recordAttemptFailure(db, runId, describe(error), backoff);
      if (run?.nextAttemptAt) {
        deps.log.info("publish run backs off", {
          run: runId,
          attempts: run.attempts,
          until: run.nextAttemptAt,
        });
      }
      deps.metrics?.publishRuns.inc({ outcome: "failed" });
    }
    deps.log.debug("publish attempt failed", { run: runId, error: describe(error) });
    throw error;
  }
}
