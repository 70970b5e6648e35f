/**
 * The gate every request passes before routing, parsing or validation:
 *
 * 1. a known path asked with a method it does not serve answers `405` with `Allow` (HEAD is
 *    served as a GET without body, OPTIONS answers `204` with `Allow` and no CORS grant);
 * 2. on routes that need credentials, the credentials — so an anonymous client gets `401` and
 *    never a validation detail;
 * 3. writes (POST, PUT, PATCH, DELETE) that carry a body must say `application/json` (an optional
 *    `charset=utf-8` aside): anything else is `415`, and nothing is read or changed. Browsers send
 *    text/plain, form and multipart bodies across origins without asking first, so accepting them
 *    would let any web page drive the API of a logged-in browser;
 * 4. a write whose `Origin` (or `Sec-Fetch-Site`) says another site sent it is `403`.
 *
 * No `Access-Control-*` header is ever sent, so no other origin may read answers or preflight a
 * write. Every answer says `nosniff` and forbids framing.
 */
import type { Logger } from "../log.ts";
import { type AuthGuard, authGuard, isAuthGuard } from "./auth.ts";
import type { Authenticator } from "./authenticator.ts";

/** What the gate needs to know of a route (Elysia's `app.routes` entries fit). */
export interface RouteInfo {
  method: string;
  path: string;
  hooks?: { beforeHandle?: unknown };
}

interface PathEntry {
  /** Methods the routes declare. */
  served: Set<string>;
  /** As sent in `Allow`: the served methods, HEAD where GET is served, and OPTIONS. */
  allow: string[];
  /** Methods whose route carries the auth guard. */
  authenticated: Set<string>;
}

interface PathTable {
  exact: Map<string, PathEntry>;
  patterns: { pattern: RegExp; entry: PathEntry }[];
}

const WRITES = new Set(["POST", "PUT", "PATCH", "DELETE"]);
const JSON_TYPE = /^application\/json\s*(;\s*charset\s*=\s*"?utf-?8"?\s*)?$/i;

/** Headers on every answer: no MIME sniffing, never shown inside another site's frame. */
export const BASE_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
};

function carriesGuard(route: RouteInfo): boolean {
  const hooks = route.hooks?.beforeHandle;
  const list = Array.isArray(hooks) ? hooks : hooks ? [hooks] : [];
  return list.some((hook) => isAuthGuard(typeof hook === "function" ? hook : hook?.fn));
}

function toPattern(path: string): RegExp {
  const escaped = path
    .split("/")
    .map((segment) => {
      if (segment === "*") return ".*";
      if (segment.startsWith(":")) return "[^/]+";
      return segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    })
    .join("/");
  return new RegExp(`^${escaped}$`);
}

export function buildPathTable(routes: readonly RouteInfo[]): PathTable {
  const byPath = new Map<string, PathEntry>();
  for (const route of routes) {
    const method = route.method.toUpperCase();
    let entry = byPath.get(route.path);
    if (!entry) {
      entry = { served: new Set(), allow: [], authenticated: new Set() };
      byPath.set(route.path, entry);
    }
    if (!entry.served.has(method)) entry.allow.push(method);
    entry.served.add(method);
    if (carriesGuard(route)) entry.authenticated.add(method);
  }
  const table: PathTable = { exact: new Map(), patterns: [] };
  for (const [path, entry] of byPath) {
    if (entry.allow.includes("GET") && !entry.allow.includes("HEAD")) entry.allow.push("HEAD");
    entry.allow.push("OPTIONS");
    if (path.includes(":") || path.includes("*"))
      table.patterns.push({ pattern: toPattern(path), entry });
    else table.exact.set(path, entry);
  }
  return table;
}

function lookup(table: PathTable, raw: string): PathEntry | undefined {
  // The router also serves `/tracking/` as `/tracking`: the gate must not be bypassed that way.
  const path = raw.length > 1 ? raw.replace(/\/+$/, "") || "/" : raw;
  const exact = table.exact.get(path);
  if (exact) return exact;
  return table.patterns.find((item) => item.pattern.test(path))?.entry;
}

function pathOf(url: string): string {
  // Cheaper than new URL() on every request: skip "scheme://host", stop at '?' or '#'.
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  let end = url.length;
  const query = url.indexOf("?", start);
  if (query >= 0) end = query;
  const hash = url.indexOf("#", start);
  if (hash >= 0 && hash < end) end = hash;
  return url.slice(start, end);
}

