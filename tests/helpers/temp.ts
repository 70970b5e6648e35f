import { afterAll } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const made: string[] = [];

/** A fresh directory under the system temp folder, removed when the test file finishes. */
export function tempDir(prefix = "pt-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (made.length === 0) {
    afterAll(() => {
      for (const path of made.splice(0)) rmSync(path, { recursive: true, force: true });
    });
  }
  made.push(dir);
  return dir;
}
