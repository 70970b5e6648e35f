/**
 * Runs rpm's own parser (`rpmspec -P`) on a spec text, so tests and scripts/check-specs.ts judge
 * edited specs by what rpm says rather than by what the editor believes.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { tempDir } from "./temp.ts";

/** The shared spec corpus (`../shared/corpus` next to the project root). */
export const CORPUS_DIR = join(import.meta.dir, "..", "..", "..", "shared", "corpus");
/** Stand-in for openEuler's %package_help, which Debian's rpm lacks. */
export const OPENEULER_MACROS = join(CORPUS_DIR, "macros.openeuler");

export interface RpmspecResult {
  /** rpmspec exited with 0 (what "the spec parses" means here). */
  ok: boolean;
  exitCode: number;
  /** The parsed spec with macros expanded. */
  stdout: string;
  stderr: string;
  /** `error:` lines; rpm 4.18 reports some (e.g. %changelog order) without failing. */
  errors: string[];
  /** `%_sourcedir` of this run, where `sources` were created. */
  sourceDir: string;
}

export interface RpmspecOptions {
  /** Extra macro files for `--load` (e.g. OPENEULER_MACROS). */
  load?: string[];
  /**
   * File names to create in the run's `%_sourcedir` (a short placeholder text each): %autosetup
   * and %autopatch only expand to apply commands for patch files they can read, and %patch
   * rejects files under 13 bytes.
   */
  sources?: string[];
}

let work: string | null = null;
let counter = 0;

function workDir(): string {
  work ??= tempDir("pt-rpmspec-");
  return work;
}

function rpmspecBinary(): string {
  const path = Bun.which("rpmspec");
  if (!path) {
    throw new Error(
      "rpmspec is not installed; install the Debian package `rpm` (apt-get install -y rpm)",
    );
  }
  return path;
}

/** Parses `text` with `rpmspec -P` and reports rpm's verdict. Throws when rpmspec is missing. */
export function rpmspecParse(text: string, options: RpmspecOptions = {}): RpmspecResult {
  const binary = rpmspecBinary();
  const run = join(workDir(), `run-${counter++}`);
  const sourceDir = join(run, "SOURCES");
  mkdirSync(sourceDir, { recursive: true });
  for (const name of options.sources ?? []) {
    writeFileSync(join(sourceDir, basename(name)), "placeholder for rpmspec -P\n");
  }
  const file = join(run, "test.spec");
  writeFileSync(file, text);
  const args = [binary, "--define", `_sourcedir ${sourceDir}`, "--define", `_topdir ${run}`];
  for (const macros of options.load ?? []) args.push("--load", macros);
  args.push("-P", file);
  const result = Bun.spawnSync(args, { stdout: "pipe", stderr: "pipe" });
  rmSync(run, { recursive: true, force: true });
  const stderr = result.stderr.toString();
  return {
    ok: result.exitCode === 0,
    exitCode: result.exitCode ?? -1,
    stdout: result.stdout.toString(),
    stderr,
    errors: stderr.split("\n").filter((line) => line.startsWith("error:")),
    sourceDir,
  };
}

/**
 * Where rpm's expanded %prep applies `file` (offset into stdout), or -1. %patch expands to
 * `patch ... < FILE` (or `rpmuncompress FILE | patch` for compressed files), %autosetup and
 * %autopatch to `rpmuncompress FILE | patch` or `... | git apply`: in every case a command line
 * naming the file in the source directory, which an `echo` line is not.
 */
export function applyOffset(result: RpmspecResult, file: string): number {
  const path = join(result.sourceDir, file);
  let offset = 0;
  for (const line of result.stdout.split("\n")) {
    const named = line.endsWith(path) || line.includes(`${path} `);
    if (named && !/^\s*echo\b/.test(line)) return offset;
    offset += line.length + 1;
  }
  return -1;
}

/** Whether rpm's expanded %prep applies `file`. */
export function appliesPatch(result: RpmspecResult, file: string): boolean {
  return applyOffset(result, file) >= 0;
}
