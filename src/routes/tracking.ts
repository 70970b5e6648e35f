/** `/tracking`: list, upsert and delete trackings, with the original's exact contract. */
import type { Database } from "bun:sqlite";
import { Elysia } from "elysia";
import { trackingBatches } from "../db/tracking-pages.ts";
import { deleteTrackings, type TrackingInput, upsertTracking } from "../db/trackings.ts";
import type { Logger } from "../log.ts";
import { type TrackingPolicy, trackingProblem } from "../tracking-rules.ts";
import { authPlugin } from "./auth.ts";
import type { Authenticator } from "./authenticator.ts";
import { badParameters, envelope, ResponseCode, success } from "./envelope.ts";
import { streamedSuccess } from "./json-stream.ts";
import { DeleteQuery, TrackingBody, TrackingQuery } from "./schemas.ts";

const TRUE_WORDS = new Set(["true", "True", "TRUE", "1"]);
const FALSE_WORDS = new Set(["false", "False", "FALSE", "0"]);

export interface TrackingRoutesDeps {
  db: Database;
  auth: Authenticator;
  log: Logger;
  /** Called after a tracking is stored, so the scanner can look at it at once. */
  onTrackingSaved?: (repo: string, branch: string) => void;
  /** Settings a tracking must fit (e.g. the git transports the scanner may use). */
  policy?: TrackingPolicy;
}

export function trackingRoutes({ db, auth, log, onTrackingSaved, policy }: TrackingRoutesDeps) {
  return new Elysia({ prefix: "/tracking" })
    .use(authPlugin(auth, log))
    .get(
      "",
      ({ query }) => {
        let enabled: boolean | undefined;
        if (query.enabled !== undefined) {
          if (TRUE_WORDS.has(query.enabled)) enabled = true;
          else if (FALSE_WORDS.has(query.enabled)) enabled = false;
          else return badParameters("enabled", "enabled must be true/True/1 or false/False/0");
        }
        return streamedSuccess(
          trackingBatches(db, { repo: query.repo, branch: query.branch, enabled }),
        );
      },
      {
        query: TrackingQuery,
        detail: {
          summary: "List trackings",
          description:
            "Every tracking, or those matching repo, branch and enabled. Any other query key answers 4001.",
        },
      },
    )
    .post(
      "",
      ({ body }) => {
        const input: TrackingInput = {
          ...body,
          enabled: body.enabled === true || body.enabled === 1,
        };
        const problem = trackingProblem(input, policy);
        if (problem) return badParameters(problem.field, problem.error);
        try {
          const { created } = upsertTracking(db, input);
          log.info(created ? "tracking created" : "tracking updated", {
            tracking: `${input.repo}:${input.branch}`,
            upstream: `${input.scm_repo}:${input.scm_branch}`,
          });
        } catch (error) {
          log.error("tracking not saved", { tracking: `${input.repo}:${input.branch}`, error });
          return envelope(ResponseCode.INSERT_DATA_ERROR, null);
        }
        onTrackingSaved?.(input.repo, input.branch);
        return success(body);
      },
      {
        auth: true,
        parse: "json",
        body: TrackingBody,
        detail: {
          summary: "Create or update a tracking",
          description:
            "Upsert keyed on (repo, branch). Omitting scm_commit on an update keeps the stored one. Requires HTTP Basic auth.",
        },
      },
    )
    .delete(
      "",
      ({ query }) => {
        try {
          const removed = deleteTrackings(db, query.repo, query.branch);
          if (removed === 0) return envelope(ResponseCode.DELETE_DB_NOT_FOUND, null);
          log.info("tracking deleted", { repo: query.repo, branch: query.branch, rows: removed });
          return success(null);
        } catch (error) {
          log.error("tracking not deleted", { repo: query.repo, branch: query.branch, error });
          return envelope(ResponseCode.DELETE_DB_ERROR, null);
        }
      },
      {
        auth: true,
        query: DeleteQuery,
        detail: {
          summary: "Delete trackings",
          description:
            "Deletes one branch's tracking, or all branches of repo when branch is omitted; 6005 when nothing matched. Requires HTTP Basic auth.",
        },
      },
    );
}
