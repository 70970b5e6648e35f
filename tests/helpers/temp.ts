import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const made: string[] = [];
let registered = false;

/** Removes every directory {@link tempDir} has made so far. */
export function removeTempDirs(): void {
  for (const path of made.splice(0)) rmSync(path, { recursive: true, force: true });
}

/**
 * A fresh directory under the system temp folder, removed when the process exits, and under
 * `bun test` after the last test of the run (tests/setup.ts), as `bun test` skips exit hooks.
 * (An `afterAll` registered here would bind to whichever `describe` block first called this.)
 */
export function tempDir(prefix = "pt-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (!registered) {
    registered = true;
    process.on("exit", removeTempDirs);
  }
  made.push(dir);
  return dir;
}

/**
 * For folders of a few hundred MB (binaries, packages, scratch roots): `dir` makes one like
 * {@link tempDir}, and `remove` deletes those made so far. A test file registers `remove` in its
 * own top-level `afterAll`, so the space is freed when that file ends rather than after the run.
 */
export function bigTempDirs(): { dir(prefix: string): string; remove(): void } {
  const big: string[] = [];
  return {
    dir(prefix) {
      const dir = tempDir(prefix);
      big.push(dir);
      return dir;
    },
    remove() {
      for (const dir of big.splice(0)) rmSync(dir, { recursive: true, force: true });
    },
  };
}
