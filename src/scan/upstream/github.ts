/**
 * The `github` upstream: branch heads and new commits with their patches from the GitHub REST
 * and GraphQL APIs (github.com, GitHub Enterprise Server, or a compatible server such as the
 * test emulator), spending as little of the hourly quota as possible:
 *
 * - unchanged branches: one GraphQL point per ≤100 branches, or a free 304 for a single branch;
 * - changed branches: one compare JSON page per 100 new commits plus one mailbox of patches,
 *   plus one request per merge or empty commit (those are missing from the mailbox).
 *
 * All failures leave as the typed errors of `src/errors.ts`. Tokens never reach the logs.
 */
import type { Logger } from "../../log.ts";
import {
  createGithubGraphqlClient,
  createGithubOctokit,
  type GithubClientOptions,
} from "./github-client.ts";
import { fetchCommitsSince } from "./github-commits.ts";
import { toServiceError } from "./github-errors.ts";
import { type HeadsContext, lookupHeads } from "./github-heads.ts";
import { graphqlUrlFor, webUrlFor } from "./github-urls.ts";
import type { Upstream } from "./types.ts";

export interface GithubUpstreamOptions
  extends Omit<GithubClientOptions, "log" | "baseUrl" | "token" | "timeoutMs"> {
  /** REST base URL (`GITHUB_API_URL`): `https://api.github.com` or `https://host/api/v3`. */
  baseUrl: string;
  token: string;
  log: Logger;
  /** Milliseconds before one HTTP attempt is abandoned. */
  timeoutMs: number;
  /** GraphQL endpoint; derived from `baseUrl` when absent. */
  graphqlUrl?: string;
  /** Web host for commit links; derived from `baseUrl` when absent. */
  webUrl?: string;
  /** Refs per GraphQL query (1-100); default 100. */
  batchSize?: number;
}

export interface GithubUpstream extends Upstream {
  readonly kind: "github";
  /** The login the token belongs to (`GET /user`); throws `AuthFailedError` for a bad token. */
  checkToken(): Promise<string>;
}

export function createGithubUpstream(options: GithubUpstreamOptions): GithubUpstream {
  const octokit = createGithubOctokit(options);
  const log = options.log;
  const heads: HeadsContext = {
    octokit,
    graphql: createGithubGraphqlClient(options),
    log,
    graphqlUrl: options.graphqlUrl ?? graphqlUrlFor(options.baseUrl),
    batchSize: Math.min(100, Math.max(1, options.batchSize ?? 100)),
    etags: new Map(),
    graphqlOffUntil: 0,
  };
  const commits = { octokit, log, webUrl: options.webUrl ?? webUrlFor(options.baseUrl) };
  return {
    kind: "github",
    heads: (refs) => lookupHeads(heads, refs),
    commitsSince: (ref, base, head) => fetchCommitsSince(commits, ref, base, head),
    async checkToken() {
      try {
        const response = await octokit.rest.users.getAuthenticated();
        return response.data.login;
      } catch (error) {
        throw toServiceError(error, "GitHub token check");
      }
    },
  };
}
