/**
 * New commits of a GitHub branch with their patches, for a number of requests that does not grow
 * with the commit count (beyond one JSON page per 100 commits):
 *
 * 1. `compare/{base}...{head}` JSON, paged 100 at a time (an unpaged compare silently drops the
 *    oldest commits beyond 250), checked against `total_commits`. Any status other than
 *    `ahead`/`identical` stops here with `DivergedError`, before a single patch is fetched.
 * 2. The first-parent chain from head back to base, walked over `parents[0]` inside the compare
 *    list — the same list as `git rev-list --first-parent --reverse base..head`: a merge is one
 *    entry (its first-parent diff), side-branch commits are skipped.
 * 3. The same compare in the patch media type: one mailbox, split per commit. Commits it lacks
 *    (merges, empty commits, a cut output) are fetched one by one from `commits/{sha}`.
 */
import { DivergedError, NotFoundError, RejectedError, TransientError } from "../../errors.ts";
import type { Logger } from "../../log.ts";
import { mapLimited } from "../concurrency.ts";
import type { GithubOctokit } from "./github-client.ts";
import { cleanMessage, toServiceError } from "./github-errors.ts";
import { patchIsEmpty, splitMbox } from "./github-mbox.ts";
import { commitWebUrl, parseRepo } from "./github-urls.ts";
import type { UpstreamCommit, UpstreamRef } from "./types.ts";

export interface CommitsContext {
  octokit: GithubOctokit;
  log: Logger;
  /** Web host for commit links (`https://github.com`). */
  webUrl: string;
}

/** Compare pages hold at most 100 commits. */
const PER_PAGE = 100;
/** Beyond this a tracking is too far behind to catch up through the compare API. */
const MAX_COMMITS = 10_000;
/** Parallel one-commit patch requests. */
const PATCH_CONCURRENCY = 4;

interface ListedCommit {
  sha: string;
  parents: Array<{ sha: string }>;
  commit: {
    message: string;
    author: { name?: string; email?: string; date?: string } | null;
    committer: { name?: string; email?: string; date?: string } | null;
  };
}

type Repo = { owner: string; name: string };

async function call<T>(what: string, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (error) {
    throw toServiceError(error, what);
  }
}

