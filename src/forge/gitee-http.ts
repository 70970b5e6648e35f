/**
 * Raw HTTP for the Gitee v5 API: authentication, timeouts, retries with backoff and jitter, and
 * translation of every failure into the typed errors of `src/errors.ts`.
 *
 * Only requests that cannot have taken effect are retried here: reads, and writes the forge
 * refused with 429 before doing anything. A write whose answer was lost (timeout, dropped
 * connection, 5xx) is *not* repeated blindly — it may have happened — so the error goes up to the
 * ensure operations in `gitee.ts`, which look at the forge before writing again.
 */
import {
  AuthFailedError,
  NotFoundError,
  RateLimitedError,
  RejectedError,
  TransientError,
} from "../errors.ts";
import type { Logger } from "../log.ts";
import { VERSION } from "../version.ts";
import { FORGE_PROFILES, type ForgeProfile, webBaseOf } from "./profiles.ts";
import type { RequestBudget } from "./request-budget.ts";
import { fetchFailureKind } from "./transport-failure.ts";

export interface GiteeHttpOptions {
  /** API base, e.g. `https://gitee.com/api/v5`. */
  baseUrl: string;
  token: string;
  /** Send the token as `access_token` instead of an Authorization header. */
  tokenInQuery?: boolean;
  timeoutMs?: number;
  log: Logger;
  /** Attempts after the first for retryable requests. */
  retries?: number;
  /** First backoff delay; doubles each attempt, with jitter. */
  backoffMs?: number;
  /** A Retry-After longer than this is not waited out here: the caller parks instead. */
  maxRetryAfterMs?: number;
  fetch?: typeof fetch;
  /** Called after every answer (status, or 0 for a network failure), for metrics. */
  onResponse?: (method: string, status: number) => void;
  /** What differs between Gitee-shaped forges (token header, statuses); default gitee. */
  profile?: ForgeProfile;
  /** Client-side pacing; every request (retries included) takes its turn. */
  budget?: RequestBudget;
}

export interface GiteeResponse<T> {
  status: number;
  data: T;
  headers: Headers;
}

export type QueryValue = string | number | boolean | undefined;

export interface RequestOptions {
  query?: Record<string, QueryValue>;
  body?: Record<string, unknown>;
  /** Statuses returned to the caller instead of thrown (e.g. 404 for look-ups). */
  accept?: number[];
  /** A request with no parameters (`GET /user`): a profile's missing-token status means that. */
  tokenCheck?: boolean;
}

const DEFAULT_RATE_LIMIT_WAIT_MS = 60_000;

/** Encodes each path segment, keeping the slashes between them. */
export function encodePath(path: string): string {
  return path
    .split("/")
    .map((segment) => encodeURIComponent(segment))
    .join("/");
}

/** The forge's own words from an error body (JSON `message`, `messages`, OAuth fields, or text). */
export function errorText(body: string): string {
  try {
    const parsed = JSON.parse(body) as Record<string, unknown>;
    if (typeof parsed.message === "string") return parsed.message;
    if (Array.isArray(parsed.messages)) return parsed.messages.join("; ");
    if (typeof parsed.error_description === "string") return parsed.error_description;
    // GitCode's error shape (assumed from its reference: error_code + error_message).
    if (typeof parsed.error_message === "string") return parsed.error_message;
    if (typeof parsed.error === "string") return parsed.error;
  } catch {
    // Not JSON: Gitee answers some refusals with an nginx HTML page.
  }
  const text = body
    .replace(/<[^>]+>/g, " ")
    .replace(/\s+/g, " ")
    .trim();
  return text.slice(0, 300) || "(empty body)";
}

