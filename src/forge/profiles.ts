/**
 * Downstream forge profiles: what differs between Gitee v5 and the forges that copy its API
 * (docs: forge-apis §1.2, §1.8, §10.2, §10.3), kept as data so the client has one code path.
 *
 * - gitee (gitee.com, Gitee Enterprise): token in `Authorization: Bearer` (or `access_token` with
 *   GITEE_TOKEN_IN_QUERY); a missing token is 401; an issue is edited with PATCH; no published
 *   request budget.
 * - gitcode (api.gitcode.com): token in the `PRIVATE-TOKEN` header; 400 for a missing token; an
 *   issue is edited with POST on the same path; a published budget of 50 requests per minute and
 *   4,000 per hour; missing files answer 404 (some client code also reports 400).
 *
 * Both: a missing file is "absent" whether the forge answers `200 []` or one of
 * `missingFileStatuses` — once the repository and branch are known to exist.
 *
 * `multiFileCommit`: the forge takes several file changes as one commit, creating the branch on
 * the way (`POST /repos/{owner}/{repo}/commits`, docs/forge-requests.md). Gitee's v5 reference
 * lists it; whether GitCode serves it is unknown, so GitCode writes file by file through the
 * contents API.
 */

export type ForgeName = "gitee" | "gitcode";

export const FORGE_NAMES: readonly ForgeName[] = ["gitee", "gitcode"];

/** A client-side request budget; `null` for a window without a limit. */
export interface RequestBudgetLimits {
  readonly perMinute: number | null;
  readonly perHour: number | null;
}

export interface ForgeProfile {
  readonly name: ForgeName;
  /** Shown in logs and messages. */
  readonly title: string;
  readonly defaultApiUrl: string;
  /** Where the token travels unless it is sent as an `access_token` parameter. */
  readonly tokenHeader: { readonly name: string; readonly prefix: string };
  /** Statuses meaning "no or bad token" (besides 401) on a request that has no parameters. */
  readonly missingTokenStatuses: readonly number[];
  /** The verb of "edit an issue" on `/repos/{owner}/issues/{number}`. */
  readonly updateIssueMethod: "PATCH" | "POST";
  /** Statuses of a contents read that may mean "no such file" (checked against the branch). */
  readonly missingFileStatuses: readonly number[];
  readonly budget: RequestBudgetLimits;
  /** The API lives on an `api.` host of the web site (`api.gitcode.com` → `gitcode.com`). */
  readonly apiHostPrefix: string | null;
  /** `POST .../commits` writes several files (and creates the branch) in one atomic commit. */
  readonly multiFileCommit: boolean;
}

export const FORGE_PROFILES: Readonly<Record<ForgeName, ForgeProfile>> = {
  gitee: {
    name: "gitee",
    title: "Gitee",
    defaultApiUrl: "https://gitee.com/api/v5",
    tokenHeader: { name: "authorization", prefix: "Bearer " },
    missingTokenStatuses: [],
    updateIssueMethod: "PATCH",
    // gitee.com answers 200 []; Gitee-compatible servers answer 404 "Not Found File" or similar.
    missingFileStatuses: [404],
    // Gitee publishes no limit for authenticated callers (forge-apis §1.4).
    budget: { perMinute: null, perHour: null },
    apiHostPrefix: null,
    multiFileCommit: true,
  },
  gitcode: {
    name: "gitcode",
    title: "GitCode",
    defaultApiUrl: "https://api.gitcode.com/api/v5",
    tokenHeader: { name: "private-token", prefix: "" },
    missingTokenStatuses: [400],
    updateIssueMethod: "POST",
    missingFileStatuses: [404, 400],
    budget: { perMinute: 50, perHour: 4000 },
    apiHostPrefix: "api.",
    // Not in the parts of GitCode's reference seen so far (forge-apis §10.3): unknown, not assumed.
    multiFileCommit: false,
  },
};

export function isForgeName(value: string): value is ForgeName {
  return (FORGE_NAMES as readonly string[]).includes(value);
}

/** Web address of the forge behind an API base: `https://api.gitcode.com/api/v5` → `https://gitcode.com`. */
export function webBaseOf(profile: ForgeProfile, apiUrl: string): string {
  const base = apiUrl.replace(/\/+$/, "").replace(/\/api\/v5$/, "");
  const prefix = profile.apiHostPrefix;
  return prefix ? base.replace(`://${prefix}`, "://") : base;
}
