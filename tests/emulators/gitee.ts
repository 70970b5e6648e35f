/**
 * A Gitee v5 API emulator: a real HTTP server on 127.0.0.1 holding repositories (branches with
 * their own files, issues, pull requests) in memory, answering with Gitee's status codes and
 * bodies (forge-apis.md §1.12), logging every request, and failing on demand (5xx, 429, nginx
 * HTML 403, delays, dropped connections, and writes that happen but whose answer is lost).
 * Tests and `npm run demo` point `GITEE_API_URL` at `url`.
 *
 * GitCode mode (`flavor: "gitcode"`, forge-apis §10.3) answers like api.gitcode.com where it
 * differs: the token also comes in a `PRIVATE-TOKEN` header, a missing token is 400, errors carry
 * `error_code`/`error_message`, a missing file is 404, and an issue is edited with POST instead of
 * PATCH. `missingFile` makes a Gitee-mode server answer missing files with a 404 of any wording
 * (Gitee-compatible servers do), and `rateLimit` answers 429 beyond a request budget.
 *
 * Standalone: `bun tests/emulators/gitee.ts --port 8002 --repo src-openeuler/demo=/path/to/files`.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { TEST_GITEE_TOKEN } from "../helpers/settings.ts";
import {
  type ArmedFault,
  droppedResponse,
  type FaultMatcher,
  failureReply,
  faultName,
  type GiteeFault,
  refusal,
  takeFault,
} from "./gitee-faults.ts";
import {
  compareRequests,
  type ExpectedRequest,
  type ExpectOptions,
  type RequestRecord,
  type TokenCarrier,
} from "./gitee-log.ts";
import { findRoute, type Reply, reply, type World } from "./gitee-routes.ts";
import type { BotUser, Site } from "./gitee-shapes.ts";
import {
  addRepo,
  blobSha,
  branchFrom,
  type CommitRecord,
  commit,
  createStore,
  headSha,
  type IssueRecord,
  type IssueState,
  newIssueNumber,
  type PullRecord,
  type PullState,
  type RepoState,
  requireBranch,
  requireRepo,
  takeId,
  toBytes,
} from "./gitee-store.ts";

export type { FaultMatcher, GiteeFault } from "./gitee-faults.ts";
export type { ExpectedRequest, ExpectOptions, RequestRecord } from "./gitee-log.ts";
export type {
  CommitRecord,
  IssueRecord,
  IssueState,
  PullRecord,
  PullState,
} from "./gitee-store.ts";

const BASE = "/api/v5";
const JSON_TYPE = "application/json; charset=utf-8";
const UNAUTHORIZED = { message: "401 Unauthorized: Access token does not exist" };
const NOT_FOUND: Reply = { status: 404, json: { message: "Not Found" } };

export interface GiteeEmulatorOptions {
  /** Port to listen on; default 0 (any free port). */
  port?: number;
  /** The only accepted access token; default the suite's TEST_GITEE_TOKEN. */
  token?: string;
  /** Login of the token's user (the bot); default `patch-tracking-bot`. */
  login?: string;
  /** Web base of `html_url`s; default `https://gitee.com`. */
  webUrl?: string;
  /** Milliseconds every request waits before it is handled (a network round trip); default 0. */
  latencyMs?: number;
  /** Which forge to imitate where they differ; default gitee. */
  flavor?: "gitee" | "gitcode";
  /** The answer to a read of a missing file; default 200 [] (gitee) or a 404 (gitcode). */
  missingFile?: { status: number; json: unknown };
  /** Budgets of API requests; beyond one, 429 with Retry-After (nothing else happens). */
  rateLimit?: { limit: number; windowMs: number }[];
}

export interface FileSnapshot {
  /** The bytes decoded as UTF-8. */
  text: string;
  bytes: Uint8Array;
  /** Git blob sha, as the contents API reports it. */
  sha: string;
}

