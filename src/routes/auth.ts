/**
 * The `auth` guard: routes declared with `{ auth: true }` require the admin's HTTP Basic
 * credentials. Missing or wrong credentials answer 401; a client with too many recent failures
 * answers 429 with Retry-After.
 *
 * The request-hygiene gate (`request-hygiene.ts`) recognises these routes by their guard and runs
 * it before the body is even parsed, so an anonymous client learns nothing but `401`. The guard
 * still runs in the route's own `beforeHandle` as a second line; a request already admitted by
 * the gate is not checked twice.
 */
import { Elysia } from "elysia";
import type { Logger } from "../log.ts";
import type { Authenticator } from "./authenticator.ts";

export const REALM = 'Basic realm="patch-tracking", charset="ISO-8859-1"';

interface GuardContext {
  request: Request;
  // biome-ignore lint/suspicious/noExplicitAny: Elysia's Server type differs between hooks
  server: any;
  set: { status?: number | string; headers: Record<string, string | number> };
  path: string;
}

export type AuthGuard = (context: GuardContext) => Promise<unknown>;

/** Every guard made by `authGuard`, so routes carrying one can be recognised. */
const guards = new WeakSet<object>();
/** Requests whose credentials were already accepted (the gate runs before the route's guard). */
const admitted = new WeakSet<Request>();

export function isAuthGuard(fn: unknown): boolean {
  return typeof fn === "function" && guards.has(fn);
}

export function authGuard(authenticator: Authenticator, log: Logger): AuthGuard {
  const guard: AuthGuard = async ({ request, server, set, path }) => {
    if (admitted.has(request)) return;
    const client = server?.requestIP?.(request)?.address ?? "unknown";
    const outcome = await authenticator.check(request.headers.get("authorization"), client);
    if (outcome.kind === "ok") {
      admitted.add(request);
      return;
    }
    if (outcome.kind === "throttled") {
      log.warn("login throttled", { client, path, retryAfter: outcome.retryAfterSeconds });
      set.status = 429;
      set.headers["retry-after"] = String(outcome.retryAfterSeconds);
      return {
        code: "429",
        msg: `Too many failed logins from this address; try again in ${outcome.retryAfterSeconds} seconds`,
        data: null,
      };
    }
    log.warn("login failed", { client, path, reason: outcome.reason });
    set.status = 401;
    set.headers["www-authenticate"] = REALM;
    return { code: "401", msg: "Unauthorized Access", data: null };
  };
  guards.add(guard);
  return guard;
}

export function authPlugin(authenticator: Authenticator, log: Logger) {
  const guard = authGuard(authenticator, log);
  return new Elysia({ name: "auth" }).macro({
    auth(enabled: boolean) {
      if (!enabled) return;
      return { beforeHandle: guard };
    },
  });
}