function hasBody(request: Request): boolean {
  const length = request.headers.get("content-length");
  if (length !== null) return length.trim() !== "0";
  return request.headers.has("transfer-encoding") || request.body !== null;
}

/** Why a write came from another site, or null when it did not. */
function crossSite(request: Request): string | null {
  const site = request.headers.get("sec-fetch-site");
  if (site === "cross-site" || site === "same-site") return `Sec-Fetch-Site: ${site}`;
  const origin = request.headers.get("origin");
  if (origin === null) return null;
  const host = request.headers.get("host");
  let originHost: string | null = null;
  try {
    originHost = new URL(origin).host;
  } catch {
    // "null" (sandboxed frames, file: pages) or garbage: not this service.
  }
  return originHost !== null && originHost === host ? null : `Origin: ${origin}`;
}

function answer(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...BASE_SECURITY_HEADERS, ...headers },
  });
}

export interface RequestHygieneOptions {
  auth: Authenticator;
  log: Logger;
  /** The application's routes, read once at the first request (after every module is mounted). */
  routes: () => readonly RouteInfo[];
  /** Answers a request through the application; HEAD uses it to run the GET route. */
  handle: (request: Request) => Promise<Response>;
}

interface GateContext {
  request: Request;
  // biome-ignore lint/suspicious/noExplicitAny: Elysia's Server type differs between hooks
  server: any;
  set: { status?: number | string; headers: Record<string, string | number> };
}

/** The `onRequest` hook of the gate: returns an answer to stop the request, or nothing to go on. */
export function requestHygiene(options: RequestHygieneOptions) {
  let table: PathTable | null = null;
  const guard: AuthGuard = authGuard(options.auth, options.log);
  // Synchronous unless it must wait (credentials, HEAD): most requests pay no promise.
  return (context: GateContext): Response | Promise<Response | undefined> | undefined => {
    const { request, set } = context;
    Object.assign(set.headers, BASE_SECURITY_HEADERS);
    table ??= buildPathTable(options.routes());
    const path = pathOf(request.url);
    const entry = lookup(table, path);
    if (!entry) return; // Unknown paths get the application's 404.
    const method = request.method.toUpperCase();
    const allow = entry.allow.join(", ");
    if (method === "OPTIONS") {
      return new Response(null, { status: 204, headers: { allow, ...BASE_SECURITY_HEADERS } });
    }
    if (!entry.allow.includes(method)) {
      return answer(
        405,
        {
          code: "405",
          msg: "Method Not Allowed",
          data: { error: `${path} answers ${allow}, not ${method}`, allow: entry.allow },
        },
        { allow },
      );
    }
    if (method === "HEAD" && !entry.served.has("HEAD")) {
      return options
        .handle(new Request(request.url, { method: "GET", headers: request.headers }))
        .then((full) => new Response(null, { status: full.status, headers: full.headers }));
    }
    if (entry.authenticated.has(method)) {
      return guard({ ...context, path }).then((denied) => {
        if (denied === undefined) return bodyRules(request, method, path, options.log);
        const status = typeof set.status === "number" ? set.status : 401;
        const headers: Record<string, string> = {};
        for (const name of ["www-authenticate", "retry-after"]) {
          const value = set.headers[name];
          if (value !== undefined) headers[name] = String(value);
        }
        return answer(status, denied, headers);
      });
    }
    return bodyRules(request, method, path, options.log);
  };
}

/** Rules 3 and 4: what a write must carry, and where it may come from. */
function bodyRules(
  request: Request,
  method: string,
  path: string,
  log: Logger,
): Response | undefined {
  if (!WRITES.has(method)) return;
  const type = request.headers.get("content-type");
  if (type !== null ? !JSON_TYPE.test(type.trim()) : hasBody(request)) {
    return answer(415, {
      code: "415",
      msg: "Unsupported Media Type",
      data: {
        error: `the body must be sent as application/json, not ${type ?? "without a Content-Type"}`,
      },
    });
  }
  const foreign = crossSite(request);
  if (foreign) {
    log.warn("cross-site write refused", { method, path, reason: foreign });
    return answer(403, {
      code: "403",
      msg: "Forbidden",
      data: { error: `writes are not accepted from another site (${foreign})` },
    });
  }
  return;
}