/** A body read with `parseSuccessResponseBody: false`, as bytes (patches need not be UTF-8). */
async function bodyBytes(data: unknown): Promise<Uint8Array> {
  if (typeof data === "string") return new TextEncoder().encode(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(await new Response(data as ReadableStream | null).arrayBuffer());
}

function isoSeconds(date: string | undefined): string {
  const parsed = new Date(date ?? "");
  if (Number.isNaN(parsed.getTime())) return date ?? "";
  return parsed.toISOString().replace(/\.\d{3}Z$/, "Z");
}

function short(sha: string): string {
  return sha.slice(0, 12);
}

/** Every commit of `base..head`, oldest first; [] when identical; DivergedError otherwise. */
async function listRange(
  ctx: CommitsContext,
  ref: UpstreamRef,
  repo: Repo,
  base: string,
  head: string,
): Promise<ListedCommit[]> {
  const basehead = `${base}...${head}`;
  const what = `compare ${ref.repo} ${short(base)}...${short(head)}`;
  const page = async (n: number) => {
    try {
      return await ctx.octokit.rest.repos.compareCommitsWithBasehead({
        owner: repo.owner,
        repo: repo.name,
        basehead,
        per_page: PER_PAGE,
        page: n,
      });
    } catch (error) {
      const failure = error as { status?: number; message?: string };
      if (failure.status === 404 && /no common ancestor/i.test(failure.message ?? "")) {
        throw new DivergedError(
          "github",
          `${ref.repo} ${ref.branch}: ${short(base)} shares no history with the head ${short(head)} (${cleanMessage(failure.message)}); the branch was rewritten`,
          base,
          head,
        );
      }
      if (failure.status === 404) {
        throw new NotFoundError(
          "github",
          `${what}: the repository or one of the commits does not exist (a force-push may have removed ${short(base)})`,
          404,
        );
      }
      throw toServiceError(error, what);
    }
  };
  const first = (await page(1)).data;
  if (first.status === "identical") return [];
  if (first.status !== "ahead") {
    throw new DivergedError(
      "github",
      `${ref.repo} ${ref.branch}: ${short(base)} is no longer an ancestor of the head ${short(head)} (compare status ${first.status}, ${first.ahead_by} ahead, ${first.behind_by} behind); the branch was force-pushed or rewritten`,
      base,
      head,
    );
  }
  const total = first.total_commits;
  if (total > MAX_COMMITS) {
    throw new RejectedError(
      "github",
      `${what}: ${total} new commits, more than ${MAX_COMMITS}; move scm_commit closer to the head`,
    );
  }
  const commits = [...(first.commits as ListedCommit[])];
  for (let n = 2; commits.length < total; n++) {
    const next = (await page(n)).data.commits as ListedCommit[];
    if (next.length === 0) break;
    commits.push(...next);
  }
  if (commits.length !== total) {
    throw new TransientError("github", `${what}: listed ${commits.length} of ${total} commits`);
  }
  return commits;
}

/** `git rev-list --first-parent --reverse base..head` over the compare list. */
export function firstParentChain<T extends { sha: string; parents: Array<{ sha: string }> }>(
  listed: readonly T[],
  head: string,
): T[] {
  const bySha = new Map(listed.map((commit) => [commit.sha, commit]));
  const chain: T[] = [];
  let cursor: string | undefined = head;
  while (cursor !== undefined && bySha.has(cursor) && chain.length < listed.length) {
    const commit = bySha.get(cursor) as T;
    chain.push(commit);
    cursor = commit.parents[0]?.sha;
  }
  return chain.reverse();
}

/** The patch of one commit (merges: first-parent diff), as served in the patch media type. */
async function commitPatch(ctx: CommitsContext, repo: Repo, sha: string): Promise<Uint8Array> {
  return call(`patch of ${repo.owner}/${repo.name} ${short(sha)}`, async () => {
    const response = await ctx.octokit.request("GET /repos/{owner}/{repo}/commits/{ref}", {
      owner: repo.owner,
      repo: repo.name,
      ref: sha,
      mediaType: { format: "patch" },
      request: { parseSuccessResponseBody: false },
    });
    return bodyBytes(response.data);
  });
}

/** The first line of a format-patch message names its commit; refuse someone else's patch. */
function checkPatchSha(patch: Uint8Array, sha: string, what: string): void {
  const head = new TextDecoder().decode(patch.subarray(0, 80));
  const match = /^From ([0-9a-f]{40,64}) /.exec(head);
  if (match && match[1] !== sha) {
    throw new TransientError("github", `${what}: got the patch of ${match[1]} instead of ${sha}`);
  }
}

async function collectPatches(
  ctx: CommitsContext,
  ref: UpstreamRef,
  repo: Repo,
  base: string,
  head: string,
  listed: readonly ListedCommit[],
  chain: readonly ListedCommit[],
): Promise<Map<string, Uint8Array>> {
  let patches = new Map<string, Uint8Array>();
  // The mailbox carries no merges, so it only pays off with two or more ordinary commits.
  const ordinary = chain.filter((commit) => commit.parents.length <= 1).length;
  if (ordinary >= 2) {
    const what = `compare patch ${ref.repo} ${short(base)}...${short(head)}`;
    const mbox = await call(what, async () => {
      const response = await ctx.octokit.request("GET /repos/{owner}/{repo}/compare/{basehead}", {
        owner: repo.owner,
        repo: repo.name,
        basehead: `${base}...${head}`,
        mediaType: { format: "patch" },
        request: { parseSuccessResponseBody: false },
      });
      return bodyBytes(response.data);
    });
    patches = splitMbox(mbox, new Set(listed.map((commit) => commit.sha)));
  }
  const missing = chain.filter((commit) => !patches.has(commit.sha));
  if (missing.length > 0) {
    ctx.log.debug("fetching patches one by one", {
      repo: ref.repo,
      count: missing.length,
      merges: missing.filter((commit) => commit.parents.length > 1).length,
    });
  }
  await mapLimited(missing, PATCH_CONCURRENCY, async (commit) => {
    const patch = await commitPatch(ctx, repo, commit.sha);
    checkPatchSha(patch, commit.sha, `patch of ${ref.repo} ${short(commit.sha)}`);
    patches.set(commit.sha, patch);
  });
  return patches;
}

export async function fetchCommitsSince(
  ctx: CommitsContext,
  ref: UpstreamRef,
  base: string,
  head: string,
): Promise<UpstreamCommit[]> {
  const repo = parseRepo(ref.repo);
  if (!repo) throw new RejectedError("github", `"${ref.repo}" is not owner/name`);
  if (base === head) return [];
  const listed = await listRange(ctx, ref, repo, base, head);
  if (listed.length === 0) return [];
  const chain = firstParentChain(listed, head);
  if (chain.length === 0) {
    throw new TransientError("github", `compare of ${ref.repo} does not list the head ${head}`);
  }
  const patches = await collectPatches(ctx, ref, repo, base, head, listed, chain);
  return chain.map((commit) => {
    const patch = patches.get(commit.sha) as Uint8Array;
    const author = commit.commit.author ?? commit.commit.committer ?? {};
    return {
      sha: commit.sha,
      date: isoSeconds(author.date),
      message: commit.commit.message,
      authorName: author.name ?? "",
      authorEmail: author.email ?? "",
      parents: commit.parents.map((parent) => parent.sha),
      patch,
      empty: patchIsEmpty(patch),
      url: commitWebUrl(ctx.webUrl, `${repo.owner}/${repo.name}`, commit.sha),
    };
  });
}
