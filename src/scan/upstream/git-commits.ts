/**
 * New commits of a git upstream branch, read from its local mirror: ancestry check, the
 * first-parent list `base..head` oldest first, the commit objects in one `cat-file --batch`, and
 * one `format-patch`-style patch per commit (a few in parallel).
 */
import { DivergedError, NotFoundError, RejectedError } from "../../errors.ts";
import { Semaphore } from "../concurrency.ts";
import { formatCommitPatch } from "./format-patch.ts";
import { parseCatFileBatch } from "./git-commit-object.ts";
import { toGitServiceError } from "./git-errors.ts";
import { branchProblem, displayUrl, urlProblem } from "./git-url.ts";
import { type MirrorContext, mirrorGit, mirrorWithCommit, resolveCommit } from "./mirror.ts";
import type { UpstreamCommit, UpstreamRef } from "./types.ts";

/** Beyond this a tracking is too far behind to catch up in one scan (as for GitHub). */
const MAX_COMMITS = 10_000;
/** Patches rendered at the same time. */
const PATCH_CONCURRENCY = 4;
/** A sha as stored in `scm_commit` (abbreviated allowed) or returned by `heads`. */
const SHA = /^[0-9a-f]{4,64}$/i;

function short(sha: string): string {
  return sha.slice(0, 12);
}

function checkInput(ref: UpstreamRef, base: string, head: string): void {
  const problem =
    urlProblem(ref.repo) ??
    branchProblem(ref.branch) ??
    (SHA.test(base) ? null : `base ${JSON.stringify(base)} is not a commit sha`) ??
    (SHA.test(head) ? null : `head ${JSON.stringify(head)} is not a commit sha`);
  if (problem) throw new RejectedError("git", `${displayUrl(ref.repo)}: ${problem}`);
}

/** Throws `DivergedError` unless `base` is an ancestor of `head` (both resolved shas). */
async function checkAncestry(
  ctx: MirrorContext,
  ref: UpstreamRef,
  dir: string,
  base: string,
  head: string,
): Promise<void> {
  const where = `${displayUrl(ref.repo)} branch ${ref.branch}`;
  const args = ["merge-base", "--is-ancestor", base, head];
  const result = await mirrorGit(ctx, ref.repo, dir, args, { okCodes: [0, 1, 128] });
  if (result.code === 0) return;
  if (result.code === 1) {
    throw new DivergedError(
      "git",
      `upstream ${where} was rewritten: ${short(base)} is no longer an ancestor of ${short(head)} (force-push or history rewrite); nothing is proposed until scm_commit is moved`,
      base,
      head,
    );
  }
  throw unknownBase(ref, base, head);
}

function unknownBase(ref: UpstreamRef, base: string, head: string): DivergedError {
  return new DivergedError(
    "git",
    `upstream ${displayUrl(ref.repo)} branch ${ref.branch}: base ${short(base)} is an unknown commit (not in the upstream's history, or removed by a rewrite); nothing is proposed until scm_commit is moved`,
    base,
    head,
  );
}

/**
 * Commits on `ref`'s first-parent history after `base` up to `head`, oldest first, with patches.
 * Fetches the mirror only when it lacks `head`. `base === head` returns [] without touching git.
 */
export async function listCommitsSince(
  ctx: MirrorContext,
  ref: UpstreamRef,
  base: string,
  head: string,
): Promise<UpstreamCommit[]> {
  checkInput(ref, base, head);
  if (base.toLowerCase() === head.toLowerCase()) return [];
  const url = ref.repo;
  const dir = await mirrorWithCommit(ctx, url, head);
  const headSha = await resolveCommit(ctx, dir, head);
  if (!headSha) {
    throw new NotFoundError(
      "git",
      `commit ${short(head)} of ${displayUrl(url)} branch ${ref.branch} is not in the upstream after a fetch (the branch moved or was rewritten since its head was read)`,
    );
  }
  const baseSha = await resolveCommit(ctx, dir, base);
  if (!baseSha) throw unknownBase(ref, base, headSha);
  if (baseSha === headSha) return [];
  await checkAncestry(ctx, ref, dir, baseSha, headSha);

  const range = `${baseSha}..${headSha}`;
  const listed = await mirrorGit(ctx, url, dir, ["rev-list", "--first-parent", "--reverse", range]);
  const shas = new TextDecoder().decode(listed.stdout).split("\n").filter(Boolean);
  if (shas.length > MAX_COMMITS) {
    throw new RejectedError(
      "git",
      `${displayUrl(url)} branch ${ref.branch}: ${shas.length} new commits after ${short(baseSha)}, more than ${MAX_COMMITS}; move scm_commit closer to the head`,
    );
  }
  if (shas.length === 0) return [];

  const objects = await mirrorGit(ctx, url, dir, ["cat-file", "--batch"], {
    input: `${shas.join("\n")}\n`,
  });
  const parsed = (() => {
    try {
      return parseCatFileBatch(objects.stdout);
    } catch (error) {
      throw toGitServiceError(error, "cat-file", url);
    }
  })();
  const semaphore = new Semaphore(PATCH_CONCURRENCY);
  const patches = await Promise.all(
    shas.map((sha) =>
      semaphore.run(async () => {
        try {
          return await formatCommitPatch(dir, sha, { timeoutMs: ctx.timeoutMs });
        } catch (error) {
          throw toGitServiceError(error, `format-patch ${short(sha)}`, url);
        }
      }),
    ),
  );
  return shas.map((sha, index) => {
    const object = parsed[index];
    const patch = patches[index];
    if (!object || object.sha !== sha || !patch) {
      throw new RejectedError("git", `${displayUrl(url)}: commit ${short(sha)} could not be read`);
    }
    return {
      sha,
      date: object.committerDate,
      message: object.message,
      authorName: object.authorName,
      authorEmail: object.authorEmail,
      parents: patch.parents,
      patch: patch.patch,
      empty: patch.empty,
      url: null,
    };
  });
}
