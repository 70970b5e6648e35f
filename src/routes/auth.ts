/**
 * The `auth` guard: routes declared with `{ auth: true }` require the admin's HTTP Basic
 * credentials. Missing or wrong credentials answer 401; a client with too many recent failures
 * answers 429 with Retry-After.
 */
import { Elysia } from "elysia";
import type { Logger } from "../log.ts";
import type { Authenticator } from "./authenticator.ts";

export const REALM = 'Basic realm="patch-tracking", charset="ISO-8859-1"';

export function authPlugin(authenticator: Authenticator, log: Logger) {
  return new Elysia({ name: "auth" }).macro({
    auth(enabled: boolean) {
      if (!enabled) return;
      return {
        async beforeHandle({ request, server, set, path }) {
          const client = server?.requestIP(request)?.address ?? "unknown";
          const outcome = await authenticator.check(request.headers.get("authorization"), client);
          if (outcome.kind === "ok") return;
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
        },
      };
    },
  });
}
