/**
 * The Octokit instance behind the GitHub upstream: @octokit/rest with the throttling and retry
 * plugins, a per-attempt timeout, and Octokit's own logging routed to the structured logger.
 *
 * One owner per backoff decision: the retry plugin retries 5xx and network failures only (429 is
 * in its `doNotRetry` list); the throttling plugin owns 403/429 rate limits. A primary limit
 * (`x-ratelimit-remaining: 0`) is never waited out inline — the reset can be an hour away — but
 * surfaces at once as `RateLimitedError{resetAt}` so the scheduler parks GitHub. A secondary
 * limit with a short `retry-after` is retried inline a bounded number of times.
 */
import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";
import { Octokit } from "@octokit/rest";
import { fetchFailureKind } from "../../forge/transport-failure.ts";
import type { Logger } from "../../log.ts";
import { VERSION } from "../../version.ts";

const PluggedOctokit = Octokit.plugin(throttling, retry);
/** Without the throttling plugin: for the read-only GraphQL heads query (see below). */
const RetryingOctokit = Octokit.plugin(retry);
export type GithubOctokit = InstanceType<typeof PluggedOctokit>;
/** What the GraphQL heads query needs of a client. */
export type GithubRequester = Pick<GithubOctokit, "request">;

export interface GithubClientOptions {
  baseUrl: string;
  token: string;
  log: Logger;
  /** Milliseconds before one HTTP attempt is abandoned. */
  timeoutMs: number;
  fetch?: typeof fetch;
  /** Milliseconds per second of suggested wait (Octokit's default 1000; tests set it low). */
  retryAfterBaseValue?: number;
  /**
   * Retries of 5xx answers and cut connections; default 2. A connection that cannot be made
   * (refused, DNS, TLS, proxy) or an attempt that timed out is never repeated inline: the
   * forge's circuit breaker and the scheduler's backoff decide when to try again.
   */
  retries?: number;
  /** Longest secondary-limit wait (seconds) absorbed inline; default 60. */
  maxInlineWaitSeconds?: number;
  /** Inline retries after a secondary limit; default 1. */
  secondaryLimitRetries?: number;
  /** Called after every HTTP attempt with its status (0: no answer), for metrics. */
  onResponse?: (status: number, headers: Headers | null) => void;
}

/** The REST API version this client was written against. */
const API_VERSION = "2022-11-28";
/** The retry plugin's defaults plus 429, which belongs to the throttling plugin. */
const DO_NOT_RETRY = [400, 401, 403, 404, 410, 422, 429, 451];

let instances = 0;

function withTimeout(signal: AbortSignal | null | undefined, timeoutMs: number): AbortSignal {
  const timeout = AbortSignal.timeout(timeoutMs);
  return signal ? AbortSignal.any([signal, timeout]) : timeout;
}

/**
 * A fetch failure the retry plugin must not repeat. Octokit passes an error named `AbortError`
 * through untouched (anything else becomes a retried `RequestError` 500), so the failure keeps
 * its kind in `transport` for `toServiceError`. Only a connection cut mid-answer is retried.
 */
function unretried(error: unknown): unknown {
  const transport = fetchFailureKind(error);
  if (transport === "reset") return error;
  const message = error instanceof Error ? error.message : String(error);
  return Object.assign(new Error(message, { cause: error }), { name: "AbortError", transport });
}

export function createGithubOctokit(options: GithubClientOptions): GithubOctokit {
  return pinApiVersion(new PluggedOctokit(octokitOptions(options)));
}

/**
 * The client for the GraphQL branch-heads query. The throttling plugin paces every GraphQL
 * request like a mutation, one per second, which made 10,000 trackings (100 queries) take 100 s
 * of waiting. The heads query only reads (one secondary-limit point, GitHub allows 2,000 a
 * minute) and `lookupHeads` already sends its queries one after another, as GitHub asks; a rate
 * limit still surfaces as `RateLimitedError` (403/429 through `toServiceError`, `RATE_LIMITED`
 * in the body through `graphqlHeads`), so the scheduler parks GitHub as before.
 */
export function createGithubGraphqlClient(options: GithubClientOptions): GithubRequester {
  return pinApiVersion(new RetryingOctokit(octokitOptions(options)));
}

function octokitOptions(options: GithubClientOptions) {
  const { log, timeoutMs } = options;
  const baseFetch = options.fetch ?? globalThis.fetch;
  // A fresh timeout per attempt, so a retry is not born already expired.
  const onResponse = options.onResponse;
  const timedFetch = (async (input: string | URL | Request, init?: RequestInit) => {
    try {
      const response = await baseFetch(input, {
        ...init,
        signal: withTimeout(init?.signal, timeoutMs),
      });
      onResponse?.(response.status, response.headers);
      return response;
    } catch (error) {
      onResponse?.(0, null);
      throw unretried(error);
    }
  }) as typeof fetch;
  const maxInlineWait = options.maxInlineWaitSeconds ?? 60;
  const secondaryRetries = options.secondaryLimitRetries ?? 1;
  return {
    auth: options.token,
    baseUrl: options.baseUrl.replace(/\/+$/, ""),
    userAgent: `patch-tracking/${VERSION}`,
    // Octokit's lines name method and path only; failures are logged by the callers, typed.
    log: {
      debug: (message: string) => log.debug("octokit", { detail: message }),
      info: (message: string) => log.debug("octokit", { detail: message }),
      warn: (message: string) => log.warn("octokit warning", { detail: message }),
      error: (message: string) => log.debug("octokit", { detail: message }),
    },
    request: { fetch: timedFetch },
    throttle: {
      // A private Bottleneck key: pacing state is not shared with other instances.
      id: `patch-tracking-github-${++instances}`,
      retryAfterBaseValue: options.retryAfterBaseValue ?? 1000,
      onRateLimit: (retryAfter: number, request: { method: string; url: string }) => {
        log.warn("GitHub primary rate limit reached", {
          method: request.method,
          url: request.url,
          retryAfter,
        });
        return false;
      },
      onSecondaryRateLimit: (
        retryAfter: number,
        request: { method: string; url: string },
        _octokit: unknown,
        retryCount: number,
      ) => {
        const again = retryCount < secondaryRetries && retryAfter <= maxInlineWait;
        log.warn("GitHub secondary rate limit reached", {
          method: request.method,
          url: request.url,
          retryAfter,
          retrying: again,
        });
        return again;
      },
    },
    retry: {
      doNotRetry: DO_NOT_RETRY,
      retries: options.retries ?? 2,
      retryAfterBaseValue: options.retryAfterBaseValue ?? 1000,
    },
  };
}

function pinApiVersion<T extends { hook: GithubOctokit["hook"] }>(octokit: T): T {
  octokit.hook.before("request", (request) => {
    request.headers["x-github-api-version"] = API_VERSION;
  });
  return octokit;
}
