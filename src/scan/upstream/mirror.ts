/**
 * Bare mirrors of upstream git repositories under one base folder (`GIT_BASE_PATH`): one per URL,
 * shared by every tracking of that URL, created once and from then on only updated with an
 * incremental `git fetch --prune`.
 *
 * A mirror holds the upstream's branches only (`+refs/heads/*:refs/heads/*`, no tags, none of a
 * forge's `refs/pull/*`): that is all the scanner reads, and it keeps big forges' mirrors small.
 * Forced updates are applied, deleted branches disappear; objects orphaned by a force-push stay
 * until git collects them, so "the object exists" never means "it is still on the branch".
 *
 * Crash safety: a mirror is built in a `.tmp-*` directory, marked complete in its config, and
 * renamed into place, so the final directory is either absent or complete. A directory without the
 * mark (an older layout, a copy, a crash of something else) is moved aside and rebuilt. Lock files
 * that a killed git left behind are removed once older than the git timeout.
 *
 * Concurrency: work on one mirror is serialised in-process by a per-directory mutex, and the
 * mirror is re-checked after the mutex is taken, so concurrent scans of one URL cause a single
 * clone or fetch. Two *processes* must not share a base folder (one service owns
 * `GIT_BASE_PATH`); git's own ref locks make a collision fail rather than corrupt, and the stale
 * lock and temp directory clean-up only touches files older than the git timeout.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { dirname, join, sep } from "node:path";
import { RejectedError } from "../../errors.ts";
import { GitError, git, runGit } from "../../git.ts";
import type { Logger } from "../../log.ts";
import type { KeyedMutex } from "../concurrency.ts";
import { toGitServiceError } from "./git-errors.ts";
import { displayUrl, mirrorName } from "./git-url.ts";

/** How often the mirrors were touched; exposed so tests can prove that work was skipped. */
export interface MirrorStats {
  /** Mirrors created (initial full fetch into a new directory). */
  clones: number;
  /** Incremental fetches into an existing mirror. */
  fetches: number;
  /** `git ls-remote` calls (one per URL per `heads` call, unless its advertisement answered). */
  lsRemotes: number;
  /** In-process GETs of an http(s) URL's ref advertisement. */
  advertisements: number;
}

export interface MirrorContext {
  basePath: string;
  log: Logger;
  /** Milliseconds per git command. */
  timeoutMs: number;
  /** Milliseconds before a head lookup (`ls-remote`, one round trip) is killed. */
  lookupTimeoutMs: number;
  /** Environment for git calls that reach the network (`GIT_ALLOW_PROTOCOL`). */
  env: Record<string, string>;
  /** `fetch` for in-process ref advertisements, through the same proxies as `env` gives git. */
  fetch: typeof fetch;
  stats: MirrorStats;
  locks: KeyedMutex;
}

/** Config key written last into a new mirror; its absence means "not finished". */
const COMPLETE_KEY = "patchtracking.complete";
const FETCH_REFSPEC = "+refs/heads/*:refs/heads/*";

/** The directory of `url`'s mirror; always a direct child of the base folder. */
export function mirrorPath(basePath: string, url: string): string {
  const dir = join(basePath, mirrorName(url));
  // mirrorName emits only [a-z0-9._-], so this holds; checked anyway because it guards deletes.
  if (dirname(dir) !== join(basePath) || dir.includes(`${sep}..`)) {
    throw new Error(`mirror directory for ${displayUrl(url)} escapes ${basePath}`);
  }
  return dir;
}

/**
 * Creates the base folder and returns environment additions that keep git from discovering a
 * repository above it (a service started inside a checkout must not read that checkout's config).
 */
export function prepareBase(ctx: MirrorContext): Record<string, string> {
  try {
    mkdirSync(ctx.basePath, { recursive: true });
  } catch (error) {
    throw new RejectedError(
      "git",
      `cannot create the mirror folder ${ctx.basePath} (GIT_BASE_PATH): ${(error as Error).message}`,
    );
  }
  return { ...ctx.env, GIT_CEILING_DIRECTORIES: dirname(ctx.basePath) };
}

