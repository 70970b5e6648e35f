/**
 * The apply check: does each proposed patch apply to the package's own sources? The package's
 * `%prep` is reproduced (sources/reproduce.ts), then each new commit's patch is tried on that
 * tree in order, cumulatively — commit k is tried after commits 1..k-1 that applied — the way a
 * packager would with GNU patch:
 *
 * - `applies` when it goes in (offset and fuzz noted; `%prep` itself allows no fuzz);
 * - `already applied` when it does not, but its reverse does cleanly: the change is in the
 *   sources already (the package was upgraded past it); such a commit gets no patch file;
 * - `conflict` with the files whose hunks fail;
 * - `not checked: <reason>` when the sources cannot be reproduced, a limit is hit, or the
 *   commit holds no text diff. A check never blocks a proposal.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Forge, RepoPath } from "../forge/types.ts";
import type { BlobCache } from "./sources/blob-cache.ts";
import { forgePackageFiles } from "./sources/forge-files.ts";
import { Deadline, NotCheckedError, type SourceLimits } from "./sources/limits.ts";
import type { PackageFiles } from "./sources/package-files.ts";
import { runPatch } from "./sources/patch-tool.ts";
import { reproducePrep } from "./sources/reproduce.ts";

export type Verdict =
  | { kind: "applies"; offset: boolean; fuzz: number }
  | { kind: "already applied" }
  | { kind: "conflict"; files: string[] }
  | { kind: "not checked"; reason: string };

export const ALREADY_APPLIED = "already applied";

export interface CheckedCommit {
  sha: string;
  /** The commit's patch; empty commits are not checked. */
  patch: Uint8Array;
}

export interface ApplyReport {
  /** The archive the commits were tried on (Source0's file), or null when none was reached. */
  archive: string | null;
  /** One verdict per commit, same order. */
  verdicts: Verdict[];
  /** Remarks about the reproduction (links left out, %prep shell lines not run). */
  notes: string[];
}

export interface ApplyCheckRequest {
  files: PackageFiles;
  specPath: string;
  commits: readonly CheckedCommit[];
  limits: SourceLimits;
  /** Parent of the private work folder (removed afterwards). */
  workRoot: string;
}

/** Fuzz a packager applying by hand accepts (GNU patch's default). */
const HAND_FUZZ = 2;

