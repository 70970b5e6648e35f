/**
 * A GitHub REST/GraphQL emulator answering from real local git repositories, for tests and
 * `npm run demo`. It reproduces what the service depends on (forge-apis.md §2.10): rate-limit
 * headers and per-resource quotas where a 304 is free, ETags, 301 for a renamed branch, compare
 * with its 250-commit default and paging, the patch/diff/sha media types labelled
 * `charset=utf-8`, mbox output, the aliased branch-heads GraphQL query with partial errors, and
 * switchable faults (5xx, primary and secondary rate limits, delays, dropped connections).
 *
 * Standalone: `bun tests/emulators/github.ts --port 8001 --repo owner/name=/path/to/repo`.
 */
import { branchHeads, renameBranch } from "./github-git.ts";
import { answerGraphql } from "./github-graphql.ts";
import {
  DOCS,
  etagMatches,
  JSON_TYPE,
  jsonReply,
  notFound,
  type Reply,
  weakEtag,
} from "./github-reply.ts";
import { restRoute } from "./github-rest.ts";

export type Resource = "core" | "graphql";

export interface RequestRecord {
  method: string;
  /** The URL path as received (still percent-encoded, API prefix included). */
  path: string;
  query: Record<string, string>;
  accept: string | null;
  /** 0 when the connection was dropped by a fault. */
  status: number;
  /** Whether the request was charged to its resource's quota (304s and faults are not). */
  counted: boolean;
  resource: Resource;
}

export type FaultKind = "5xx" | "primary-rate-limit" | "secondary-rate-limit" | "delay" | "drop";

export type Fault =
  | { kind: "5xx"; status?: number }
  /** 403 (or 429) with `x-ratelimit-remaining: 0`. */
  | { kind: "primary-rate-limit"; status?: 403 | 429 }
  /** 403 (or 429) with a "secondary rate limit" message and `retry-after` (null: none). */
  | { kind: "secondary-rate-limit"; status?: 403 | 429; retryAfter?: number | null }
  /** Answers normally after `ms` milliseconds. */
  | { kind: "delay"; ms: number }
  /** Resets the connection without an answer. */
  | { kind: "drop" };

export interface FaultMatcher {
  method?: string;
  /** A substring of, or a pattern for, the request path. */
  path?: string | RegExp;
  resource?: Resource;
  /** How many matching requests get the fault; unlimited when absent. */
  times?: number;
}

export interface GithubEmulatorOptions {
  /** `owner/name` → path of a local git repository (bare or not). */
  repos?: Record<string, string>;
  /** The only token accepted; a random one when absent. */
  token?: string;
  /** REST prefix in Enterprise style (`/api/v3`); GraphQL then lives at `/api/graphql`. */
  prefix?: string;
  /** Primary quota per resource and hour; default 5000. */
  limit?: number;
  /** Port to listen on; default 0 (any free port). */
  port?: number;
  /** Milliseconds every request waits before it is handled (a network round trip); default 0. */
  latencyMs?: number;
  /**
   * Read each repository's branch heads for GraphQL once and keep them until `forgetHeads()`
   * (benchmarks: a `git for-each-ref` per query would be the emulator's cost, not GitHub's,
   * which the latency already stands for). Default false: every query reads them afresh.
   */
  cacheHeads?: boolean;
}

export interface GithubEmulator {
  /** REST base URL (what `GITHUB_API_URL` would hold). */
  url: string;
  graphqlUrl: string;
  token: string;
  requests: RequestRecord[];
  resetLog(): void;
  addRepo(name: string, dir: string): void;
  /** Sets the quota of one resource (both when absent); `resetAt` in epoch milliseconds. */
  setRateLimit(state: { remaining: number; resetAt?: number; resource?: Resource }): void;
  /**
   * Ends the current rate-limit hour: every quota is full again (same limit), resetting an hour
   * from now, as for a client whose next scan comes after GitHub's reset.
   */
  newRateLimitWindow(): void;
  fault(matcher: FaultMatcher, fault: FaultKind | Fault): void;
  clearFaults(): void;
  /** Renames the git branch; requests for the old name then get a 301 to the new one. */
  renameBranch(repo: string, from: string, to: string): Promise<void>;
  /** With `cacheHeads`: the next GraphQL query reads the branch heads again. */
  forgetHeads(): void;
  stop(): Promise<void>;
}

const HOUR = 3_600_000;

interface Quota {
  limit: number;
  remaining: number;
  used: number;
  /** Epoch milliseconds. */
  resetAt: number;
}

function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `emulator-token-${Buffer.from(bytes).toString("hex")}`;
}

function faultSpec(fault: FaultKind | Fault): Fault {
  if (typeof fault !== "string") return fault;
  return fault === "delay" ? { kind: "delay", ms: 1000 } : ({ kind: fault } as Fault);
}