export interface BranchSnapshot {
  name: string;
  /** Head commit. */
  sha: string;
  /** Oldest first. */
  commits: CommitRecord[];
  files: Record<string, FileSnapshot>;
}

/** A copy of one repository's state, for assertions. */
export interface RepoSnapshot {
  fullName: string;
  defaultBranch: string;
  branches: Record<string, BranchSnapshot>;
  issues: IssueRecord[];
  pulls: PullRecord[];
}

export interface GiteeEmulator {
  /** API base, `http://127.0.0.1:PORT/api/v5` (what `GITEE_API_URL` holds). */
  url: string;
  token: string;
  /** Login of the token's user. */
  login: string;
  /** Every request received, oldest first (live; cleared by resetLog). */
  requests: readonly RequestRecord[];
  /** The non-GET requests of the log. */
  writes(): RequestRecord[];
  resetLog(): void;
  /** Requests received and not yet answered (a delayed write may still land). */
  inFlight(): number;
  /** Throws, listing unexpected and missing calls, unless the log matches `expected`. */
  expectRequests(expected: ExpectedRequest[], options?: ExpectOptions): void;
  /** Creates `owner/name` with one branch (default `master`) holding `files`. */
  addRepo(
    path: string,
    options?: { defaultBranch?: string; files?: Record<string, string | Uint8Array> },
  ): void;
  /** Creates branch `name` at `from`'s head (default: the default branch), copying its files. */
  addBranch(repo: string, name: string, from?: string): void;
  /** Writes a file as a new commit on the branch; returns the commit sha. */
  setFile(
    repo: string,
    branch: string,
    path: string,
    content: string | Uint8Array,
    message?: string,
  ): string;
  /** Adds an issue directly, e.g. one by another user (`creator`) or already closed. */
  addIssue(
    repo: string,
    issue: { title: string; body?: string; state?: IssueState; creator?: string },
  ): IssueRecord;
  setIssueState(repo: string, number: string, state: IssueState): void;
  setPullState(repo: string, number: number, state: PullState): void;
  /**
   * Merges a pull request as a maintainer would: the base branch takes the head's files. With
   * `closeRelatedIssues` (Gitee's `close_related_issue` merge option, forge-apis §1.10) the
   * issues its body mentions as `#<number>` are closed too.
   */
  mergePull(repo: string, number: number, options?: { closeRelatedIssues?: boolean }): void;
  repo(path: string): RepoSnapshot;
  /** Arms a fault for matching requests (first armed match wins). */
  fault(matcher: FaultMatcher, fault: GiteeFault): void;
  clearFaults(): void;
  stop(): Promise<void>;
}

interface ParsedBody {
  body: Record<string, unknown>;
  /** Whether any body was sent. */
  present: boolean;
  /** Set when the body could not be parsed. */
  error?: string;
  raw?: string;
}

/** Reads a JSON, URL-encoded or multipart body; other types are tried as JSON, then as a form. */
async function readBody(request: Request): Promise<ParsedBody> {
  const type = (request.headers.get("content-type") ?? "").toLowerCase();
  if (type.includes("multipart/form-data")) {
    const form = await request.formData();
    const body: Record<string, unknown> = {};
    form.forEach((value, key) => {
      if (typeof value === "string") body[key] = value;
    });
    return { body, present: true };
  }
  const raw = await request.text();
  if (raw === "") return { body: {}, present: false };
  const looksJson = type.includes("json") || (!type.includes("urlencoded") && /^\s*\{/.test(raw));
  if (!looksJson) return { body: Object.fromEntries(new URLSearchParams(raw)), present: true };
  try {
    const parsed: unknown = JSON.parse(raw);
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) {
      return { body: parsed as Record<string, unknown>, present: true };
    }
    return { body: {}, present: true, error: "body is not a JSON object", raw };
  } catch {
    return { body: {}, present: true, error: "body is not valid JSON", raw };
  }
}