export async function checkCommits(request: ApplyCheckRequest): Promise<ApplyReport> {
  const deadline = new Deadline(request.limits.timeoutMs);
  const work = mkdtempSync(join(request.workRoot, "apply-check-"));
  try {
    let prepared: Awaited<ReturnType<typeof reproducePrep>>;
    try {
      prepared = await reproducePrep({
        files: request.files,
        specPath: request.specPath,
        work: join(work, "tree"),
        limits: request.limits,
        deadline,
      });
    } catch (error) {
      const reason = error instanceof NotCheckedError ? error.reason : describe(error);
      return {
        archive: null,
        verdicts: request.commits.map(() => ({ kind: "not checked", reason })),
        notes: [],
      };
    }
    const verdicts: Verdict[] = [];
    for (const commit of request.commits) {
      try {
        verdicts.push(
          await checkOne(
            prepared.buildDir,
            join(work, "tree", "scratch"),
            commit,
            prepared.strip,
            deadline,
          ),
        );
      } catch (error) {
        const reason = error instanceof NotCheckedError ? error.reason : describe(error);
        verdicts.push({ kind: "not checked", reason });
      }
    }
    return { archive: prepared.archive, verdicts, notes: prepared.notes };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function checkOne(
  dir: string,
  scratch: string,
  commit: CheckedCommit,
  strip: number,
  deadline: Deadline,
): Promise<Verdict> {
  deadline.check();
  if (commit.patch.length === 0) return { kind: "not checked", reason: "empty commit" };
  const forward = await runPatch(
    dir,
    scratch,
    commit.patch,
    { strip, fuzz: HAND_FUZZ, dryRun: true },
    deadline,
  );
  if (forward.output === "no unified or context diff in the patch") {
    return { kind: "not checked", reason: "no text diff (binary change only)" };
  }
  // Clean forward wins; otherwise a clean reverse means the change is there already.
  if (forward.ok && !forward.offset && forward.fuzz === 0) {
    await runPatch(dir, scratch, commit.patch, { strip, fuzz: 0 }, deadline);
    return { kind: "applies", offset: false, fuzz: 0 };
  }
  const reverse = await runPatch(
    dir,
    scratch,
    commit.patch,
    { strip, fuzz: 0, reverse: true, dryRun: true },
    deadline,
  );
  if (reverse.ok && reverse.fuzz === 0 && !reverse.offset) return { kind: "already applied" };
  if (forward.ok) {
    await runPatch(dir, scratch, commit.patch, { strip, fuzz: HAND_FUZZ }, deadline);
    return { kind: "applies", offset: forward.offset, fuzz: forward.fuzz };
  }
  const files = forward.failedFiles.length > 0 ? forward.failedFiles : forward.files;
  return { kind: "conflict", files: files.map((file) => stripped(file)) };
}

/** Paths as the upstream names them (patch reports them relative to the build folder). */
function stripped(file: string): string {
  return file.replace(/^\.\//, "");
}

function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return `check failed (${message.split("\n")[0]?.slice(0, 200) ?? ""})`;
}

/** The verdict as the commit table and the dry run show it. */
export function verdictText(verdict: Verdict): string {
  switch (verdict.kind) {
    case "applies": {
      const how = [verdict.offset ? "offset" : "", verdict.fuzz > 0 ? `fuzz ${verdict.fuzz}` : ""]
        .filter(Boolean)
        .join(", ");
      return how ? `applies with ${how}` : "applies";
    }
    case "already applied":
      return ALREADY_APPLIED;
    case "conflict":
      return `conflict (${listed(verdict.files)})`;
    case "not checked":
      return `not checked: ${verdict.reason}`;
  }
}

/** The kind of verdict `verdictText` wrote, or null for text it does not write. */
export function verdictKind(text: string | null | undefined): Verdict["kind"] | null {
  if (!text) return null;
  if (text === "applies" || text.startsWith("applies with ")) return "applies";
  if (text === ALREADY_APPLIED) return "already applied";
  if (text.startsWith("conflict (")) return "conflict";
  if (text.startsWith("not checked: ")) return "not checked";
  return null;
}

function listed(files: string[], most = 3): string {
  if (files.length === 0) return "no file named";
  const shown = files.slice(0, most).join(", ");
  return files.length > most ? `${shown} and ${files.length - most} more` : shown;
}

/**
 * The pull request's first line, e.g.
 * `Apply check: 3 of 4 apply to foo-1.2.tar.gz; 1 conflict (src/a.c)`.
 */
export function summaryLine(report: ApplyReport): string {
  const verdicts = report.verdicts;
  const applies = verdicts.filter((v) => v.kind === "applies").length;
  const conflicts = verdicts.filter(
    (v): v is Extract<Verdict, { kind: "conflict" }> => v.kind === "conflict",
  );
  const already = verdicts.filter((v) => v.kind === "already applied").length;
  const unchecked = verdicts.filter(
    (v): v is Extract<Verdict, { kind: "not checked" }> => v.kind === "not checked",
  );
  if (report.archive === null || unchecked.length === verdicts.length) {
    const reasons = [...new Set(unchecked.map((v) => v.reason))];
    return `Apply check: not checked: ${reasons.join("; ") || "no commits"}`;
  }
  const parts = [`${applies} of ${verdicts.length} apply to ${report.archive}`];
  if (conflicts.length > 0) {
    const files = [...new Set(conflicts.flatMap((v) => v.files))];
    parts.push(`${conflicts.length} conflict${conflicts.length > 1 ? "s" : ""} (${listed(files)})`);
  }
  if (already > 0) parts.push(`${already} already applied`);
  if (unchecked.length > 0) parts.push(`${unchecked.length} not checked`);
  return `Apply check: ${parts.join("; ")}`;
}

/** What the publish pipeline and the dry run need: check these commits of that package. */
export interface ApplyChecker {
  /**
   * `reads`: the view of the forge the caller already reads the package through (a run's or a
   * plan's, plan-reads.ts), so the check shares its listing and blobs; default the checker's own.
   */
  check(
    repo: RepoPath,
    branch: string,
    commits: readonly CheckedCommit[],
    reads?: Forge,
  ): Promise<ApplyReport>;
}

export interface ForgeApplyCheckerOptions {
  forge: Forge;
  /** Package file cache (GIT_BASE_PATH/source-cache, SOURCE_CACHE_MB). */
  cache: BlobCache;
  limits: SourceLimits;
  /** Private parent folder for the work trees (GIT_BASE_PATH/apply-check). */
  workRoot: string;
}

/** An apply checker reading the package through the forge (listing + blobs, cached). */
export function forgeApplyChecker(options: ForgeApplyCheckerOptions): ApplyChecker {
  return {
    async check(repo, branch, commits, reads) {
      mkdirSync(options.workRoot, { recursive: true, mode: 0o700 });
      const scratch = mkdtempSync(join(options.workRoot, "blobs-"));
      try {
        return await checkCommits({
          files: forgePackageFiles(reads ?? options.forge, repo, branch, options.cache, scratch),
          specPath: `${repo.name}.spec`,
          commits,
          limits: options.limits,
          workRoot: options.workRoot,
        });
      } finally {
        rmSync(scratch, { recursive: true, force: true });
      }
    },
  };
}