/** Runs git on a mirror, addressed by `GIT_DIR` so a broken mirror never falls back to a parent. */
function inMirror(ctx: MirrorContext, dir: string, args: readonly string[], input?: string) {
  return runGit(args, {
    env: { ...ctx.env, GIT_DIR: dir },
    timeoutMs: ctx.timeoutMs,
    ...(input === undefined ? {} : { input }),
  });
}

/** True when `dir` is a finished mirror of exactly `url`. */
async function isComplete(ctx: MirrorContext, dir: string, url: string): Promise<boolean> {
  if (!existsSync(join(dir, "HEAD"))) return false;
  const result = await inMirror(ctx, dir, ["config", "--local", "-z", "--list"]);
  if (result.code !== 0) return false;
  const entries = new Map<string, string>();
  for (const entry of new TextDecoder().decode(result.stdout).split("\0")) {
    const newline = entry.indexOf("\n");
    if (newline > 0) entries.set(entry.slice(0, newline), entry.slice(newline + 1));
  }
  return entries.get("remote.origin.url") === url && entries.get(COMPLETE_KEY) === "true";
}

function olderThan(path: string, ms: number): boolean {
  try {
    return Date.now() - statSync(path).mtimeMs > ms;
  } catch {
    return false;
  }
}

/** Removes leftovers of earlier attempts at `name`: old temp dirs and any moved-aside dirs. */
function removeLeftovers(ctx: MirrorContext, name: string): void {
  for (const entry of readdirSync(ctx.basePath)) {
    const path = join(ctx.basePath, entry);
    const stale =
      entry.startsWith(`.trash-${name}-`) ||
      (entry.startsWith(`.tmp-${name}-`) && olderThan(path, ctx.timeoutMs));
    if (stale) rmSync(path, { recursive: true, force: true });
  }
}

/**
 * Deletes `*.lock` files in the mirror older than `ageMs`: a git process killed by the timeout
 * leaves them, and every later fetch would then fail with "Unable to create '…lock'".
 */
export function removeStaleLocks(dir: string, ageMs: number): string[] {
  const removed: string[] = [];
  const candidates = [
    ...readdirSync(dir).filter((entry) => entry.endsWith(".lock")),
    ...(existsSync(join(dir, "refs"))
      ? readdirSync(join(dir, "refs"), { recursive: true })
          .map(String)
          .filter((entry) => entry.endsWith(".lock"))
          .map((entry) => join("refs", entry))
      : []),
  ];
  for (const entry of candidates) {
    const path = join(dir, entry);
    if (ageMs > 0 && !olderThan(path, ageMs)) continue;
    rmSync(path, { force: true });
    removed.push(entry);
  }
  return removed;
}

/** Builds a new mirror of `url` in a temp directory and renames it to `dir`. */
async function createMirror(ctx: MirrorContext, url: string, dir: string): Promise<void> {
  const name = mirrorName(url);
  const started = Date.now();
  removeLeftovers(ctx, name);
  if (existsSync(dir)) {
    ctx.log.warn("rebuilding an unfinished mirror", { url: displayUrl(url), dir });
    const trash = join(ctx.basePath, `.trash-${name}-${randomBytes(4).toString("hex")}`);
    renameSync(dir, trash);
    rmSync(trash, { recursive: true, force: true });
  }
  const tmp = join(ctx.basePath, `.tmp-${name}-${process.pid}-${randomBytes(4).toString("hex")}`);
  ctx.stats.clones++;
  try {
    await git(["init", "-q", "--bare", "--template=", "--", tmp], {
      env: ctx.env,
      timeoutMs: ctx.timeoutMs,
    });
    const configure = (key: string, value: string) =>
      mirrorGit(ctx, url, tmp, ["config", "--local", "--", key, value]);
    await configure("remote.origin.url", url);
    await configure("remote.origin.fetch", FETCH_REFSPEC);
    await configure("remote.origin.tagOpt", "--no-tags");
    // Automatic gc in the foreground, so no detached git outlives the timeout or holds locks.
    await configure("gc.autoDetach", "false");
    await mirrorGit(ctx, url, tmp, ["fetch", "--quiet", "--prune", "origin"]);
    await configure(COMPLETE_KEY, "true");
    renameSync(tmp, dir);
  } catch (error) {
    rmSync(tmp, { recursive: true, force: true });
    throw toGitServiceError(error, "clone", url);
  }
  ctx.log.info("mirror created", { url: displayUrl(url), dir, ms: Date.now() - started });
}

