/**
 * Reproduces a package's `%prep` in a private folder: unpacks the Source archives the
 * `%setup`/`%autosetup` steps name and applies the package's own patches the way `%prep` does
 * (GNU patch, rpm's default fuzz 0), in order. The result is the folder the build would run in,
 * on which new patches can be tried.
 */
import { copyFileSync, mkdirSync, statSync } from "node:fs";
import { join, normalize } from "node:path";
import { type ArchiveKind, archiveKind, unpackArchive } from "./archive.ts";
import { type Deadline, megabytes, NotCheckedError, type SourceLimits } from "./limits.ts";
import type { PackageEntry, PackageFiles } from "./package-files.ts";
import { runPatch, uncompressedPatch } from "./patch-tool.ts";
import { type PrepPlan, readPrepPlan, type SetupStep } from "./prep-plan.ts";

export interface PreparedSources {
  /** Absolute folder the build (and so every patch) works in. */
  buildDir: string;
  /** The Source0 archive's file name, for messages. */
  archive: string;
  /** Strip level new patches use (from how the package applies its own). */
  strip: number;
  /** How many of the package's own patches were applied. */
  applied: number;
  plan: PrepPlan;
  /** Things a maintainer may want to know (links left out, shell lines not reproduced). */
  notes: string[];
}

export interface ReproduceRequest {
  files: PackageFiles;
  /** `<repo-name>.spec` */
  specPath: string;
  /** A fresh private folder for this check. */
  work: string;
  limits: SourceLimits;
  deadline: Deadline;
}