export function startGithubEmulator(options: GithubEmulatorOptions = {}): GithubEmulator {
  const token = options.token ?? randomToken();
  const prefix = (options.prefix ?? "").replace(/\/+$/, "");
  const graphqlPath = prefix ? `${prefix.replace(/\/v3$/, "")}/graphql` : "/graphql";
  const repos = new Map<string, { name: string; dir: string }>();
  const redirects = new Map<string, Map<string, string>>();
  const requests: RequestRecord[] = [];
  let faults: Array<{ matcher: FaultMatcher; fault: Fault; left: number }> = [];
  const limit = options.limit ?? 5000;
  const latencyMs = options.latencyMs ?? 0;
  const quotas: Record<Resource, Quota> = {
    core: { limit, remaining: limit, used: 0, resetAt: Date.now() + HOUR },
    graphql: { limit, remaining: limit, used: 0, resetAt: Date.now() + HOUR },
  };

  function addRepo(name: string, dir: string): void {
    repos.set(name.toLowerCase(), { name, dir });
  }
  for (const [name, dir] of Object.entries(options.repos ?? {})) addRepo(name, dir);

  function quota(resource: Resource): Quota {
    const state = quotas[resource];
    if (Date.now() >= state.resetAt) {
      Object.assign(state, { remaining: state.limit, used: 0, resetAt: Date.now() + HOUR });
    }
    return state;
  }

  function rateHeaders(resource: Resource, remaining?: number): Record<string, string> {
    const state = quota(resource);
    return {
      "x-ratelimit-limit": String(state.limit),
      "x-ratelimit-remaining": String(remaining ?? state.remaining),
      "x-ratelimit-used": String(state.used),
      "x-ratelimit-reset": String(Math.floor(state.resetAt / 1000)),
      "x-ratelimit-resource": resource,
    };
  }

  function takeFault(record: RequestRecord): Fault | null {
    for (const entry of faults) {
      const { matcher } = entry;
      if (entry.left <= 0) continue;
      if (matcher.method && matcher.method.toUpperCase() !== record.method) continue;
      if (matcher.resource && matcher.resource !== record.resource) continue;
      if (typeof matcher.path === "string" && !record.path.includes(matcher.path)) continue;
      if (matcher.path instanceof RegExp && !matcher.path.test(record.path)) continue;
      entry.left--;
      return entry.fault;
    }
    return null;
  }

  function faultReply(fault: Fault, resource: Resource): Reply {
    switch (fault.kind) {
      case "5xx":
        return jsonReply(fault.status ?? 502, { message: "Server Error" }, { free: true });
      case "primary-rate-limit":
        return jsonReply(
          fault.status ?? 403,
          {
            message: "API rate limit exceeded for user ID 1.",
            documentation_url: `${DOCS}/overview/rate-limits-for-the-rest-api`,
          },
          { free: true, headers: rateHeaders(resource, 0) },
        );
      case "secondary-rate-limit": {
        const retryAfter = fault.retryAfter === undefined ? 60 : fault.retryAfter;
        return jsonReply(
          fault.status ?? 403,
          {
            message:
              "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
            documentation_url: `${DOCS}/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits`,
          },
          { free: true, headers: retryAfter === null ? {} : { "retry-after": String(retryAfter) } },
        );
      }
      default:
        throw new Error(`fault ${fault.kind} has no reply`);
    }
  }

  function authorized(request: Request): boolean {
    const header = request.headers.get("authorization") ?? "";
    const match = /^(?:token|bearer)\s+(\S+)$/i.exec(header);
    return match?.[1] === token;
  }

  const cachedHeads = new Map<string, Promise<Map<string, string>>>();
  async function graphqlRoute(request: Request): Promise<Reply> {
    if (request.method !== "POST") return notFound();
    let body: unknown;
    try {
      body = await request.json();
    } catch {
      return jsonReply(400, { message: "Problems parsing JSON", documentation_url: DOCS });
    }
    const state = quota("graphql");
    // One snapshot of each repository's branches per query, however many of them it names.
    const snapshots = options.cacheHeads
      ? cachedHeads
      : new Map<string, Promise<Map<string, string>>>();
    const answer = await answerGraphql(body, {
      rateLimit: {
        cost: 1,
        limit: state.limit,
        remaining: state.remaining - 1,
        used: state.used + 1,
        resetAt: state.resetAt,
      },
      async lookup(owner, name, qualifiedName) {
        const repo = repos.get(`${owner}/${name}`.toLowerCase());
        if (!repo) return { found: false };
        const branch = qualifiedName.replace(/^refs\/heads\//, "");
        let heads = snapshots.get(repo.dir);
        if (!heads) {
          heads = branchHeads(repo.dir);
          snapshots.set(repo.dir, heads);
        }
        return { found: true, oid: (await heads).get(branch) ?? null };
      },
    });
    return jsonReply(200, answer);
  }

  function exhausted(resource: Resource): Reply {
    const message = "API rate limit exceeded for user ID 1.";
    // Over the GraphQL limit GitHub still answers 200, with the error in the body.
    if (resource === "graphql") {
      return jsonReply(200, { errors: [{ type: "RATE_LIMITED", message }] }, { free: true });
    }
    return jsonReply(
      403,
      { message, documentation_url: `${DOCS}/overview/rate-limits-for-the-rest-api` },
      { free: true },
    );
  }

  async function answer(request: Request, url: URL, resource: Resource): Promise<Reply> {
    if (!authorized(request)) {
      return jsonReply(
        401,
        { message: "Bad credentials", documentation_url: DOCS },
        { free: true },
      );
    }
    if (quota(resource).remaining <= 0) return exhausted(resource);
    const api = `${url.origin}${prefix}`;
    if (resource === "graphql") return graphqlRoute(request);
    const reply = await restRoute({ repos, redirects, prefix }, request, url, api, url.origin);
    if (reply.status === 200 && reply.body !== undefined) reply.etag ??= weakEtag(reply.body);
    return reply;
  }

  async function handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const resource: Resource = url.pathname === graphqlPath ? "graphql" : "core";
    const record: RequestRecord = {
      method: request.method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      accept: request.headers.get("accept"),
      status: 0,
      counted: false,
      resource,
    };
    requests.push(record);
    if (latencyMs > 0) await Bun.sleep(latencyMs);
    const fault = takeFault(record);
    if (fault?.kind === "drop") {
      // Erroring the body stream makes Bun reset the connection without an answer.
      return new Response(new ReadableStream({ start: (controller) => controller.error() }));
    }
    if (fault?.kind === "delay") await Bun.sleep(fault.ms);
    const outsidePrefix = resource === "core" && prefix && !url.pathname.startsWith(`${prefix}/`);
    let reply: Reply =
      fault && fault.kind !== "delay"
        ? faultReply(fault, resource)
        : outsidePrefix
          ? notFound()
          : await answer(request, url, resource);
    if (reply.etag && etagMatches(request.headers.get("if-none-match"), reply.etag)) {
      reply = { status: 304, etag: reply.etag, free: true };
    }
    record.status = reply.status;
    record.counted = !reply.free;
    if (record.counted) {
      const state = quota(resource);
      state.remaining = Math.max(0, state.remaining - 1);
      state.used++;
    }
    const headers = new Headers({
      ...rateHeaders(resource),
      "x-github-api-version-selected": "2022-11-28",
      "cache-control": "private, max-age=60, s-maxage=60",
      ...reply.headers,
    });
    if (reply.etag) headers.set("etag", reply.etag);
    return new Response(reply.status === 304 ? null : reply.body, {
      status: reply.status,
      headers,
    });
  }

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: options.port ?? 0,
    fetch: handle,
    error(error) {
      return new Response(JSON.stringify({ message: `emulator error: ${error.message}` }), {
        status: 500,
        headers: { "content-type": JSON_TYPE },
      });
    },
  });
  const origin = `http://127.0.0.1:${server.port}`;

  return {
    url: `${origin}${prefix}`,
    graphqlUrl: `${origin}${graphqlPath}`,
    token,
    requests,
    resetLog: () => {
      requests.length = 0;
    },
    addRepo,
    forgetHeads: () => cachedHeads.clear(),
    setRateLimit({ remaining, resetAt, resource }) {
      for (const name of resource ? [resource] : (["core", "graphql"] as const)) {
        const state = quota(name);
        state.remaining = remaining;
        if (resetAt !== undefined) state.resetAt = resetAt;
      }
    },
    newRateLimitWindow() {
      for (const state of Object.values(quotas)) state.resetAt = Date.now();
    },
    fault(matcher, fault) {
      faults.push({ matcher, fault: faultSpec(fault), left: matcher.times ?? Infinity });
    },
    clearFaults() {
      faults = [];
    },
    async renameBranch(repo, from, to) {
      const entry = repos.get(repo.toLowerCase());
      if (!entry) throw new Error(`unknown repository ${repo}`);
      await renameBranch(entry.dir, from, to);
      const key = repo.toLowerCase();
      if (!redirects.has(key)) redirects.set(key, new Map());
      redirects.get(key)?.set(from, to);
    },
    async stop() {
      await server.stop(true);
    },
  };
}

/** Command line: `--port N --token T --prefix /api/v3 --repo owner/name=/path ...`. */
function parseArgs(argv: string[]): GithubEmulatorOptions {
  const options: GithubEmulatorOptions = { repos: {} };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    i++;
    if (flag === "--port") options.port = Number(value);
    else if (flag === "--token") options.token = value;
    else if (flag === "--prefix") options.prefix = value;
    else if (flag === "--repo") {
      const at = value.indexOf("=");
      if (at <= 0) throw new Error(`--repo wants owner/name=/path, got ${value}`);
      (options.repos as Record<string, string>)[value.slice(0, at)] = value.slice(at + 1);
    } else throw new Error(`unknown flag ${flag}`);
  }
  return options;
}

if (import.meta.main) {
  const emulator = startGithubEmulator(parseArgs(process.argv.slice(2)));
  console.log(`github emulator listening on ${emulator.url} token ${emulator.token}`);
  const shutdown = () => {
    emulator.stop().then(() => process.exit(0));
  };
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);
}
