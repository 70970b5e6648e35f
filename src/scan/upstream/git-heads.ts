/**
 * Branch heads of git upstreams without fetching anything: one look-up per URL, however many of
 * its branches are asked for. An http(s) URL is asked in-process (one GET of its ref
 * advertisement, `git-http-refs.ts`); anything else, or an answer that is not the plain case,
 * goes to `git ls-remote`. Many URLs at a time, but never more than `hostConcurrency` on one host.
 */
import { NotFoundError, RejectedError, type ServiceError, TransientError } from "../../errors.ts";
import { git } from "../../git.ts";
import { gitHost } from "../circuit-breaker.ts";
import { KeyedSemaphore, Semaphore } from "../concurrency.ts";
import { toGitServiceError } from "./git-errors.ts";
import { advertisable, advertisedHeads } from "./git-http-refs.ts";
import { branchProblem, displayUrl, urlProblem } from "./git-url.ts";
import { type MirrorContext, prepareBase } from "./mirror.ts";
import type { HeadResult, UpstreamRef } from "./types.ts";

/** `git ls-remote` processes at the same time (each starts git and git-remote-http). */
const LS_REMOTE_CONCURRENCY = 8;

export interface HeadsLimits {
  /** URLs looked up at the same time, all hosts together (`GIT_LOOKUP_CONCURRENCY`). */
  lookupConcurrency: number;
  /** URLs of one host looked up at the same time (`GIT_HOST_CONCURRENCY`). */
  hostConcurrency: number;
}

export const DEFAULT_HEADS_LIMITS: HeadsLimits = { lookupConcurrency: 32, hostConcurrency: 8 };

/**
 * `refs/heads/<branch>` → sha for the given branches of `url`. Patterns only narrow what the
 * server sends; `ls-remote` matches them as suffixes (`main` also hits `feature/main`), so the
 * caller must look names up exactly.
 */
async function lsRemote(
  ctx: MirrorContext,
  url: string,
  branches: readonly string[],
): Promise<Map<string, string>> {
  const env = prepareBase(ctx);
  const patterns = branches.map((branch) => `refs/heads/${branch}`);
  const args = ["ls-remote", "--", url, ...patterns];
  ctx.stats.lsRemotes++;
  let stdout: string;
  try {
    stdout = await git(args, { cwd: ctx.basePath, env, timeoutMs: ctx.lookupTimeoutMs });
  } catch (error) {
    throw toGitServiceError(error, "ls-remote", url);
  }
  const refs = new Map<string, string>();
  for (const line of stdout.split("\n")) {
    const [sha, name] = line.split("\t");
    if (sha && name) refs.set(name, sha);
  }
  return refs;
}

/** Heads of `refs` in the order given; one `ls-remote` per distinct URL. */
export async function lookupHeads(
  ctx: MirrorContext,
  refs: readonly UpstreamRef[],
  limits: HeadsLimits = DEFAULT_HEADS_LIMITS,
): Promise<HeadResult[]> {
  const results: HeadResult[] = new Array(refs.length);
  const byUrl = new Map<string, number[]>();
  refs.forEach((ref, index) => {
    const problem = urlProblem(ref.repo) ?? branchProblem(ref.branch);
    if (problem) {
      results[index] = { error: new RejectedError("git", `${displayUrl(ref.repo)}: ${problem}`) };
      return;
    }
    const indices = byUrl.get(ref.repo);
    if (indices) indices.push(index);
    else byUrl.set(ref.repo, [index]);
  });
  const lookups = new Semaphore(limits.lookupConcurrency);
  const hosts = new KeyedSemaphore(limits.hostConcurrency);
  const processes = new Semaphore(LS_REMOTE_CONCURRENCY);
  const allow = ctx.env.GIT_ALLOW_PROTOCOL ?? "";
  const headsOf = async (url: string, branches: readonly string[]) => {
    if (advertisable(url, allow)) {
      ctx.stats.advertisements++;
      const heads = await advertisedHeads(url, ctx.lookupTimeoutMs, ctx.fetch);
      if (heads) return heads;
    }
    return processes.run(() => lsRemote(ctx, url, branches));
  };
  // A host that could not be connected to fails its other URLs the same way: no request each.
  const deadHosts = new Map<string, ServiceError>();
  // The host's slot is taken first, so URLs waiting for a busy host hold no global slot.
  const lookup = ([url, indices]: [string, number[]]) => {
    const host = gitHost(url);
    return hosts.run(host, () =>
      lookups.run(async () => {
        const dead = deadHosts.get(host);
        if (dead) {
          for (const index of indices) results[index] = { error: dead };
          return;
        }
        const branches = [...new Set(indices.map((index) => (refs[index] as UpstreamRef).branch))];
        try {
          const heads = await headsOf(url, branches);
          for (const index of indices) {
            const branch = (refs[index] as UpstreamRef).branch;
            const sha = heads.get(`refs/heads/${branch}`);
            results[index] = sha
              ? { sha }
              : {
                  error: new NotFoundError(
                    "git",
                    `branch ${branch} not found in ${displayUrl(url)}`,
                  ),
                };
          }
        } catch (error) {
          ctx.log.warn("git head lookup failed", {
            url: displayUrl(url),
            error: (error as Error).message,
          });
          for (const index of indices) results[index] = { error: error as Error };
          const transport = error instanceof TransientError ? error.transport : null;
          // Only "no connection at all": a timeout or a cut may be this one repository's.
          if (
            transport &&
            ["refused", "dns", "tls", "proxy"].includes(transport) &&
            host !== "local"
          ) {
            deadHosts.set(host, error as ServiceError);
          }
        }
      }),
    );
  };
  // Per host, one URL first: if the host is down, its other URLs learn it without a request.
  const byHost = new Map<string, Array<[string, number[]]>>();
  for (const entry of byUrl) {
    const host = gitHost(entry[0]);
    const list = byHost.get(host);
    if (list) list.push(entry);
    else byHost.set(host, [entry]);
  }
  await Promise.all(
    [...byHost.values()].map(async ([first, ...rest]) => {
      if (first) await lookup(first);
      await Promise.all(rest.map(lookup));
    }),
  );
  return results;
}
