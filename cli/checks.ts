/**
 * Pre-add checks, like the original's: the upstream repository and branch exist (GitHub API, or
 * `git ls-remote` for a git URL) and so do the downstream Gitee repository and branch. Each
 * failure is a sentence naming what is missing. A git upstream whose transport the service's
 * `GIT_ALLOW_PROTOCOL` (taken from the environment, else the service's default) refuses is
 * refused here too. `--no-check` skips them all; the service refuses such a tracking anyway.
 * They go through the proxy the environment names (HTTPS_PROXY, HTTP_PROXY, NO_PROXY), like
 * the service's own requests.
 */
import { runGit } from "../src/git.ts";
import {
  gitProxyEnvironment,
  type ProxyConfig,
  ProxySettingError,
  proxiedFetch,
  resolveProxies,
} from "../src/net/proxy.ts";
import { DEFAULT_GIT_ALLOW_PROTOCOL, transportProblem } from "../src/scan/upstream/git-url.ts";
import { downstreamRepoPath } from "../src/tracking-rules.ts";
import { CliError } from "./errors.ts";
import { USER_AGENT } from "./http-client.ts";
import type { TrackingRequest } from "./tracking-input.ts";

export interface CheckSettings {
  githubApiUrl: string;
  githubToken?: string;
  giteeApiUrl: string;
  giteeToken?: string;
  timeoutMs: number;
  /** Transports a git upstream may use (the service's `GIT_ALLOW_PROTOCOL`). */
  gitAllowProtocol: string;
  /** Proxies for the look-ups (from HTTPS_PROXY, HTTP_PROXY, NO_PROXY). */
  proxies: ProxyConfig;
}

/** Base URLs and tokens from the environment (for Enterprise hosts and tests). */
export function checkSettingsFrom(env: Record<string, string | undefined>): CheckSettings {
  let proxies: ProxyConfig;
  try {
    proxies = resolveProxies({ proxy: null, noProxy: null }, env);
  } catch (error) {
    if (error instanceof ProxySettingError) throw new CliError(error.message);
    throw error;
  }
  return {
    githubApiUrl: (env.GITHUB_API_URL || "https://api.github.com").replace(/\/+$/, ""),
    githubToken: env.GITHUB_TOKEN || env.GITHUB_ACCESS_TOKEN || undefined,
    giteeApiUrl: (env.GITEE_API_URL || "https://gitee.com/api/v5").replace(/\/+$/, ""),
    giteeToken: env.GITEE_ACCESS_TOKEN || undefined,
    timeoutMs: 20_000,
    gitAllowProtocol: env.GIT_ALLOW_PROTOCOL || DEFAULT_GIT_ALLOW_PROTOCOL,
    proxies,
  };
}

type Lookup = { status: number; body: unknown } | { failure: string };

