/**
 * The tracking engine assembled from settings: the Gitee forge, the GitHub and git upstreams,
 * and the scanner that drives them. `main.ts` starts it beside the HTTP server.
 */
import type { Database } from "bun:sqlite";
import { join } from "node:path";
import { trackingCounts } from "./db/status.ts";
import { getTracking } from "./db/trackings.ts";
import { GiteeForge } from "./forge/gitee.ts";
import { FORGE_PROFILES } from "./forge/profiles.ts";
import { budgetWindows, RequestBudget } from "./forge/request-budget.ts";
import type { Forge } from "./forge/types.ts";
import type { Logger } from "./log.ts";
import { createServiceMetrics, type ServiceMetrics } from "./metrics.ts";
import {
  gitProxyEnvironment,
  type ProxyConfig,
  proxiedFetch,
  proxySummary,
  resolveProxies,
} from "./net/proxy.ts";
import { fleetPlanRoutes } from "./routes/plan.ts";
import { scanRoutes } from "./routes/scan.ts";
import { forgeApplyChecker } from "./scan/apply-check.ts";
import type { PlanDeps } from "./scan/plan.ts";
import { planReads } from "./scan/plan-reads.ts";
import { Scanner } from "./scan/scheduler.ts";
import { BlobCache } from "./scan/sources/blob-cache.ts";
import { sourceLimits } from "./scan/sources/limits.ts";
import { settleMsFor } from "./scan/unanswered-creates.ts";
import { createGitUpstream } from "./scan/upstream/git.ts";
import { createGithubUpstream } from "./scan/upstream/github.ts";
import type { RouteContext } from "./server.ts";
import type { Settings } from "./settings.ts";

export interface Engine {
  scanner: Scanner;
  metrics: ServiceMetrics;
  routes: (
    context: RouteContext,
  ) => (ReturnType<typeof scanRoutes> | ReturnType<typeof fleetPlanRoutes>)[];
  onTrackingSaved: (repo: string, branch: string) => void;
  stop(): Promise<void>;
}

export function createEngine(
  settings: Settings,
  db: Database,
  log: Logger,
  /** The outbound proxies (`resolveProxies`); by default from settings and this environment. */
  proxies: ProxyConfig = resolveProxies(settings),
): Engine {
  const timeoutMs = settings.requestTimeout * 1000;
  if (proxies.https || proxies.http)
    log.info("outbound proxy", { component: "scan", ...proxySummary(proxies) });
  const fetchThroughProxy = proxiedFetch(proxies);
  const metrics = createServiceMetrics(() => {
    const counts = trackingCounts(db);
    return [
      [{ state: "total" }, counts.total],
      [{ state: "enabled" }, counts.enabled],
      [{ state: "failing" }, counts.failing],
      [{ state: "open_run" }, counts.openRuns],
    ];
  });
  const profile = FORGE_PROFILES[settings.downstreamForge];
  const forge = new GiteeForge({
    baseUrl: settings.giteeApiUrl,
    token: settings.giteeAccessToken,
    tokenInQuery: settings.giteeTokenInQuery,
    profile,
    budget: new RequestBudget({
      windows: budgetWindows({
        perMinute: settings.downstreamRequestsPerMinute,
        perHour: settings.downstreamRequestsPerHour,
      }),
    }),
    timeoutMs,
    fetch: fetchThroughProxy,
    log: log.child({ component: "gitee" }),
    onResponse: (method, status) => metrics.giteeRequests.inc({ method, status: String(status) }),
  });
  const github = createGithubUpstream({
    baseUrl: settings.githubApiUrl,
    token: settings.githubAccessToken,
    timeoutMs,
    fetch: fetchThroughProxy,
    log: log.child({ component: "github" }),
    onResponse(status, headers) {
      metrics.upstreamRequests.inc({ service: "github", status: String(status) });
      const remaining = Number(headers?.get("x-ratelimit-remaining"));
      const resource = headers?.get("x-ratelimit-resource") ?? "core";
      if (headers?.has("x-ratelimit-remaining") && Number.isFinite(remaining)) {
        metrics.rateLimitRemaining.set({ service: "github", resource }, remaining);
      }
    },
  });
  const git = createGitUpstream({
    basePath: settings.gitBasePath,
    timeoutMs: settings.gitTimeout * 1000,
    lookupTimeoutMs: timeoutMs,
    allowProtocols: settings.gitAllowProtocol,
    proxyEnv: gitProxyEnvironment(proxies),
    fetch: fetchThroughProxy,
    headsLimits: {
      lookupConcurrency: settings.gitLookupConcurrency,
      hostConcurrency: settings.gitHostConcurrency,
    },
    log: log.child({ component: "git" }),
  });
  const upstreams = { github, git };
  const sourceCache = new BlobCache(
    join(settings.gitBasePath, "source-cache"),
    settings.sourceCacheMb * 1024 * 1024,
  );
  const applyCheckerOn = (reads: Forge) =>
    settings.applyCheck
      ? forgeApplyChecker({
          forge: reads,
          cache: sourceCache,
          limits: sourceLimits(settings),
          workRoot: join(settings.gitBasePath, "apply-check"),
        })
      : null;
  const applyChecker = applyCheckerOn(forge);
  /** A dry run's dependencies: a fresh read-only view of Gitee (plan-reads.ts) for each plan. */
  const planDeps = (): PlanDeps => {
    const reads = planReads(forge, sourceCache);
    return {
      db,
      forge: reads,
      upstreams,
      applyChecker: applyCheckerOn(reads),
      proposals: settings.proposals,
      // A forge the scanner holds back (open breaker, rate limit) is not asked by a plan either.
      holds: {
        breakers: scanner.breakers,
        parkedUntil: (service) => scanner.parkedUntil(service),
      },
    };
  };
  const scanner = new Scanner({
    db,
    log,
    forge,
    upstreams,
    intervalSeconds: settings.scanDbInterval,
    concurrency: settings.scanConcurrency,
    proposals: settings.proposals,
    applyChecker,
    // Given whether or not APPLY_CHECK is on: the spec and carried patches are read through it.
    sourceCache,
    settleMs: settleMsFor(timeoutMs),
    metrics,
    async checkTokens() {
      const [gitee, gh] = await Promise.all([forge.whoami(), github.checkToken()]);
      log.info("tokens accepted", { component: "scan", gitee, github: gh });
    },
  });
  return {
    scanner,
    metrics,
    routes: (context) => [
      scanRoutes({ ...context, scanner, planDeps }),
      fleetPlanRoutes({
        ...context,
        fleet: { planDeps, concurrency: settings.scanConcurrency },
      }),
    ],
    onTrackingSaved(repo, branch) {
      const tracking = getTracking(db, repo, branch);
      if (tracking) scanner.onTrackingSaved(tracking);
    },
    stop: () => scanner.stop(),
  };
}
