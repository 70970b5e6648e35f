/**
 * Branch heads from GitHub at (almost) no quota cost.
 *
 * - Several refs: one GraphQL query per `batchSize` (≤ 100) refs, with generated aliases and
 *   variables; it costs one GraphQL point whatever the batch size, and partial `errors` become
 *   per-ref errors while the other refs resolve. The queries go one after another, unpaced.
 * - A single ref (a manual scan, a tracking just saved), or GraphQL unusable (a compatible
 *   server without it): `GET /repos/{o}/{r}/branches/{b}` with the ETag of the previous answer,
 *   so an unchanged branch is a free 304.
 * - A branch GraphQL reports absent is probed over REST (a few per call), because only REST
 *   tells a renamed branch (301 to the new name) from a deleted one.
 */
import { NotFoundError, RateLimitedError, RejectedError, TransientError } from "../../errors.ts";
import type { Logger } from "../../log.ts";
import { mapLimited } from "../concurrency.ts";
import type { GithubOctokit, GithubRequester } from "./github-client.ts";
import { isNotModified, rateLimitResetAt, toServiceError } from "./github-errors.ts";
import { parseRepo } from "./github-urls.ts";
import type { HeadResult, UpstreamRef } from "./types.ts";

export interface HeadsContext {
  octokit: GithubOctokit;
  /** Sends the GraphQL query: a client without the plugin that paces POSTs one per second. */
  graphql: GithubRequester;
  graphqlUrl: string;
  log: Logger;
  /** Refs per GraphQL query, at most 100. */
  batchSize: number;
  /** ETag and sha of the last REST answer per ref, for free conditional re-reads. */
  etags: Map<string, { etag: string; sha: string }>;
  /** Until when (epoch ms) GraphQL is not tried, after it proved unusable. */
  graphqlOffUntil: number;
}

/** How long GraphQL stays off after the endpoint refused the query as a whole. */
const GRAPHQL_PAUSE_MS = 3_600_000;
/** Absent branches probed over REST per call, to bound the quota a broken tracking costs. */
const RENAME_PROBES = 10;
/** Parallel REST look-ups (the throttling plugin allows 10 at a time). */
const REST_CONCURRENCY = 8;

interface GraphqlError {
  type?: string;
  path?: Array<string | number>;
  message?: string;
}

interface GraphqlBody {
  data?: Record<string, { ref: { target: { oid: string } } | null } | null> | null;
  errors?: GraphqlError[];
}

function refKey(ref: UpstreamRef): string {
  return `${ref.repo}\0${ref.branch}`;
}

/** The query for `count` refs: aliases r0..rN, variables $oN/$nN/$qN (no string splicing). */
export function headsQuery(count: number): string {
  const variables: string[] = [];
  const fields: string[] = [];
  for (let i = 0; i < count; i++) {
    variables.push(`$o${i}: String!, $n${i}: String!, $q${i}: String!`);
    fields.push(
      `r${i}: repository(owner: $o${i}, name: $n${i}) { ref(qualifiedName: $q${i}) { target { oid } } }`,
    );
  }
  return `query Heads(${variables.join(", ")}) {\n  ${fields.join("\n  ")}\n  rateLimit { cost remaining resetAt }\n}`;
}

/** One branch over REST, conditional on the previous ETag (a 304 costs no quota). */
export async function restHead(ctx: HeadsContext, ref: UpstreamRef): Promise<HeadResult> {
  const repo = parseRepo(ref.repo);
  if (!repo) return { error: new RejectedError("github", `"${ref.repo}" is not owner/name`) };
  const key = refKey(ref);
  const cached = ctx.etags.get(key);
  try {
    const response = await ctx.octokit.rest.repos.getBranch({
      owner: repo.owner,
      repo: repo.name,
      branch: ref.branch,
      headers: cached ? { "if-none-match": cached.etag } : {},
    });
    const { name, commit } = response.data;
    // fetch follows GitHub's 301 for a renamed branch; tracking the new name silently would
    // switch upstreams behind the operator's back.
    if (name !== ref.branch) {
      ctx.etags.delete(key);
      return {
        error: new NotFoundError(
          "github",
          `branch ${ref.branch} of ${ref.repo} was renamed to ${name}; update scm_branch`,
          301,
        ),
      };
    }
    const etag = response.headers.etag;
    if (etag) ctx.etags.set(key, { etag, sha: commit.sha });
    return { sha: commit.sha };
  } catch (error) {
    if (isNotModified(error) && cached) return { sha: cached.sha };
    return { error: toServiceError(error, `head of ${ref.repo} ${ref.branch}`) };
  }
}

