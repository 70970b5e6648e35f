/**
 * Request schemas of the compatible endpoints. Elysia validates with them and the OpenAPI document
 * is generated from them; each carries the sentence a client sees when its value is wrong.
 */
import { t } from "elysia";
import { MAX_FIELD_LENGTH } from "../tracking-rules.ts";

function text(name: string, description: string) {
  return t.String({
    minLength: 1,
    maxLength: MAX_FIELD_LENGTH,
    description,
    error: `${name} must be a non-empty string of at most ${MAX_FIELD_LENGTH} characters`,
  });
}

export const TrackingBody = t.Object(
  {
    version_control: t.Union([t.Literal("github"), t.Literal("git")], {
      description: "How the upstream is read: the GitHub API or plain git",
      error: 'version_control must be "github" or "git"',
    }),
    scm_repo: text("scm_repo", "Upstream: owner/name on GitHub, or a git URL"),
    scm_branch: text("scm_branch", "Upstream branch"),
    scm_commit: t.Optional(
      t.Union([t.String({ maxLength: 64 }), t.Null()], {
        description:
          "Last upstream commit already handled; omit to keep the stored one (or start from the head)",
        error: "scm_commit must be a commit sha string or null",
      }),
    ),
    repo: text("repo", "Downstream Gitee repository, owner/name"),
    branch: text("branch", "Downstream branch"),
    enabled: t.Union([t.Boolean(), t.Literal(0), t.Literal(1)], {
      description: "Whether the scanner processes this tracking",
      error: "enabled must be true, false, 0 or 1",
    }),
  },
  { additionalProperties: false, error: "the body must be a JSON object" },
);

const filterValue = (name: string) =>
  t.String({ maxLength: MAX_FIELD_LENGTH, error: `${name} must be given once, as text` });

export const TrackingQuery = t.Object(
  {
    repo: t.Optional(filterValue("repo")),
    branch: t.Optional(filterValue("branch")),
    enabled: t.Optional(
      t.String({
        description: "true/True/1 or false/False/0",
        error: "enabled must be given once",
      }),
    ),
  },
  { additionalProperties: false },
);

export const DeleteQuery = t.Object(
  {
    repo: t.String({
      minLength: 1,
      maxLength: MAX_FIELD_LENGTH,
      error: "repo is required, given once",
    }),
    branch: t.Optional(filterValue("branch")),
  },
  { additionalProperties: false },
);

export const IssueQuery = t.Object(
  { repo: t.Optional(filterValue("repo")), branch: t.Optional(filterValue("branch")) },
  { additionalProperties: false },
);

export const TrackingRow = t.Object({
  version_control: t.String(),
  scm_repo: t.String(),
  scm_branch: t.String(),
  scm_commit: t.Union([t.String(), t.Null()]),
  repo: t.String(),
  branch: t.String(),
  enabled: t.Boolean(),
});
