/**
 * Scanner endpoints (new; the compatible `/tracking` contract is untouched):
 * `GET /tracking/status` — why each tracking is where it is; `POST /tracking/scan` — scan now;
 * `GET /tracking/plan` — the dry run. Scanning and planning need the admin's credentials.
 */
import type { Database } from "bun:sqlite";
import { Elysia, t } from "elysia";
import { overviewBatches } from "../db/overview-batches.ts";
import { OVERVIEW_STATES, overviewPage } from "../db/overview-pages.ts";
import { listTrackings } from "../db/trackings.ts";
import { ServiceError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { PlanDeps } from "../scan/plan.ts";
import { planTracking } from "../scan/plan.ts";
import type { Scanner } from "../scan/scheduler.ts";
import { MAX_FIELD_LENGTH } from "../tracking-rules.ts";
import { authPlugin } from "./auth.ts";
import type { Authenticator } from "./authenticator.ts";
import { badParameters, envelope, ResponseCode, serviceFailure, success } from "./envelope.ts";
import { streamedSuccess } from "./json-stream.ts";

/** Rows of one `/tracking/status` page unless `per_page` says otherwise, and its ceiling. */
export const STATUS_PAGE_SIZE = 100;
export const MAX_STATUS_PAGE_SIZE = 1000;

export interface ScanRoutesDeps {
  db: Database;
  auth: Authenticator;
  log: Logger;
  scanner: Scanner;
  /** The dry run's dependencies, fresh for each plan (its own read-only view of the forge). */
  planDeps: () => PlanDeps;
}

const text = (name: string) =>
  t.String({
    minLength: 1,
    maxLength: MAX_FIELD_LENGTH,
    error: `${name} must be a non-empty string, given once`,
  });

export function scanRoutes({ db, auth, log, scanner, planDeps }: ScanRoutesDeps) {
  return new Elysia({ prefix: "/tracking" })
    .use(authPlugin(auth, log))
    .get(
      "/status",
      ({ query }) => {
        let failing: boolean | undefined;
        if (query.failing !== undefined) {
          if (!["true", "True", "1", "false", "False", "0"].includes(query.failing)) {
            return badParameters("failing", "failing must be true or false");
          }
          failing = ["true", "True", "1"].includes(query.failing);
        }
        const paged =
          query.page !== undefined ||
          query.per_page !== undefined ||
          query.state !== undefined ||
          query.search !== undefined;
        if (!paged) {
          // Streamed a batch at a time: the same bytes as the whole list built in memory.
          const filter = { repo: query.repo, branch: query.branch, failing };
          const state = scanner.state();
          return streamedSuccess(overviewBatches(db, filter), (trackings) => ({
            scanner: state,
            trackings,
          }));
        }
        const page = query.page ?? 1;
        const perPage = query.per_page ?? STATUS_PAGE_SIZE;
        const result = overviewPage(db, {
          repo: query.repo,
          branch: query.branch,
          search: query.search,
          state: query.state,
          priorityOnly: failing,
          offset: (page - 1) * perPage,
          limit: perPage,
        });
        return success({
          scanner: scanner.state(),
          trackings: result.items,
          page,
          per_page: perPage,
          total: result.total,
        });
      },
      {
        query: t.Object(
          {
            repo: t.Optional(text("repo")),
            branch: t.Optional(text("branch")),
            failing: t.Optional(t.String()),
            page: t.Optional(
              t.Numeric({ minimum: 1, multipleOf: 1, error: "page must be a whole number from 1" }),
            ),
            per_page: t.Optional(
              t.Numeric({
                minimum: 1,
                maximum: MAX_STATUS_PAGE_SIZE,
                multipleOf: 1,
                error: `per_page must be a whole number from 1 to ${MAX_STATUS_PAGE_SIZE}`,
              }),
            ),
            state: t.Optional(
              t.Union(
                OVERVIEW_STATES.map((name) => t.Literal(name)),
                { error: `state must be one of ${OVERVIEW_STATES.join(", ")}` },
              ),
            ),
            search: t.Optional(
              t.String({ maxLength: MAX_FIELD_LENGTH, error: "search must be text" }),
            ),
          },
          { additionalProperties: false },
        ),
        detail: {
          summary: "Scan status of each tracking",
          description:
            "Last scan time, outcome and error, the open publish run and the newest issue/pull request; failing trackings first. With page, per_page (default 100, at most 1000), state or search: one page, and its total.",
        },
      },
    )
    .post(
      "/scan",
      async ({ query, set, server, request }) => {
        if (!scanner.enabled) {
          set.status = 503;
          return {
            code: "503",
            msg: scanner.state().disabledReason ?? "the scanner is not running",
            data: null,
          };
        }
        if (query.repo === undefined) {
          void scanner.scanAll();
          return success({ scanning: "all" });
        }
        const targets = listTrackings(db, { repo: query.repo, branch: query.branch });
        if (targets.length === 0) return envelope(ResponseCode.TRACKING_NOT_FOUND, null);
        // The answer waits for the scan: the server would otherwise cut it after 30 idle seconds.
        server?.timeout(request, 0);
        const results = await Promise.all(
          // Asked for by an operator: a publish run that backs off is retried at once.
          targets.map((target) =>
            scanner.scanOne(target.repo, target.branch, undefined, { force: true }),
          ),
        );
        return success(results);
      },
      {
        auth: true,
        query: t.Object(
          { repo: t.Optional(text("repo")), branch: t.Optional(text("branch")) },
          { additionalProperties: false },
        ),
        detail: {
          summary: "Scan now",
          description:
            "With repo (and branch): scans those trackings and answers with their outcomes. Without: starts a scan of every tracking.",
        },
      },
    )
    .get(
      "/plan",
      async ({ query, server, request }) => {
        // Reading a large upstream range can take longer than the server's 30 s idle limit.
        server?.timeout(request, 0);
        try {
          const result = await planTracking(planDeps(), query.repo, query.branch);
          if (!result) return envelope(ResponseCode.TRACKING_NOT_FOUND, null);
          return success(result);
        } catch (error) {
          if (error instanceof ServiceError) return serviceFailure(error);
          throw error;
        }
      },
      {
        auth: true,
        query: t.Object(
          { repo: text("repo"), branch: text("branch") },
          { additionalProperties: false },
        ),
        detail: {
          summary: "Dry run",
          description:
            "What a scan of this tracking would propose now: commits, patch files and sizes, the spec diff, issue and pull request. Writes nothing.",
        },
      },
    );
}
