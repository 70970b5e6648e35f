/**
 * The `Upstream` interface: where new commits come from. The scanner depends only on this; the
 * `github` (REST/GraphQL API) and `git` (bare mirror) implementations live beside it.
 */
import type { VersionControl } from "../../db/trackings.ts";

/** An upstream branch: `scm_repo` and `scm_branch` of a tracking. */
export interface UpstreamRef {
  /** `owner/name` for GitHub, a git URL for git. */
  readonly repo: string;
  readonly branch: string;
}

/** A new upstream commit, ready to be proposed as one `.patch` file. */
export interface UpstreamCommit {
  /** Full commit sha. */
  readonly sha: string;
  /** ISO 8601 UTC (`2024-05-01T10:00:00Z`): author date for GitHub, committer date for git. */
  readonly date: string;
  /** The whole commit message. */
  readonly message: string;
  readonly authorName: string;
  readonly authorEmail: string;
  /** Parent shas; more than one for a merge (proposed as its first-parent diff). */
  readonly parents: readonly string[];
  /**
   * The patch in `git format-patch` form (From line, From:, Date:, Subject:, body, diffstat, diff),
   * as bytes, because messages and diffs need not be UTF-8.
   */
  readonly patch: Uint8Array;
  /** True when the commit changes no file; such a commit gets no `.patch` file. */
  readonly empty: boolean;
  /** Web page of the commit, when the upstream has one (GitHub). */
  readonly url: string | null;
}

/** The head of one branch, or why it could not be read. */
export type HeadResult = { readonly sha: string } | { readonly error: Error };

export interface Upstream {
  readonly kind: VersionControl;
  /**
   * Current heads of many branches, in the order given. Implementations batch and use
   * conditional requests so unchanged branches cost (almost) nothing.
   */
  heads(refs: readonly UpstreamRef[]): Promise<HeadResult[]>;
  /**
   * Commits on `ref`'s first-parent history after `base` (exclusive) up to `head` (inclusive),
   * oldest first, each with its patch. Throws `DivergedError` when `base` is not an ancestor of
   * `head`, and the typed errors of `src/errors.ts` for everything else.
   */
  commitsSince(ref: UpstreamRef, base: string, head: string): Promise<UpstreamCommit[]>;
}
