/**
 * "Already carried": before a commit is proposed, its change is compared with the patches the
 * package already carries on the tracked branch — the files its spec's Patch lines name — by
 * `git patch-id --stable`. A match gets no patch file and no Patch line; the issue names the file.
 *
 * Costs: the spec and one listing of the repository's root (blob shas) per scan with new commits;
 * each carried file is read once per content, its ids cached by blob sha in the database.
 */
import type { Database } from "bun:sqlite";
import { cachedPatchIds, cachePatchIds } from "../../db/carried.ts";
import type { Forge, ForgeFile, RepoPath } from "../../forge/types.ts";
import type { Logger } from "../../log.ts";
import { readPrepPlan } from "../sources/prep-plan.ts";
import { parseSpecModel } from "../spec-lines.ts";
import { patchDeclarations } from "../spec-patches.ts";
import { preambleTags } from "../spec-tags.ts";
import { patchIds } from "./patch-id.ts";

export interface CarriedDeps {
  db: Database;
  forge: Forge;
  log?: Logger;
  /** False for the dry run: compute, but write nothing (not even the cache). Default true. */
  remember?: boolean;
}

/**
 * The patch files a spec declares (Patch tags and %patchlist entries). A name with macros
 * (`%{name}-fix-crash.patch`) is expanded by the apply check's expander, which knows the spec's
 * %global/%define and tags and never runs anything (`%(...)` is refused); one it cannot expand
 * is left out. Names without macros are kept as written, in every %if branch.
 */
export function declaredPatchFiles(spec: string): string[] {
  const model = parseSpecModel(spec);
  const written = patchDeclarations(model, preambleTags(model))
    .map((declaration) => declaration.file)
    .filter((file) => !file.includes("%"));
  const expanded = [...readPrepPlan(spec).patches.values()].filter(
    (file): file is string => file !== null && !file.includes("%"),
  );
  return [...new Set([...written, ...expanded])];
}

/**
 * Maps each commit whose change the package already carries to the carried file's name.
 * Commits without a patch (empty) are never carried.
 */
export async function findCarried(
  deps: CarriedDeps,
  repo: RepoPath,
  branch: string,
  commits: readonly { sha: string; empty: boolean; patch: Uint8Array }[],
  /** The tracked spec when the caller shares one read of it (proposal/tracked-spec.ts). */
  readSpec: () => Promise<ForgeFile | null> = () =>
    deps.forge.readFile(repo, branch, `${repo.name}.spec`),
): Promise<Map<string, string>> {
  const carried = new Map<string, string>();
  const candidates = commits.filter((commit) => !commit.empty && commit.patch.length > 0);
  if (candidates.length === 0) return carried;
  const spec = await readSpec();
  if (!spec) return carried;
  const declared = declaredPatchFiles(new TextDecoder().decode(spec.content));
  if (declared.length === 0) return carried;

  const fileOf = new Map<string, string>();
  const root = new Map(
    (await deps.forge.listFiles(repo, branch)).map((entry) => [entry.path, entry.sha]),
  );
  for (const file of declared) {
    const ids = await carriedIds(deps, repo, branch, file, root.get(file));
    for (const id of ids) if (!fileOf.has(id)) fileOf.set(id, file);
  }
  if (fileOf.size === 0) return carried;
  for (const commit of candidates) {
    const [id] = await patchIds(commit.patch);
    const file = id ? fileOf.get(id) : undefined;
    if (file) carried.set(commit.sha, file);
  }
  return carried;
}

/** The patch ids of one carried file, from the cache when its blob sha is known there. */
async function carriedIds(
  deps: CarriedDeps,
  repo: RepoPath,
  branch: string,
  file: string,
  blobSha: string | undefined,
): Promise<string[]> {
  if (blobSha) {
    const cached = cachedPatchIds(deps.db, blobSha);
    if (cached) return cached;
  }
  // A file in a sub-folder is not in the root listing: read it (its sha then keys the cache).
  const read = await deps.forge.readFile(repo, branch, file);
  if (!read) {
    deps.log?.debug("declared patch file missing", { file });
    return [];
  }
  const cached = cachedPatchIds(deps.db, read.sha);
  if (cached) return cached;
  const ids = await patchIds(read.content);
  if (deps.remember !== false) cachePatchIds(deps.db, read.sha, ids);
  return ids;
}
