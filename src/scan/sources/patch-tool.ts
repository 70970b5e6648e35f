/**
 * Applying one patch to a folder with GNU patch, the tool `%prep` uses, and reading what it says
 * hunk by hunk (offset, fuzz, failures, missing files).
 *
 * Safety: the diff type is always named (`-u`, `-c` or `-n`), so patch never runs an ed script
 * (an `ed` diff is how GNU patch could run commands, CVE-2018-1000156); `-g 0` stops it from
 * checking files out of RCS/SCCS; rejects are discarded (`-r -`), no backups are written, and the
 * environment is emptied. GNU patch ≥ 2.7.5 also refuses to follow symbolic links out of the
 * folder it patches.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Deadline, NotCheckedError } from "./limits.ts";

export interface PatchOptions {
  strip: number;
  /** Fuzz factor; `%prep` uses rpm's `%_default_patch_fuzz` (0), a packager by hand patch's 2. */
  fuzz: number;
  reverse?: boolean;
  dryRun?: boolean;
}

export interface PatchOutcome {
  ok: boolean;
  /** Files the patch touches, as patch names them. */
  files: string[];
  /** Files with a failed hunk or that do not exist. */
  failedFiles: string[];
  /** Some hunk applied at an offset. */
  offset: boolean;
  /** Largest fuzz any hunk needed. */
  fuzz: number;
  output: string;
}

const textDecoder = new TextDecoder();

/** `-u`, `-c` or `-n` for this patch text; null when it holds none of those (e.g. only binary). */
export function diffType(patch: Uint8Array): "-u" | "-c" | "-n" | null {
  const text = textDecoder.decode(patch.subarray(0, Math.min(patch.length, 4 * 1024 * 1024)));
  if (/^@@ -\d/m.test(text)) return "-u";
  if (/^\*{15}/m.test(text)) return "-c";
  if (/^\d+(,\d+)?[acd]\d+(,\d+)?$/m.test(text) && /^[<>] /m.test(text)) return "-n";
  return null;
}

/** Decompresses a `.gz`, `.bz2` or `.xz` patch the way rpmuncompress would. */
export async function uncompressedPatch(bytes: Uint8Array): Promise<Uint8Array> {
  const tool =
    bytes[0] === 0x1f && bytes[1] === 0x8b
      ? "gzip"
      : bytes[0] === 0x42 && bytes[1] === 0x5a && bytes[2] === 0x68
        ? "bzip2"
        : bytes[0] === 0xfd && bytes[1] === 0x37 && bytes[2] === 0x7a
          ? "xz"
          : null;
  if (!tool) return bytes;
  const child = Bun.spawn([tool, "-dc"], { stdin: bytes, stdout: "pipe", stderr: "ignore" });
  const out = new Uint8Array(await new Response(child.stdout).arrayBuffer());
  if ((await child.exited) !== 0) throw new NotCheckedError(`a ${tool} patch cannot be read`);
  return out;
}

/** Applies (or with dryRun, tries) `patch` in `dir`. `scratch` is a folder outside `dir`. */
export async function runPatch(
  dir: string,
  scratch: string,
  patch: Uint8Array,
  options: PatchOptions,
  deadline: Deadline,
): Promise<PatchOutcome> {
  const type = diffType(patch);
  if (!type) {
    return {
      ok: false,
      files: [],
      failedFiles: [],
      offset: false,
      fuzz: 0,
      output: "no unified or context diff in the patch",
    };
  }
  const file = join(scratch, "check.patch");
  writeFileSync(file, patch);
  const args = [
    "patch",
    type,
    "-f",
    "-g",
    "0",
    "-r",
    "-",
    "--no-backup-if-mismatch",
    "--quoting-style=literal",
    `--fuzz=${options.fuzz}`,
    `-p${options.strip}`,
    "-d",
    dir,
    "-i",
    file,
  ];
  if (options.reverse) args.push("-R");
  if (options.dryRun) args.push("--dry-run");
  const child = Bun.spawn(args, {
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", LC_ALL: "C" },
  });
  const timer = setTimeout(() => child.kill(9), deadline.remainingMs());
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  clearTimeout(timer);
  deadline.check();
  return readOutput(`${stdout}\n${stderr}`, code === 0);
}

/** Reads GNU patch's report (`LC_ALL=C`). */
export function readOutput(output: string, ok: boolean): PatchOutcome {
  const files: string[] = [];
  const failed = new Set<string>();
  let current: string | null = null;
  let offset = false;
  let fuzz = 0;
  let missingNext = false;
  for (const line of output.split("\n")) {
    const named = /^(?:patching|checking) (?:file|symbolic link) (.+)$/.exec(line);
    if (named?.[1]) {
      current = named[1];
      files.push(current);
      continue;
    }
    if (/^can't find file to patch/.test(line)) {
      missingNext = true;
      continue;
    }
    // patch quotes the headers of a patch it cannot place, each line behind a "|"
    const header = /^\|(?:\+\+\+|---) (?:[ab]\/)?([^\t\n]+)/.exec(line);
    if (missingNext && header?.[1] && header[1] !== "/dev/null") {
      failed.add(header[1]);
      missingNext = false;
      continue;
    }
    if (/^No file to patch\.\s+Skipping/.test(line) && current === null) continue;
    if (/FAILED at \d+/.test(line) && current) failed.add(current);
    if (/\(offset -?\d+ lines?\)/.test(line)) offset = true;
    const withFuzz = /with fuzz (\d+)/.exec(line);
    if (withFuzz) fuzz = Math.max(fuzz, Number(withFuzz[1]));
    if (
      /^(?:The next patch would (?:create|delete) the file|File .* is not a regular file|Reversed \(or previously applied\))/.test(
        line,
      ) &&
      current
    ) {
      failed.add(current);
    }
  }
  return { ok, files, failedFiles: [...failed], offset, fuzz, output: output.trim() };
}