async function getJson(
  url: string,
  headers: Record<string, string>,
  timeoutMs: number,
  proxies: ProxyConfig,
) {
  try {
    const response = await proxiedFetch(proxies)(url, {
      headers: {
        accept: "application/json",
        "user-agent": USER_AGENT,
        ...headers,
      },
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Keep the text: proxies and rate limiters answer with HTML.
    }
    return { status: response.status, body } satisfies Lookup;
  } catch (error) {
    const err = error as { code?: string; name?: string; message?: string };
    return { failure: `${err.code ?? err.name ?? "error"}: ${err.message ?? String(error)}` };
  }
}

function refusal(service: string, status: number, tokenVariable: string): string {
  if (status === 401) return `${service} refused the token in ${tokenVariable} (HTTP 401)`;
  if (status === 403 || status === 429) {
    return `${service} refused the request (HTTP ${status}, probably a rate limit): set ${tokenVariable}, wait, or use --no-check`;
  }
  return `${service} answered HTTP ${status}`;
}

/** One forge repository and branch to look up, and how messages name them. */
interface ForgeBranch {
  service: "GitHub" | "Gitee";
  apiUrl: string;
  token: string | undefined;
  /** The environment variable messages suggest for the token. */
  tokenVariable: string;
  /** The repository as messages name it, e.g. "upstream GitHub repository owner/name". */
  what: string;
  repoPath: string;
  branch: string;
  /** A problem with a branch that exists (GitHub answers for a renamed one), or null. */
  existing?: (body: unknown) => string | null;
}

/**
 * Looks the branch up, then (when it is missing) the repository, so the sentence says which of
 * the two is missing; null when both exist.
 */
async function checkForgeBranch(
  target: ForgeBranch,
  settings: Pick<CheckSettings, "timeoutMs" | "proxies">,
): Promise<string | null> {
  const { timeoutMs, proxies } = settings;
  const { service, apiUrl, tokenVariable, what } = target;
  const headers: Record<string, string> = target.token
    ? { authorization: `Bearer ${target.token}` }
    : {};
  const repoUrl = `${apiUrl}/repos/${target.repoPath}`;
  const branch = await getJson(
    `${repoUrl}/branches/${encodeURIComponent(target.branch)}`,
    headers,
    timeoutMs,
    proxies,
  );
  if ("failure" in branch) {
    return `cannot reach the ${service} API at ${apiUrl} (${branch.failure}); use --no-check to skip the checks`;
  }
  if (branch.status === 200) return target.existing?.(branch.body) ?? null;
  if (branch.status !== 404)
    return `checking ${what}: ${refusal(service, branch.status, tokenVariable)}`;
  const repo = await getJson(repoUrl, headers, timeoutMs, proxies);
  if (!("failure" in repo) && repo.status === 200) return `${what} has no branch ${target.branch}`;
  return `${what} does not exist (or is private: set ${tokenVariable} to a token that can read it)`;
}

/** Whether the upstream repository and branch exist; a problem sentence, or null. */
export async function checkUpstream(
  tracking: TrackingRequest,
  settings: CheckSettings,
): Promise<string | null> {
  if (tracking.version_control === "git")
    return checkGitBranch(tracking.scm_repo, tracking.scm_branch, settings);
  const what = `upstream GitHub repository ${tracking.scm_repo}`;
  return checkForgeBranch(
    {
      service: "GitHub",
      apiUrl: settings.githubApiUrl,
      token: settings.githubToken,
      tokenVariable: "GITHUB_TOKEN",
      what,
      repoPath: tracking.scm_repo,
      branch: tracking.scm_branch,
      existing(body) {
        const name = (body as { name?: unknown }).name;
        return typeof name === "string" && name !== tracking.scm_branch
          ? `${what}: branch ${tracking.scm_branch} was renamed to ${name}; track ${name} instead`
          : null;
      },
    },
    settings,
  );
}

async function checkGitBranch(
  url: string,
  branch: string,
  settings: Pick<CheckSettings, "gitAllowProtocol" | "proxies">,
): Promise<string | null> {
  const allowProtocols = settings.gitAllowProtocol;
  const what = `upstream git repository ${url}`;
  // The scanner reads upstreams under this policy: a transport it refuses can never work.
  const refused = transportProblem(url, allowProtocols);
  if (refused) return `${what} ${refused}`;
  const result = await runGit(["ls-remote", "--exit-code", url, `refs/heads/${branch}`], {
    timeoutMs: 60_000,
    env: { ...gitProxyEnvironment(settings.proxies), GIT_ALLOW_PROTOCOL: allowProtocols },
  }).catch((error: Error) => ({ code: -1, stderr: error.message }));
  if (result.code === 0) return null;
  if (result.code === 2) return `${what} has no branch ${branch}`;
  const reason =
    result.stderr.trim().split("\n").slice(-2).join(" ") || `git exited with ${result.code}`;
  return `${what} cannot be read: ${reason}`;
}

/** Whether the downstream Gitee repository and branch exist; a problem sentence, or null. */
export async function checkDownstream(
  tracking: TrackingRequest,
  settings: CheckSettings,
): Promise<string | null> {
  const path = downstreamRepoPath(tracking.repo) ?? tracking.repo;
  return checkForgeBranch(
    {
      service: "Gitee",
      apiUrl: settings.giteeApiUrl,
      token: settings.giteeToken,
      tokenVariable: "GITEE_ACCESS_TOKEN",
      what: `downstream Gitee repository ${path}`,
      repoPath: path,
      branch: tracking.branch,
    },
    settings,
  );
}

/** Both checks at once; every problem found. */
export async function preAddProblems(
  tracking: TrackingRequest,
  settings: CheckSettings,
): Promise<string[]> {
  const results = await Promise.all([
    checkUpstream(tracking, settings),
    checkDownstream(tracking, settings),
  ]);
  return results.filter((problem): problem is string => problem !== null);
}