/** Incremental update of an existing mirror (forced updates applied, deleted branches pruned). */
async function fetchMirror(ctx: MirrorContext, url: string, dir: string): Promise<void> {
  const started = Date.now();
  const stale = removeStaleLocks(dir, ctx.timeoutMs);
  if (stale.length > 0) ctx.log.warn("removed stale git locks", { dir, locks: stale });
  ctx.stats.fetches++;
  // Our own git killed mid-fetch: its locks are ours, and would block every later fetch.
  await mirrorGit(ctx, url, dir, ["fetch", "--quiet", "--prune", "origin"], {
    onTimeout: () => removeStaleLocks(dir, 0),
  });
  ctx.log.info("mirror fetched", { url: displayUrl(url), dir, ms: Date.now() - started });
}

/** The full sha of commit `rev` in the mirror, or null when the mirror lacks it. */
export async function resolveCommit(
  ctx: MirrorContext,
  dir: string,
  rev: string,
): Promise<string | null> {
  const result = await inMirror(ctx, dir, [
    "rev-parse",
    "--verify",
    "--quiet",
    "--end-of-options",
    `${rev}^{commit}`,
  ]);
  if (result.code !== 0) return null;
  const sha = new TextDecoder().decode(result.stdout).trim();
  // An abbreviated sha could also be read as a branch name; only a prefix match counts.
  return sha.startsWith(rev.toLowerCase()) ? sha : null;
}

/**
 * Makes sure `url`'s mirror exists and contains commit `sha`: creates the mirror when absent or
 * unfinished, fetches only when `sha` is missing, and never clones an existing mirror again.
 * Returns the mirror directory. Does not guarantee `sha` exists (the caller checks).
 */
export async function mirrorWithCommit(
  ctx: MirrorContext,
  url: string,
  sha: string,
): Promise<string> {
  prepareBase(ctx);
  const dir = mirrorPath(ctx.basePath, url);
  await ctx.locks.run(dir, async () => {
    if (!(await isComplete(ctx, dir, url))) {
      await createMirror(ctx, url, dir);
      return;
    }
    if (await resolveCommit(ctx, dir, sha)) return;
    await fetchMirror(ctx, url, dir);
  });
  return dir;
}

/**
 * Runs git in the mirror `dir` of `url`. Exit codes outside `okCodes` (default 0) and failures to
 * run leave as the typed error naming `url`; `onTimeout` runs after git was killed for time.
 */
export async function mirrorGit(
  ctx: MirrorContext,
  url: string,
  dir: string,
  args: readonly string[],
  options: { input?: string; okCodes?: readonly number[]; onTimeout?: () => void } = {},
): Promise<{ code: number; stdout: Uint8Array }> {
  const what = args[0] ?? "git";
  let result: Awaited<ReturnType<typeof runGit>>;
  try {
    result = await inMirror(ctx, dir, args, options.input);
  } catch (error) {
    if (error instanceof GitError && error.timedOut) options.onTimeout?.();
    throw toGitServiceError(error, what, url);
  }
  if (!(options.okCodes ?? [0]).includes(result.code)) {
    throw toGitServiceError(new GitError(args, result.code, result.stderr), what, url);
  }
  return result;
}
