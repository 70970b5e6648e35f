/**
 * `/tracking/filters?repo=R&branch=B`: the backport filters of one tracking (GET shows them,
 * PUT replaces them, `{}` removes them). They live in their own table so the rows of
 * `GET /tracking` keep exactly their seven fields.
 */
import type { Database } from "bun:sqlite";
import { Elysia, t } from "elysia";
import { getFilters, setFilters } from "../db/filters.ts";
import { getTracking } from "../db/trackings.ts";
import type { Logger } from "../log.ts";
import { MAX_GLOB_LENGTH, MAX_GLOBS, MAX_PATTERN_LENGTH, parseFilters } from "../scan/filters.ts";
import { MAX_FIELD_LENGTH } from "../tracking-rules.ts";
import { authPlugin } from "./auth.ts";
import type { Authenticator } from "./authenticator.ts";
import { badParameters, success } from "./envelope.ts";

export interface FilterRoutesDeps {
  db: Database;
  auth: Authenticator;
  log: Logger;
}

const text = (name: string) =>
  t.String({
    minLength: 1,
    maxLength: MAX_FIELD_LENGTH,
    error: `${name} is required, a non-empty string given once`,
  });

const FilterQuery = t.Object(
  { repo: text("repo"), branch: text("branch") },
  { additionalProperties: false },
);

const globs = (name: string, description: string) =>
  t.Optional(
    t.Array(t.String({ maxLength: MAX_GLOB_LENGTH }), {
      maxItems: MAX_GLOBS,
      description,
      error: `${name} must be a list of at most ${MAX_GLOBS} glob strings of at most ${MAX_GLOB_LENGTH} characters`,
    }),
  );

const FilterBody = t.Object(
  {
    message_pattern: t.Optional(
      t.String({
        maxLength: MAX_PATTERN_LENGTH,
        description:
          "Regular expression (RE2 syntax, multiline) the whole commit message must match",
        error: `message_pattern must be a string of at most ${MAX_PATTERN_LENGTH} characters`,
      }),
    ),
    include_paths: globs(
      "include_paths",
      "Globs (src/**): a commit must touch at least one matching path",
    ),
    exclude_paths: globs(
      "exclude_paths",
      "Globs (docs/**): a commit must touch at least one path none of them matches",
    ),
  },
  { additionalProperties: false, error: "the body must be a JSON object of filters" },
);

function unknownTracking(repo: string, branch: string) {
  return badParameters("repo", `no tracking for ${repo}:${branch}`);
}

export function filterRoutes({ db, auth, log }: FilterRoutesDeps) {
  return new Elysia({ prefix: "/tracking" })
    .use(authPlugin(auth, log))
    .get(
      "/filters",
      ({ query }) => {
        if (!getTracking(db, query.repo, query.branch)) {
          return unknownTracking(query.repo, query.branch);
        }
        return success(getFilters(db, query.repo, query.branch));
      },
      {
        query: FilterQuery,
        detail: {
          summary: "Backport filters of a tracking",
          description: "The tracking's filters; {} when it has none.",
        },
      },
    )
    .put(
      "/filters",
      ({ query, body }) => {
        if (!getTracking(db, query.repo, query.branch)) {
          return unknownTracking(query.repo, query.branch);
        }
        const parsed = parseFilters(body);
        if ("problem" in parsed) return badParameters(parsed.problem.field, parsed.problem.error);
        setFilters(db, query.repo, query.branch, parsed.filters);
        log.info("tracking filters saved", {
          tracking: `${query.repo}:${query.branch}`,
          fields: Object.keys(parsed.filters).join(",") || "none",
        });
        return success(getFilters(db, query.repo, query.branch));
      },
      {
        auth: true,
        parse: "json",
        query: FilterQuery,
        body: FilterBody,
        detail: {
          summary: "Set the backport filters of a tracking",
          description:
            "Replaces the filters: message_pattern, include_paths, exclude_paths (each optional); {} removes them. Requires HTTP Basic auth.",
        },
      },
    );
}