/** Reproduces %prep; throws NotCheckedError with the reason when it cannot. */
export async function reproducePrep(request: ReproduceRequest): Promise<PreparedSources> {
  const { files, limits, deadline } = request;
  const entries = await files.list();
  deadline.check();
  const byName = new Map(entries.map((entry) => [entry.path, entry]));
  const specEntry = byName.get(request.specPath);
  if (!specEntry) throw new NotCheckedError(`no ${request.specPath} in the repository`);
  const spec = await Bun.file(await files.fetch(specEntry)).text();
  const plan = readPrepPlan(spec);
  if (plan.unsupported.length > 0) {
    throw new NotCheckedError(`unsupported %prep (${plan.unsupported[0]})`);
  }
  const setups = plan.steps.filter((step): step is SetupStep => step.kind === "setup");
  if (setups.length === 0) throw new NotCheckedError("%prep has no %setup or %autosetup");
  if (setups.length > 1) throw new NotCheckedError("unsupported %prep (more than one %setup)");

  const build = join(request.work, "BUILD");
  const scratch = join(request.work, "scratch");
  mkdirSync(build, { recursive: true });
  mkdirSync(scratch, { recursive: true });
  const notes: string[] = [];
  let dir = build;
  let archive = "";
  let applied = 0;
  const strips = new Set<number>();

  const unpackSource = async (number: number, into: string): Promise<string> => {
    const entry = sourceEntry(plan, number, entries, notes);
    const kind = archiveKind(entry.path) as ArchiveKind;
    if (entry.size !== null && entry.size > limits.maxArchiveBytes) {
      throw new NotCheckedError(
        `archive too large (${entry.path}, ${megabytes(entry.size)}; limit ${megabytes(limits.maxArchiveBytes)})`,
      );
    }
    const path = await files.fetch(entry);
    deadline.check();
    mkdirSync(into, { recursive: true });
    const result = await unpackArchive(path, kind, into, limits, deadline);
    if (result.skippedLinks.length > 0) {
      notes.push(
        `${result.skippedLinks.length} symbolic link(s) in ${entry.path} point outside it and were left out`,
      );
    }
    return entry.path;
  };

  const applyOwn = async (number: number, strip: number, fuzz: number, reverse = false) => {
    const name = plan.patches.get(number);
    if (name === undefined)
      throw new NotCheckedError(`%prep applies patch ${number}, which the spec does not declare`);
    const entry = name === null ? undefined : byName.get(name);
    if (!entry) {
      throw new NotCheckedError(`the package's patch ${name ?? number} is not in the repository`);
    }
    const bytes = await uncompressedPatch(
      new Uint8Array(await Bun.file(await files.fetch(entry)).arrayBuffer()),
    );
    const outcome = await runPatch(dir, scratch, bytes, { strip, fuzz, reverse }, deadline);
    if (!outcome.ok) {
      const where =
        outcome.failedFiles.length > 0 ? `: ${outcome.failedFiles.slice(0, 3).join(", ")}` : "";
      throw new NotCheckedError(`the package's own patch ${entry.path} does not apply${where}`);
    }
    strips.add(strip);
    applied++;
  };

  const declared = [...plan.patches.keys()].sort((a, b) => a - b);
  for (const step of plan.steps) {
    if (step.kind === "setup") {
      const target = normalize(join(build, step.dir));
      if (!target.startsWith(`${build}/`))
        throw new NotCheckedError(`%setup -n ${step.dir} leaves the build folder`);
      for (const number of step.before) await unpackSource(number, build);
      if (step.unpackMain) archive = await unpackSource(0, step.create ? target : build);
      else if (step.create) mkdirSync(target, { recursive: true });
      if (!isDirectory(target)) {
        throw new NotCheckedError(`${archive || "the archive"} does not unpack to ${step.dir}/`);
      }
      dir = target;
      for (const number of step.after) await unpackSource(number, dir);
      if (step.applyAll !== null) {
        for (const number of declared) await applyOwn(number, step.applyAll, 0);
      }
      continue;
    }
    if (step.kind === "copy") {
      const name = plan.sources.get(step.source);
      const entry = name ? byName.get(name) : undefined;
      if (!entry)
        throw new NotCheckedError(
          `%prep copies Source${step.source}, which is not in the repository`,
        );
      let target = normalize(join(dir, step.dest));
      if (!target.startsWith(`${build}/`))
        throw new NotCheckedError(`%prep copies a file outside the build folder`);
      if (isDirectory(target)) target = join(target, entry.path);
      copyFileSync(await files.fetch(entry), target);
      continue;
    }
    if (step.kind === "autopatch") {
      const numbers = step.list ?? declared.filter((n) => n >= step.min && n <= step.max);
      for (const number of numbers) await applyOwn(number, step.strip, 0);
      continue;
    }
    await applyOwn(step.number, step.strip, step.fuzz ?? 0, step.reverse);
  }
  if (plan.ignored.length > 0) {
    notes.push(
      `${plan.ignored.length} shell line(s) of %prep were not run (e.g. "${plan.ignored[0]}")`,
    );
  }
  const [only] = strips;
  return {
    buildDir: dir,
    archive,
    strip: strips.size === 1 && only !== undefined ? only : 1,
    applied,
    plan,
    notes,
  };
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The repository file holding Source `number`: the one named like the basename of the Source
 * tag. When macros hide the name, a repository with exactly one archive is taken at its word.
 */
function sourceEntry(
  plan: PrepPlan,
  number: number,
  entries: PackageEntry[],
  notes: string[],
): PackageEntry {
  const name = plan.sources.get(number);
  const tag = `Source${number}`;
  if (name === undefined) throw new NotCheckedError(`the spec has no ${tag}`);
  if (name !== null) {
    const entry = entries.find((candidate) => candidate.path === name);
    if (!entry) throw new NotCheckedError(`no archive found (${name} is not in the repository)`);
    if (!archiveKind(name)) throw new NotCheckedError(`unsupported archive type (${name})`);
    return entry;
  }
  const archives = entries.filter((entry) => archiveKind(entry.path) !== null);
  const only = archives[0];
  if (archives.length === 1 && only) {
    notes.push(
      `${tag}'s name uses macros this check does not expand; took ${only.path}, the only archive`,
    );
    return only;
  }
  throw new NotCheckedError(`${tag}'s file name uses macros this check does not expand`);
}