/** One GraphQL query for up to 100 refs; throws when the query failed as a whole. */
async function graphqlHeads(
  ctx: HeadsContext,
  refs: UpstreamRef[],
): Promise<{ results: Map<string, HeadResult>; absent: UpstreamRef[] }> {
  const variables: Record<string, string> = {};
  refs.forEach((ref, i) => {
    const repo = parseRepo(ref.repo) as { owner: string; name: string };
    variables[`o${i}`] = repo.owner;
    variables[`n${i}`] = repo.name;
    variables[`q${i}`] = `refs/heads/${ref.branch}`;
  });
  const response = await ctx.graphql.request(`POST ${ctx.graphqlUrl}`, {
    query: headsQuery(refs.length),
    variables,
  });
  const body = (response.data ?? {}) as GraphqlBody & { data?: { rateLimit?: unknown } };
  const errors = body.errors ?? [];
  if (errors.some((error) => error.type === "RATE_LIMITED")) {
    const resetAt =
      rateLimitResetAt({ status: 200, response: { headers: response.headers, data: body } }) ??
      Date.now() + 60_000;
    throw new RateLimitedError("github", "GraphQL rate limit exceeded", resetAt);
  }
  if (!body.data) {
    const reasons = errors.map((error) => error.message).join("; ") || "no data";
    throw new RejectedError("github", `GraphQL heads query failed: ${reasons}`);
  }
  ctx.log.debug("GitHub GraphQL heads", { refs: refs.length, rateLimit: body.data.rateLimit });
  const results = new Map<string, HeadResult>();
  const absent: UpstreamRef[] = [];
  refs.forEach((ref, i) => {
    const alias = `r${i}`;
    const node = body.data?.[alias];
    if (!node) {
      const error = errors.find((entry) => entry.path?.[0] === alias);
      const detail = error?.message ? ` (${error.message})` : "";
      results.set(refKey(ref), {
        error:
          error?.type === "FORBIDDEN"
            ? new RejectedError("github", `repository ${ref.repo} is not accessible${detail}`)
            : new NotFoundError("github", `repository ${ref.repo} not found${detail}`),
      });
    } else if (!node.ref) {
      absent.push(ref);
    } else {
      results.set(refKey(ref), { sha: node.ref.target.oid });
    }
  });
  return { results, absent };
}

/** Heads of `refs` in the given order; never throws, each ref carries its own error. */
export async function lookupHeads(
  ctx: HeadsContext,
  refs: readonly UpstreamRef[],
): Promise<HeadResult[]> {
  const results = new Map<string, HeadResult>();
  const unique = new Map<string, UpstreamRef>();
  for (const ref of refs) {
    if (!parseRepo(ref.repo)) {
      const error = new RejectedError("github", `"${ref.repo}" is not owner/name`);
      results.set(refKey(ref), { error });
    } else unique.set(refKey(ref), ref);
  }
  const pending = [...unique.values()];
  let unreachable: TransientError | null = null;
  const viaRest = async (list: UpstreamRef[]) => {
    const found = await mapLimited(list, REST_CONCURRENCY, (ref) => restHead(ctx, ref));
    list.forEach((ref, i) => {
      results.set(refKey(ref), found[i] as HeadResult);
    });
  };

  for (let start = 0; start < pending.length; start += ctx.batchSize) {
    const batch = pending.slice(start, start + ctx.batchSize);
    if (unreachable) {
      // GitHub could not be reached for the previous batch: the next ones would fail the same
      // way, one request each (100 of them for 10,000 trackings). They share its error instead.
      for (const ref of batch) results.set(refKey(ref), { error: unreachable });
      continue;
    }
    // One branch alone: a conditional REST request is free when unchanged, GraphQL never is.
    if (batch.length === 1 || Date.now() < ctx.graphqlOffUntil) {
      await viaRest(batch);
      continue;
    }
    try {
      const answer = await graphqlHeads(ctx, batch);
      for (const [key, result] of answer.results) results.set(key, result);
      await viaRest(answer.absent.slice(0, RENAME_PROBES));
      for (const ref of answer.absent.slice(RENAME_PROBES)) {
        const error = new NotFoundError("github", `branch ${ref.branch} not found in ${ref.repo}`);
        results.set(refKey(ref), { error });
      }
    } catch (caught) {
      const error = toServiceError(caught, `GraphQL heads of ${batch.length} branches`);
      if (error instanceof NotFoundError || error instanceof RejectedError) {
        // The endpoint does not answer this query (a GitHub-compatible server without GraphQL?):
        // conditional REST requests still make unchanged branches free.
        ctx.graphqlOffUntil = Date.now() + GRAPHQL_PAUSE_MS;
        ctx.log.warn("GitHub GraphQL unusable, reading heads over REST", { error: error.message });
        await viaRest(batch);
      } else {
        for (const ref of batch) results.set(refKey(ref), { error });
        if (error instanceof TransientError && error.transport && error.transport !== "server") {
          unreachable = error;
        }
      }
    }
  }
  return refs.map(
    (ref) =>
      results.get(refKey(ref)) ?? {
        error: new TransientError("github", `no head for ${ref.repo} ${ref.branch}`),
      },
  );
}
