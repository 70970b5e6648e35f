/**
 * `GET /plan[?offset=N&limit=M]` (auth): the fleet plan — what a scan of every enabled tracking
 * would propose now, with reads only (see scan/fleet-plan.ts). `offset`/`limit` page through the
 * trackings (in id order) so a client can show progress over thousands of them.
 */
import { Elysia, t } from "elysia";
import type { Logger } from "../log.ts";
import { type FleetPlanDeps, planFleet } from "../scan/fleet-plan.ts";
import { authPlugin } from "./auth.ts";
import type { Authenticator } from "./authenticator.ts";
import { badParameters, success } from "./envelope.ts";

export interface FleetPlanRoutesDeps {
  auth: Authenticator;
  log: Logger;
  fleet: FleetPlanDeps;
}

/** Largest page: a few GraphQL head queries and bounded compare calls per request. */
export const MAX_PLAN_PAGE = 1000;

function count(value: string | undefined, name: string, max: number): number | string | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,9}$/.test(value) || Number(value) > max) {
    return `${name} must be a whole number from 0 to ${max}`;
  }
  return Number(value);
}

export function fleetPlanRoutes({ auth, log, fleet }: FleetPlanRoutesDeps) {
  return new Elysia().use(authPlugin(auth, log)).get(
    "/plan",
    async ({ query, server, request }) => {
      const offset = count(query.offset, "offset", 1e9);
      const limit = count(query.limit, "limit", MAX_PLAN_PAGE);
      if (typeof offset === "string") return badParameters("offset", offset);
      if (typeof limit === "string") return badParameters("limit", limit);
      // Reading many upstreams can take longer than the server's 30 s idle limit.
      server?.timeout(request, 0);
      const plan = await planFleet({ ...fleet, log }, { offset, limit: limit ?? MAX_PLAN_PAGE });
      log.info("fleet plan", { offset: plan.offset, total: plan.total, ...plan.summary });
      return success(plan);
    },
    {
      auth: true,
      query: t.Object(
        {
          offset: t.Optional(t.String({ error: "offset must be given once" })),
          limit: t.Optional(t.String({ error: "limit must be given once" })),
        },
        { additionalProperties: false },
      ),
      detail: {
        summary: "Fleet plan",
        description: `What a scan of each enabled tracking would propose now (new commits, passed over by filters, already carried, empty, the apply check's verdicts, a new proposal or the open pull request it would join or replace), at most ${MAX_PLAN_PAGE} trackings per request from offset. Reads only: nothing is written to Gitee or the database.`,
      },
    },
  );
}
