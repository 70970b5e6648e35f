/**
 * Octokit failures translated into the typed errors of `src/errors.ts`, at the adapter's edge.
 * The scheduler decides from the class alone: park on `RateLimitedError` until `resetAt`, retry
 * later on `TransientError`, stop on `AuthFailedError`, report the rest.
 */
import {
  AuthFailedError,
  NotFoundError,
  RateLimitedError,
  RejectedError,
  ServiceError,
  TransientError,
  type TransportFailure,
} from "../../errors.ts";
import { fetchFailureKind } from "../../forge/transport-failure.ts";

/** What Octokit attaches to a failure (`RequestError`, or the throttling plugin's GraphQL error). */
interface OctokitFailure {
  name?: string;
  /** Set by the client's fetch for connections that could not be made (see `unretried`). */
  transport?: TransportFailure;
  cause?: unknown;
  message?: string;
  status?: number;
  response?: { headers?: Record<string, string | number | undefined>; data?: unknown };
}

/** Fallback wait when GitHub signals a limit without saying for how long (its own advice). */
const DEFAULT_WAIT_MS = 60_000;

function header(failure: OctokitFailure, name: string): string | undefined {
  const value = failure.response?.headers?.[name];
  return value === undefined ? undefined : String(value);
}

function hasRateLimitedGraphqlError(data: unknown): boolean {
  const errors = (data as { errors?: Array<{ type?: string }> } | null)?.errors;
  return Array.isArray(errors) && errors.some((error) => error?.type === "RATE_LIMITED");
}

/** Octokit appends " - <documentation_url>" to GitHub's message; keep only the message. */
export function cleanMessage(message: string | undefined): string {
  return (message ?? "unknown error").replace(/ - https?:\/\/\S+$/, "").trim();
}

/**
 * Epoch milliseconds until which GitHub refuses requests, or null when `failure` is not a rate
 * limit. `retry-after` wins, then `x-ratelimit-reset` with `x-ratelimit-remaining: 0`.
 */
export function rateLimitResetAt(failure: OctokitFailure, now = Date.now()): number | null {
  const status = failure.status;
  const remainingZero = header(failure, "x-ratelimit-remaining") === "0";
  const graphqlLimited = hasRateLimitedGraphqlError(failure.response?.data);
  const limitedMessage = /rate limit/i.test(failure.message ?? "");
  const retryAfterSent = header(failure, "retry-after") !== undefined;
  const candidate =
    status === 429 ||
    graphqlLimited ||
    (status === 403 && (remainingZero || limitedMessage || retryAfterSent)) ||
    (status === undefined && (remainingZero || limitedMessage));
  if (!candidate) return null;
  const retryAfter = Number(header(failure, "retry-after"));
  if (Number.isFinite(retryAfter) && retryAfter > 0) return now + retryAfter * 1000;
  const reset = Number(header(failure, "x-ratelimit-reset"));
  if (remainingZero && Number.isFinite(reset) && reset > 0) return reset * 1000;
  return now + DEFAULT_WAIT_MS;
}

/** How the request failed to reach GitHub, or null when GitHub answered with a status. */
function transportOf(failure: OctokitFailure, status: number | undefined): TransportFailure | null {
  if (failure.transport) return failure.transport;
  if (failure.name === "AbortError" || failure.name === "TimeoutError") return "timeout";
  // Octokit turns a fetch that threw into a 500 without a response, keeping the throw as cause.
  if (failure.response === undefined && (status === undefined || status === 500)) {
    return failure.cause === undefined ? "reset" : fetchFailureKind(failure.cause);
  }
  return status !== undefined && status >= 500 ? "server" : null;
}

/** Translates any failure of a GitHub call; `what` names the call for the message. */
export function toServiceError(error: unknown, what: string, now = Date.now()): ServiceError {
  if (error instanceof ServiceError) return error;
  const failure = (error ?? {}) as OctokitFailure;
  const status = typeof failure.status === "number" ? failure.status : undefined;
  const message = cleanMessage(failure.message);
  const resetAt = rateLimitResetAt(failure, now);
  if (resetAt !== null) {
    const until = new Date(resetAt).toISOString();
    return new RateLimitedError(
      "github",
      `${what}: rate limited until ${until} (${message})`,
      resetAt,
      status,
    );
  }
  const transport = transportOf(failure, status);
  if (transport === "timeout") {
    return new TransientError("github", `${what}: timed out`, undefined, transport);
  }
  if (transport) {
    if (failure.response === undefined) {
      return new TransientError("github", `${what}: ${message}`, undefined, transport);
    }
    return new TransientError("github", `${what}: HTTP ${status} ${message}`, status, transport);
  }
  if (status === undefined) return new TransientError("github", `${what}: ${message}`);
  if (status === 401) {
    return new AuthFailedError("github", `${what}: GitHub refused the token (${message})`, status);
  }
  if (status === 404 || (status === 422 && /no commit found/i.test(message))) {
    return new NotFoundError("github", `${what}: not found (${message})`, status);
  }
  return new RejectedError("github", `${what}: HTTP ${status} ${message}`, status);
}

/** True for Octokit's thrown 304 (an unchanged resource, which costs no quota). */
export function isNotModified(error: unknown): boolean {
  return (error as OctokitFailure | null)?.status === 304;
}