/** The token and where it came from: Authorization header, then query, then body. */
function findToken(
  request: Request,
  query: URLSearchParams,
  body: Record<string, unknown>,
  flavor: "gitee" | "gitcode",
): { token: string; via: TokenCarrier } | null {
  const header = /^(?:bearer|token)\s+(\S+)\s*$/i.exec(request.headers.get("authorization") ?? "");
  if (header?.[1]) return { token: header[1], via: "header" };
  const privateToken = request.headers.get("private-token");
  if (flavor === "gitcode" && privateToken) return { token: privateToken, via: "private-token" };
  const inQuery = query.get("access_token");
  if (inQuery) return { token: inQuery, via: "query" };
  if (typeof body.access_token === "string") return { token: body.access_token, via: "body" };
  return null;
}

/** Decoded non-empty segments, or null for malformed percent-encoding. */
function decodeSegments(path: string): string[] | null {
  try {
    return path
      .split("/")
      .filter((segment) => segment !== "")
      .map(decodeURIComponent);
  } catch {
    return null;
  }
}

const STATUS_NAMES: Record<number, string> = {
  400: "BAD_REQUEST",
  401: "UNAUTHORIZED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  409: "CONFLICT",
  422: "UNPROCESSABLE_ENTITY",
  429: "TOO_MANY_REQUESTS",
};

/**
 * A Gitee error body in GitCode's shape. Assumption: GitCode's reference shows `error_code` and
 * `error_message`; the exact field set of every error is not confirmed (forge-apis §10.3).
 */
function gitcodeError(status: number, json: unknown): unknown {
  const body = (json ?? {}) as { message?: unknown; messages?: unknown };
  const message =
    typeof body.message === "string"
      ? body.message
      : Array.isArray(body.messages)
        ? body.messages.join("; ")
        : null;
  if (message === null) return json;
  return {
    error_code: status,
    error_code_name: STATUS_NAMES[status] ?? "ERROR",
    error_message: message,
  };
}

function toResponse(answer: Reply, flavor: "gitee" | "gitcode" = "gitee"): Response {
  const headers = new Headers(answer.headers);
  if (answer.html !== undefined) {
    headers.set("content-type", "text/html");
    return new Response(answer.html, { status: answer.status, headers });
  }
  headers.set("content-type", JSON_TYPE);
  const json =
    flavor === "gitcode" && answer.status >= 400
      ? gitcodeError(answer.status, answer.json)
      : answer.json;
  return new Response(JSON.stringify(json ?? null), { status: answer.status, headers });
}

function snapshot(repo: RepoState): RepoSnapshot {
  const branches: Record<string, BranchSnapshot> = {};
  const decoder = new TextDecoder();
  for (const branch of repo.branches.values()) {
    const files: Record<string, FileSnapshot> = {};
    for (const [path, bytes] of [...branch.files].sort(([a], [b]) => a.localeCompare(b))) {
      files[path] = { text: decoder.decode(bytes), bytes: bytes.slice(), sha: blobSha(bytes) };
    }
    branches[branch.name] = {
      name: branch.name,
      sha: headSha(branch),
      commits: branch.commits.map((record) => ({ ...record })),
      files,
    };
  }
  return {
    fullName: `${repo.owner}/${repo.name}`,
    defaultBranch: repo.defaultBranch,
    branches,
    issues: repo.issues.map((issue) => ({
      ...issue,
      labels: [...issue.labels],
      comments: [...issue.comments],
    })),
    pulls: repo.pulls.map((pull) => ({ ...pull, comments: [...pull.comments] })),
  };
}

