/** `/health`: liveness for monitoring; 503 when the database does not answer. */
import type { Database } from "bun:sqlite";
import { Elysia } from "elysia";
import { isDatabaseReachable } from "../db/database.ts";
import { VERSION } from "../version.ts";

export function healthRoutes({ db }: { db: Database }) {
  return new Elysia().get(
    "/health",
    ({ set }) => {
      const database = isDatabaseReachable(db);
      if (!database) set.status = 503;
      return {
        status: database ? "ok" : "degraded",
        database: database ? "ok" : "unreachable",
        version: VERSION,
      };
    },
    { detail: { summary: "Service health", description: "Reports whether the database answers." } },
  );
}
