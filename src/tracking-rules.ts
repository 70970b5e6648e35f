/**
 * What makes a tracking acceptable beyond its JSON types: names git and the forges can use.
 * Shared by the REST API and the CLI so both reject the same input with the same words.
 */
import type { TrackingInput } from "./db/trackings.ts";
import { transportProblem } from "./scan/upstream/git-url.ts";

export const WORK_BRANCH_PREFIX = "patch-tracking/";
export const MAX_FIELD_LENGTH = 1024;

export interface FieldProblem {
  field: string;
  error: string;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Problems with a branch name as git's check-ref-format sees them (the parts that matter here). */
export function branchNameProblem(name: string): string | null {
  if (name.startsWith("-")) return "must not start with '-'";
  if (CONTROL.test(name) || /[\s~^:?*[\\]/.test(name)) {
    return "must not contain spaces, control characters or any of ~^:?*[\\";
  }
  if (name.includes("..") || name.includes("@{") || name.endsWith(".lock") || name.endsWith("/")) {
    return "is not a valid git branch name";
  }
  return null;
}

const GITHUB_REPO = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;
const GITEE_REPO = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;

/** Problems with a git remote: a URL or scp-like address that cannot be taken for an option. */
export function gitUrlProblem(url: string): string | null {
  if (url.startsWith("-")) return "must not start with '-'";
  if (CONTROL.test(url) || /\s/.test(url)) return "must not contain spaces or control characters";
  if (
    /^[a-z][a-z0-9+.-]*:\/\//i.test(url) ||
    /^[^/@\s]+@[^:\s]+:/.test(url) ||
    url.startsWith("/")
  ) {
    return null;
  }
  return "must be a git URL (https://…, git://…, ssh://…, user@host:path or file://…)";
}

/** The downstream repository as `owner/name`, accepting a full https://host/owner/name URL. */
export function downstreamRepoPath(repo: string): string | null {
  const trimmed = repo.replace(/\.git$/, "").replace(/\/+$/, "");
  if (GITEE_REPO.test(trimmed)) return trimmed;
  try {
    const url = new URL(trimmed);
    const path = url.pathname.replace(/^\/+/, "");
    return (url.protocol === "https:" || url.protocol === "http:") && GITEE_REPO.test(path)
      ? path
      : null;
  } catch {
    return null;
  }
}

/** What the service's settings allow beyond the fixed rules. */
export interface TrackingPolicy {
  /** `GIT_ALLOW_PROTOCOL`: transports a `git` upstream may use. */
  gitAllowProtocol?: string;
}

/** The first problem with `input`, or null when it can be stored. */
export function trackingProblem(
  input: TrackingInput,
  policy: TrackingPolicy = {},
): FieldProblem | null {
  if (input.version_control === "github" && !GITHUB_REPO.test(input.scm_repo)) {
    return { field: "scm_repo", error: 'scm_repo must be "owner/name" for version_control github' };
  }
  if (input.version_control === "git") {
    const problem =
      gitUrlProblem(input.scm_repo) ??
      (policy.gitAllowProtocol === undefined
        ? null
        : transportProblem(input.scm_repo, policy.gitAllowProtocol));
    if (problem) return { field: "scm_repo", error: `scm_repo ${problem}` };
  }
  for (const field of ["scm_branch", "branch"] as const) {
    const problem = branchNameProblem(input[field]);
    if (problem) return { field, error: `${field} ${problem}` };
  }
  if (input.branch.startsWith(WORK_BRANCH_PREFIX)) {
    return {
      field: "branch",
      error: `branch ${input.branch} is one of the service's own work branches (${WORK_BRANCH_PREFIX}*) and cannot be tracked`,
    };
  }
  if (!downstreamRepoPath(input.repo)) {
    return { field: "repo", error: 'repo must be "owner/name" or https://gitee.com/owner/name' };
  }
  if (input.scm_commit && !/^[0-9a-f]{7,64}$/i.test(input.scm_commit)) {
    return { field: "scm_commit", error: "scm_commit must be a commit sha (7 to 64 hex digits)" };
  }
  return null;
}
