/**
 * The `git` upstream: any git URL (`scm_repo`), read through a local bare mirror per URL under
 * `GIT_BASE_PATH` (see `mirror.ts`).
 *
 * Cost per scan:
 * - `heads`: one `git ls-remote` per distinct URL, whatever the number of its branches; nothing is
 *   fetched, so unchanged upstreams cost one round trip each.
 * - `commitsSince`: the mirror is created on first use (then never cloned again) and otherwise
 *   fetched incrementally only when it lacks `head`, so every tracking of one URL shares at most
 *   one fetch per scan.
 *
 * Which commits, and how merges look (the same as the `github` upstream):
 * - the list is `git rev-list --first-parent --reverse base..head`, oldest first: the branch's
 *   own history. Commits that arrived through a merge are not listed one by one;
 * - a merge commit is one patch, its diff against its first parent, so a merged topic arrives as
 *   one patch containing the whole topic (`format-patch.ts`);
 * - a commit that changes nothing is returned with `empty: true` and a patch without a diff;
 * - `date` is the committer date in UTC; `message` is decoded text (the commit's `encoding`, else
 *   UTF-8, else Latin-1 — never throws), while `patch` keeps the raw bytes; `url` is null.
 *
 * `base` must be an ancestor of `head`: otherwise (force-push, rewrite, or a `base` the upstream
 * never had) `DivergedError` is thrown before any patch is made.
 *
 * Safety: URLs and branch names are validated and passed as argv (never a shell), revisions after
 * `--end-of-options`; git runs without prompts or user configuration (`src/git.ts`), with a
 * timeout per command, and with the transports limited by `GIT_ALLOW_PROTOCOL`. Errors and logs
 * name URLs without their credentials.
 */
import { resolve } from "node:path";
import type { Logger } from "../../log.ts";
import { KeyedMutex } from "../concurrency.ts";
import { listCommitsSince } from "./git-commits.ts";
import { type HeadsLimits, lookupHeads } from "./git-heads.ts";
import { type MirrorContext, type MirrorStats, mirrorPath } from "./mirror.ts";
import type { Upstream } from "./types.ts";

/**
 * Transports allowed when neither the option nor the environment says otherwise. Local paths
 * (`file`) are left out so a tracking cannot make the service read repositories on its own disk;
 * tests and local demos pass `allowProtocols` (settings `GIT_ALLOW_PROTOCOL`) to include `file`.
 */
export const DEFAULT_ALLOWED_PROTOCOLS = "https:http:git:ssh";

export interface GitUpstreamOptions {
  /** Folder holding the mirrors (`GIT_BASE_PATH`); created when missing. */
  basePath: string;
  log: Logger;
  /** Milliseconds before one git command (ls-remote, fetch, format-patch) is killed. */
  timeoutMs: number;
  /**
   * Milliseconds before a head lookup (`ls-remote`) is killed; default `timeoutMs`. The engine
   * passes REQUEST_TIMEOUT: a lookup is one round trip, and an unreachable host must show fast.
   */
  lookupTimeoutMs?: number;
  /**
   * Colon-separated transports git may use (`GIT_ALLOW_PROTOCOL` syntax, e.g. `https:ssh`).
   * Default (settings `GIT_ALLOW_PROTOCOL` is passed here by the engine):
   * {@link DEFAULT_ALLOWED_PROTOCOLS}.
   */
  allowProtocols?: string;
  /** Proxy variables for git's HTTP transport (`gitProxyEnvironment`); none: direct. */
  proxyEnv?: Record<string, string>;
  /**
   * `fetch` for the in-process ref advertisements (the engine's, through the same proxies as
   * `proxyEnv`); default the global one.
   */
  fetch?: typeof fetch;
  /** Bounds of the head look-ups (`GIT_LOOKUP_CONCURRENCY`, `GIT_HOST_CONCURRENCY`). */
  headsLimits?: HeadsLimits;
}

export interface GitUpstream extends Upstream {
  readonly kind: "git";
  /** Counts of clones, fetches and ls-remotes since creation (for tests and diagnostics). */
  readonly stats: Readonly<MirrorStats>;
  /** The mirror directory `url` maps to (it may not exist yet). */
  mirrorPath(url: string): string;
}

const PROTOCOL_LIST = /^[a-z][a-z0-9+.-]*(:[a-z][a-z0-9+.-]*)*$/;

export function createGitUpstream(options: GitUpstreamOptions): GitUpstream {
  const allow = options.allowProtocols ?? DEFAULT_ALLOWED_PROTOCOLS;
  if (!PROTOCOL_LIST.test(allow)) {
    throw new Error(`allowed git protocols must be a colon-separated list, got "${allow}"`);
  }
  if (!(options.timeoutMs > 0)) {
    throw new Error(`git timeout must be positive, got ${options.timeoutMs}`);
  }
  // Absolute, because git's GIT_CEILING_DIRECTORIES (set from it) ignores relative paths.
  const basePath = resolve(options.basePath);
  const ctx: MirrorContext = {
    basePath,
    log: options.log,
    timeoutMs: options.timeoutMs,
    lookupTimeoutMs: Math.min(options.lookupTimeoutMs ?? options.timeoutMs, options.timeoutMs),
    // The proxy first, so nothing in it can loosen the transport policy.
    env: { ...options.proxyEnv, GIT_ALLOW_PROTOCOL: allow },
    fetch: options.fetch ?? fetch,
    stats: { clones: 0, fetches: 0, lsRemotes: 0, advertisements: 0 },
    locks: new KeyedMutex(),
  };
  return {
    kind: "git",
    stats: ctx.stats,
    heads: (refs) => lookupHeads(ctx, refs, options.headsLimits),
    commitsSince: (ref, base, head) => listCommitsSince(ctx, ref, base, head),
    mirrorPath: (url) => mirrorPath(basePath, url),
  };
}
