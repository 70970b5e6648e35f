/**
 * The HTTP application: every route module mounted on one Elysia instance, with the error
 * mapping that turns validation and parse failures into the compatible `4001` envelope.
 */
import type { Database } from "bun:sqlite";
import { openapi } from "@elysiajs/openapi";
import { Elysia, type ValidationError } from "elysia";
import type { Logger } from "./log.ts";
import type { ServiceMetrics } from "./metrics.ts";
import type { Authenticator } from "./routes/authenticator.ts";
import { badParameters } from "./routes/envelope.ts";
import { filterRoutes } from "./routes/filters.ts";
import { healthRoutes } from "./routes/health.ts";
import { issueRoutes } from "./routes/issue.ts";
import { requestHygiene } from "./routes/request-hygiene.ts";
import { statusPageRoutes } from "./routes/status-page.ts";
import { trackingRoutes } from "./routes/tracking.ts";
import type { BreakerView } from "./scan/circuit-breaker.ts";
import type { TrackingPolicy } from "./tracking-rules.ts";
import { VERSION } from "./version.ts";

/** Largest request body accepted, in bytes; larger bodies answer 413. */
export const MAX_BODY_BYTES = 64 * 1024;

export interface AppDeps {
  db: Database;
  auth: Authenticator;
  log: Logger;
  onTrackingSaved?: (repo: string, branch: string) => void;
  /** What a posted tracking must fit beyond its shape (from settings). */
  policy?: TrackingPolicy;
  /** Served at /metrics, and counts every request. */
  metrics?: ServiceMetrics;
  /** The forges whose circuit breaker is open now, for the status page's banners. */
  outages?: () => BreakerView[];
  /** Extra route modules (scanner endpoints, status), mounted after the compatible ones. */
  // biome-ignore lint/suspicious/noExplicitAny: Elysia instances differ in their type parameters
  plugins?: Elysia<any, any, any, any, any, any, any>[];
}

/** A one-line explanation of the first schema violation, naming the field. */
export function describeValidation(error: Readonly<ValidationError>): {
  field: string | null;
  error: string;
} {
  // biome-ignore lint/suspicious/noExplicitAny: the error list is loosely typed by Elysia
  const first = (error.all as any[])[0];
  const path: string = first?.path ?? "";
  const field = path.replace(/^\//, "").split("/")[0] || null;
  const message: string = first?.message ?? "";
  const noun = error.type === "query" ? "query parameter" : "field";
  if (message === "Unexpected property") {
    return { field, error: `unknown ${noun} ${field}` };
  }
  if (message === "Expected required property") {
    return { field, error: `missing ${noun} ${field}` };
  }
  const custom: string | undefined = first?.schema?.error;
  return { field, error: custom ?? first?.summary ?? "invalid value" };
}

/** The first query parameter that appears more than once (filters take one value each). */
export function repeatedQueryKey(url: string): string | null {
  // Runs on every request: a URL with fewer than two parameters cannot repeat one.
  const query = url.indexOf("?");
  if (query < 0 || url.indexOf("&", query) < 0) return null;
  const seen = new Set<string>();
  for (const key of new URL(url).searchParams.keys()) {
    if (seen.has(key)) return key;
    seen.add(key);
  }
  return null;
}

export function createApp(deps: AppDeps) {
  const { log } = deps;
  const httpLog = log.child({ component: "http" });
  const app = new Elysia({ normalize: false });
  app
    .onRequest(
      requestHygiene({
        auth: deps.auth,
        log: httpLog,
        routes: () => app.routes,
        handle: (request) => app.handle(request),
      }),
    )
    .use(
      openapi({
        path: "/openapi",
        documentation: {
          info: {
            title: "patch-tracking",
            version: VERSION,
            description:
              "Tracks upstream branches and proposes their new commits as patches to Gitee package repositories.",
          },
          components: { securitySchemes: { basic: { type: "http", scheme: "basic" } } },
        },
      }),
    )
    .onError(({ code, error, set, request }) => {
      if (code === "VALIDATION") {
        set.status = 200;
        const problem = describeValidation(error);
        return badParameters(problem.field, problem.error);
      }
      if (code === "PARSE") {
        set.status = 200;
        return badParameters(null, "the body is not valid JSON");
      }
      if (code === "NOT_FOUND") {
        set.status = 404;
        return { code: "404", msg: "Not Found", data: null };
      }
      httpLog.error("request failed", { method: request.method, url: request.url, error });
      set.status = 500;
      return { code: "500", msg: "Internal Server Error", data: null };
    })
    .onBeforeHandle({ as: "global" }, ({ request }) => {
      const repeated = repeatedQueryKey(request.url);
      if (repeated) return badParameters(repeated, `${repeated} must be given only once`);
    })
    .onAfterResponse(({ request, set, path, route }) => {
      const status = typeof set.status === "number" ? set.status : 200;
      deps.metrics?.httpRequests.inc({
        route: route || "unmatched",
        method: request.method,
        status: String(status),
      });
      httpLog.debug("request", { method: request.method, path, status });
    })
    .use(trackingRoutes(deps))
    .use(filterRoutes(deps))
    .use(issueRoutes(deps))
    .use(healthRoutes(deps))
    .use(statusPageRoutes(deps))
    .get(
      "/metrics",
      () =>
        new Response(deps.metrics?.registry.render() ?? "", {
          headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
        }),
      { detail: { summary: "Prometheus metrics", description: "Text exposition format." } },
    );
  for (const plugin of deps.plugins ?? []) app.use(plugin);
  return app;
}

export type App = ReturnType<typeof createApp>;