function retryAfterMs(headers: Headers, now: number): number | null {
  const value = headers.get("retry-after");
  if (value) {
    const seconds = Number(value);
    if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
    const date = Date.parse(value);
    if (!Number.isNaN(date)) return Math.max(0, date - now);
  }
  const reset = Number(headers.get("x-ratelimit-reset"));
  if (headers.get("x-ratelimit-remaining") === "0" && Number.isFinite(reset) && reset > 0) {
    return Math.max(0, reset * 1000 - now);
  }
  return null;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class GiteeHttp {
  private readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly maxRetryAfterMs: number;
  private readonly timeoutMs: number;
  readonly profile: ForgeProfile;

  constructor(private readonly options: GiteeHttpOptions) {
    this.profile = options.profile ?? FORGE_PROFILES.gitee;
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.fetchImpl = options.fetch ?? fetch;
    this.retries = options.retries ?? 3;
    this.backoffMs = options.backoffMs ?? 500;
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? 30_000;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** Base of the web pages, derived from the API base (`https://gitee.com/api/v5` → `https://gitee.com`). */
  webBase(): string {
    return webBaseOf(this.profile, this.baseUrl);
  }

  async request<T>(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<GiteeResponse<T>> {
    const retryable = method === "GET" || method === "HEAD";
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once<T>(method, path, options);
      } catch (error) {
        const waitMs = this.retryDelay(error, retryable, attempt);
        if (waitMs === null) throw error;
        this.options.log.debug("gitee request retried", {
          method,
          path,
          attempt: attempt + 1,
          waitMs,
          error,
        });
        await sleep(waitMs);
      }
    }
  }

  /** How long to wait before trying again, or null to give up and throw. */
  private retryDelay(error: unknown, retryable: boolean, attempt: number): number | null {
    if (attempt >= this.retries) return null;
    if (error instanceof RateLimitedError) {
      // The forge did not process a rate-limited request, so even writes may be repeated.
      const wait = error.resetAt - Date.now();
      return wait <= this.maxRetryAfterMs ? Math.max(wait, 0) + this.jitter() : null;
    }
    if (error instanceof TransientError && retryable) {
      // A forge that cannot be connected to (or did not answer within the timeout) gets one
      // more try at most: its circuit breaker, not this loop, waits out an outage.
      const unreachable = error.transport !== null && error.transport !== "server";
      if (unreachable && attempt >= 1) return null;
      return this.backoffMs * 2 ** attempt + this.jitter();
    }
    return null;
  }

  private jitter(): number {
    return Math.floor(Math.random() * this.backoffMs);
  }

  private async once<T>(
    method: string,
    path: string,
    options: RequestOptions,
  ): Promise<GiteeResponse<T>> {
    const url = new URL(`${this.baseUrl}${path}`);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const headers: Record<string, string> = {
      accept: "application/json",
      "user-agent": `patch-tracking/${VERSION}`,
    };
    let body: Record<string, unknown> | undefined = options.body;
    if (this.options.tokenInQuery) {
      if (method === "GET" || method === "DELETE")
        url.searchParams.set("access_token", this.options.token);
      else body = { ...body, access_token: this.options.token };
    } else {
      const { name, prefix } = this.profile.tokenHeader;
      headers[name] = `${prefix}${this.options.token}`;
    }
    if (body) headers["content-type"] = "application/json";

    await this.options.budget?.take();
    let response: Response;
    let text: string;
    try {
      response = await this.fetchImpl(url, {
        method,
        headers,
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(this.timeoutMs),
        redirect: "follow",
      });
      text = await response.text();
    } catch (error) {
      this.options.onResponse?.(method, 0);
      const transport = fetchFailureKind(error);
      const reason =
        transport === "timeout"
          ? `no answer within ${this.timeoutMs} ms`
          : (error as Error).message;
      throw new TransientError("gitee", `${method} ${path}: ${reason}`, undefined, transport);
    }
    this.options.onResponse?.(method, response.status);

    const { status } = response;
    if ((status >= 200 && status < 300) || options.accept?.includes(status)) {
      let data: unknown = null;
      if (text !== "") {
        try {
          data = JSON.parse(text);
        } catch {
          // An accepted refusal (e.g. a 404 read as "absent") may come as an HTML page.
          if (status >= 300) return { status, data: text as T, headers: response.headers };
          throw new TransientError(
            "gitee",
            `${method} ${path}: answer ${status} is not JSON`,
            status,
          );
        }
      }
      return { status, data: data as T, headers: response.headers };
    }
    const message = `${method} ${path}: ${status} ${errorText(text)}`;
    const isHtml = (response.headers.get("content-type") ?? "").includes("text/html");
    if (status === 401) throw new AuthFailedError("gitee", message, status);
    // GitCode answers a missing token with 400; a parameterless read has nothing else to miss.
    if (this.profile.missingTokenStatuses.includes(status) && options.tokenCheck) {
      throw new AuthFailedError("gitee", message, status);
    }
    if (
      status === 429 ||
      (status === 403 && (isHtml || response.headers.get("x-ratelimit-remaining") === "0"))
    ) {
      const wait = retryAfterMs(response.headers, Date.now()) ?? DEFAULT_RATE_LIMIT_WAIT_MS;
      throw new RateLimitedError("gitee", message, Date.now() + wait, status);
    }
    if (status === 404) throw new NotFoundError("gitee", message, status);
    if (status >= 500) throw new TransientError("gitee", message, status, "server");
    if (status === 408) throw new TransientError("gitee", message, status);
    throw new RejectedError("gitee", message, status);
  }

  /** Every item of a paginated list (`per_page` 100, `total_page` header or a short page ends it). */
  async list<T>(path: string, query: Record<string, QueryValue> = {}, maxPages = 20): Promise<T[]> {
    const items: T[] = [];
    for (let page = 1; page <= maxPages; page++) {
      const response = await this.request<T[]>("GET", path, {
        query: { ...query, page, per_page: 100 },
      });
      const batch = Array.isArray(response.data) ? response.data : [];
      items.push(...batch);
      const totalPages = Number(response.headers.get("total_page"));
      if (
        batch.length < 100 ||
        (Number.isFinite(totalPages) && totalPages > 0 && page >= totalPages)
      )
        break;
    }
    return items;
  }
}
