/**
 * The seven fields of a tracking, in the order the previous service answered them (and
 * `patch-tracking-cli query` prints its columns). Spelled out here, not taken from src/, so the
 * tests hold the code to the compatibility contract instead of to itself.
 */
export const TRACKING_FIELDS = [
  "version_control",
  "scm_repo",
  "scm_branch",
  "scm_commit",
  "repo",
  "branch",
  "enabled",
] as const;
