/**
 * One tracking as `add` sends it, built from text values (command-line flags or a yaml file) and
 * checked with the same rules the server applies, so bad input is refused before anything is sent.
 */
import { type FieldProblem, MAX_FIELD_LENGTH, trackingProblem } from "../src/tracking-rules.ts";

export type VersionControl = "github" | "git";

/** The POST /tracking body. */
export interface TrackingRequest {
  version_control: VersionControl;
  scm_repo: string;
  scm_branch: string;
  scm_commit?: string;
  repo: string;
  branch: string;
  enabled: boolean;
}

export const REQUIRED_FIELDS = [
  "version_control",
  "scm_repo",
  "scm_branch",
  "repo",
  "branch",
  "enabled",
] as const;
export const TRACKING_FIELDS = [...REQUIRED_FIELDS, "scm_commit"] as const;
export type TrackingField = (typeof TRACKING_FIELDS)[number];

export const ENABLED_WORDS = ["True", "true", "False", "false"];
export const VERSION_CONTROLS: VersionControl[] = ["github", "git"];

export type TrackingValues = Partial<Record<TrackingField, string>>;

export type TrackingCheck =
  | { ok: true; tracking: TrackingRequest }
  | { ok: false; missing: TrackingField[]; problems: FieldProblem[] };

/**
 * Checks text values. `lenient` reads `enabled` and `version_control` case-insensitively, as the
 * original did for yaml files (its flags only took the exact words).
 */
export function checkTracking(values: TrackingValues, lenient = false): TrackingCheck {
  const missing = REQUIRED_FIELDS.filter((field) => !values[field]);
  const problems: FieldProblem[] = [];
  const enabledText = lenient ? values.enabled?.toLowerCase() : values.enabled;
  if (enabledText && !ENABLED_WORDS.includes(enabledText)) {
    problems.push({
      field: "enabled",
      error: `enabled: invalid value ${JSON.stringify(values.enabled)} (choose from ${ENABLED_WORDS.join(", ")})`,
    });
  }
  const vcsText = lenient ? values.version_control?.toLowerCase() : values.version_control;
  if (vcsText && !VERSION_CONTROLS.includes(vcsText as VersionControl)) {
    problems.push({
      field: "version_control",
      error: `version_control: invalid value ${JSON.stringify(values.version_control)} (choose from ${VERSION_CONTROLS.join(", ")})`,
    });
  }
  for (const field of TRACKING_FIELDS) {
    const value = values[field];
    if (value && value.length > MAX_FIELD_LENGTH) {
      problems.push({ field, error: `${field} is longer than ${MAX_FIELD_LENGTH} characters` });
    }
  }
  if (missing.length > 0 || problems.length > 0) return { ok: false, missing, problems };

  const tracking: TrackingRequest = {
    version_control: vcsText as VersionControl,
    scm_repo: values.scm_repo ?? "",
    scm_branch: values.scm_branch ?? "",
    repo: values.repo ?? "",
    branch: values.branch ?? "",
    enabled: enabledText?.toLowerCase() === "true",
  };
  if (values.scm_commit) tracking.scm_commit = values.scm_commit;
  const problem = trackingProblem({ ...tracking, scm_commit: tracking.scm_commit ?? null });
  if (problem) return { ok: false, missing: [], problems: [problem] };
  return { ok: true, tracking };
}