/** Starts the emulator on 127.0.0.1. */
export function startGiteeEmulator(options: GiteeEmulatorOptions = {}): GiteeEmulator {
  const token = options.token ?? TEST_GITEE_TOKEN;
  const user: BotUser = {
    id: 6_000_001,
    login: options.login ?? "patch-tracking-bot",
    name: "patch-tracking bot",
  };
  const store = createStore();
  const requests: RequestRecord[] = [];
  let faults: ArmedFault[] = [];
  const latencyMs = options.latencyMs ?? 0;
  // `site.api` is filled in once the server has its port.
  const flavor = options.flavor ?? "gitee";
  const site: Site = {
    api: "",
    web: options.webUrl ?? (flavor === "gitcode" ? "https://gitcode.com" : "https://gitee.com"),
    user,
  };
  const world: World = {
    store,
    site,
    flavor,
    missingFile:
      options.missingFile ??
      (flavor === "gitcode" ? { status: 404, json: { message: "404 File Not Found" } } : null),
  };
  /** Send times of the API requests inside the longest rate-limit window. */
  const sentTimes: number[] = [];

  /** Counts a request against `rateLimit`; the 429 to answer when it is over budget. */
  function overBudget(now: number): Reply | null {
    const windows = options.rateLimit ?? [];
    if (windows.length === 0) return null;
    const longest = Math.max(...windows.map((window) => window.windowMs));
    while (sentTimes.length > 0 && (sentTimes[0] ?? 0) <= now - longest) sentTimes.shift();
    let retryMs = 0;
    for (const { limit, windowMs } of windows) {
      const inside = sentTimes.filter((time) => time > now - windowMs);
      if (inside.length >= limit) {
        retryMs = Math.max(retryMs, (inside[inside.length - limit] ?? now) + windowMs - now);
      }
    }
    if (retryMs > 0) {
      return reply(
        429,
        { message: "Rate limit exceeded" },
        { "retry-after": String(Math.max(1, Math.ceil(retryMs / 1000))) },
      );
    }
    sentTimes.push(now);
    return null;
  }

  /** Routing, body check, authentication, then the endpoint itself. */
  function serve(
    method: string,
    segments: string[],
    query: URLSearchParams,
    parsed: ParsedBody,
    presented: string | null,
  ): Reply {
    const handler = findRoute(method, segments, flavor);
    if (!handler) return NOT_FOUND;
    // Assumption: Gitee's wording for an unparsable body is not documented.
    if (parsed.error) return reply(400, { message: parsed.error });
    // GitCode answers a request without any token with 400 (forge-apis §10.3).
    if (presented === null && flavor === "gitcode") {
      return reply(400, { message: "access_token is required" });
    }
    if (presented !== token) return reply(401, UNAUTHORIZED);
    return handler(world, { method, segments, query, body: parsed.body });
  }

  function withoutToken(entries: Record<string, unknown>): Record<string, unknown> {
    const { access_token: _, ...rest } = entries;
    return rest;
  }

  let inFlight = 0;

  async function handle(request: Request): Promise<Response> {
    inFlight++;
    try {
      return await handleCounted(request);
    } finally {
      inFlight--;
    }
  }

  async function handleCounted(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname.startsWith("/_emulator/")) return inspect(url);
    const method = request.method.toUpperCase();
    const query = url.searchParams;
    const parsed = await readBody(request);
    const inBase = url.pathname === BASE || url.pathname.startsWith(`${BASE}/`);
    const rawPath = inBase ? url.pathname.slice(BASE.length) || "/" : url.pathname;
    const segments = decodeSegments(rawPath);
    const presented = findToken(request, query, parsed.body, flavor);
    const record: RequestRecord = {
      method,
      path: segments ? `/${segments.join("/")}` : rawPath,
      rawPath,
      query: withoutToken(Object.fromEntries(query)) as Record<string, string>,
      body: parsed.present ? (parsed.error ? parsed.raw : withoutToken(parsed.body)) : null,
      tokenVia: presented?.via ?? null,
      status: 0,
      time: Date.now(),
    };
    requests.push(record);
    if (latencyMs > 0) await Bun.sleep(latencyMs);

    const fault = takeFault(faults, method, record.path);
    if (fault) record.fault = faultName(fault);
    if (fault && "drop" in fault) return droppedResponse();
    if (fault && "delayMs" in fault) await Bun.sleep(fault.delayMs);
    if (fault && "landsLate" in fault) await Bun.sleep(fault.landsLate.afterMs);
    const located = inBase && segments !== null;
    let answer =
      refusal(fault) ??
      (located ? overBudget(Date.now()) : null) ??
      (located ? serve(method, segments, query, parsed, presented?.token ?? null) : NOT_FOUND);
    if (fault && "afterWrite" in fault) {
      record.handledStatus = answer.status;
      if ("drop" in fault.afterWrite) return droppedResponse();
      answer = failureReply(fault.afterWrite.status);
    }
    record.status = answer.status;
    return toResponse(answer, flavor);
  }

  /** Read-only views outside the API, for the demo: `/_emulator/repos/o/r`, `/_emulator/requests`. */
  function inspect(url: URL): Response {
    const rest = url.pathname.slice("/_emulator/".length);
    if (rest === "requests") return toResponse(reply(200, requests));
    const match = /^repos\/([^/]+)\/([^/]+)$/.exec(rest);
    const repo = match ? store.repos.get(`${match[1]}/${match[2]}`.toLowerCase()) : undefined;
    if (!repo) return toResponse(NOT_FOUND);
    const view = snapshot(repo);
    const branches = Object.values(view.branches).map((branch) => ({
      ...branch,
      files: Object.entries(branch.files).map(([path, file]) => ({
        path,
        sha: file.sha,
        text: file.text,
      })),
    }));
    return toResponse(reply(200, { ...view, branches }));
  }

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: options.port ?? 0,
    fetch: handle,
    error(error) {
      return toResponse(reply(500, { message: `gitee emulator error: ${error.message}` }));
    },
  });
  const url = `http://127.0.0.1:${server.port}${BASE}`;
  site.api = url;

  return {
    url,
    token,
    login: user.login,
    requests,
    writes: () => requests.filter((record) => record.method !== "GET"),
    resetLog() {
      requests.length = 0;
    },
    inFlight: () => inFlight,
    expectRequests(expected, expectOptions) {
      const problem = compareRequests(requests, expected, expectOptions);
      if (problem) throw new Error(problem);
    },
    addRepo(path, repoOptions) {
      addRepo(store, path, repoOptions);
    },
    addBranch(repoPath, name, from) {
      const repo = requireRepo(store, repoPath);
      if (repo.branches.has(name)) throw new Error(`${repoPath} already has branch ${name}`);
      branchFrom(repo, name, requireBranch(repo, from ?? repo.defaultBranch));
    },
    setFile(repoPath, branchName, path, content, message) {
      const branch = requireBranch(requireRepo(store, repoPath), branchName);
      const bytes = toBytes(content);
      return commit(store, branch, message ?? `emulator: set ${path}`, (files) => {
        files.set(path, bytes);
      }).sha;
    },
    addIssue(repoPath, fields) {
      const repo = requireRepo(store, repoPath);
      const now = Date.now();
      const issue: IssueRecord = {
        id: takeId(store),
        number: newIssueNumber(repo),
        title: fields.title,
        body: fields.body ?? "",
        state: fields.state ?? "open",
        creator: fields.creator ?? user.login,
        labels: [],
        comments: [],
        createdAt: now,
        updatedAt: now,
      };
      repo.issues.push(issue);
      return { ...issue };
    },
    setIssueState(repoPath, number, state) {
      const issue = requireRepo(store, repoPath).issues.find((item) => item.number === number);
      if (!issue) throw new Error(`${repoPath} has no issue ${number}`);
      Object.assign(issue, { state, updatedAt: Date.now() });
    },
    setPullState(repoPath, number, state) {
      const pull = requireRepo(store, repoPath).pulls.find((item) => item.number === number);
      if (!pull) throw new Error(`${repoPath} has no pull request ${number}`);
      Object.assign(pull, { state, updatedAt: Date.now() });
    },
    mergePull(repoPath, number, mergeOptions) {
      const repo = requireRepo(store, repoPath);
      const pull = repo.pulls.find((item) => item.number === number);
      if (!pull) throw new Error(`${repoPath} has no pull request ${number}`);
      const head = requireBranch(repo, pull.head);
      const base = requireBranch(repo, pull.base);
      commit(store, base, `Merge pull request !${number}`, (files) => {
        files.clear();
        for (const [path, bytes] of head.files) files.set(path, bytes);
      });
      Object.assign(pull, { state: "merged", updatedAt: Date.now() });
      if (mergeOptions?.closeRelatedIssues) {
        const mentioned = new Set([...pull.body.matchAll(/#([A-Za-z0-9]+)/g)].map((m) => m[1]));
        for (const issue of repo.issues) {
          if (mentioned.has(issue.number))
            Object.assign(issue, { state: "closed", updatedAt: Date.now() });
        }
      }
    },
    repo: (path) => snapshot(requireRepo(store, path)),
    fault(matcher, fault) {
      faults.push({ matcher, fault, left: matcher.times ?? Number.POSITIVE_INFINITY });
    },
    clearFaults() {
      faults = [];
    },
    async stop() {
      await server.stop(true);
    },
  };
}

/** Loads every file below `dir` (skipping `.git`) as `path → bytes`. */
function filesOf(dir: string): Record<string, Uint8Array> {
  const files: Record<string, Uint8Array> = {};
  const entries = readdirSync(dir, { recursive: true, withFileTypes: true });
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const path = relative(dir, join(entry.parentPath, entry.name)).split("\\").join("/");
    if (path === ".git" || path.startsWith(".git/")) continue;
    files[path] = new Uint8Array(readFileSync(join(dir, path)));
  }
  return files;
}

interface CliOptions extends GiteeEmulatorOptions {
  repos: Array<{ path: string; dir: string | null }>;
  branches: Array<{ repo: string; name: string; from: string | null }>;
}

/**
 * Command line: `--port N --token T --login L --web-url U --flavor gitee|gitcode`,
 * `--repo owner/name[=dir]` (files of `dir` on the default branch `master`),
 * `--branch owner/name:branch[=from]` (repeatable).
 */
function parseArgs(argv: string[]): CliOptions {
  const options: CliOptions = { repos: [], branches: [] };
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === "--port") options.port = Number(value);
    else if (flag === "--token") options.token = value;
    else if (flag === "--login") options.login = value;
    else if (flag === "--web-url") options.webUrl = value;
    else if (flag === "--flavor") {
      if (value !== "gitee" && value !== "gitcode")
        throw new Error("--flavor wants gitee or gitcode");
      options.flavor = value;
    } else if (flag === "--repo") {
      const [path = "", dir] = value.split("=", 2);
      options.repos.push({ path, dir: dir ?? null });
    } else if (flag === "--branch") {
      const match = /^([^:]+):([^=]+)(?:=(.+))?$/.exec(value);
      if (!match?.[1] || !match[2])
        throw new Error(`--branch wants owner/name:branch[=from], got ${value}`);
      options.branches.push({ repo: match[1], name: match[2], from: match[3] ?? null });
    } else throw new Error(`unknown flag ${flag}`);
  }
  if (!Number.isInteger(options.port ?? 0)) throw new Error("--port wants a number");
  return options;
}

if (import.meta.main) {
  const options = parseArgs(process.argv.slice(2));
  const emulator = startGiteeEmulator(options);
  for (const repo of options.repos) {
    emulator.addRepo(repo.path, { files: repo.dir ? filesOf(repo.dir) : {} });
  }
  for (const branch of options.branches) {
    emulator.addBranch(branch.repo, branch.name, branch.from ?? undefined);
  }
  console.log(`gitee emulator listening on ${emulator.url} token ${emulator.token}`);
  const shutdown = () => {
    emulator.stop().then(() => process.exit(0));
  };
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);
}
