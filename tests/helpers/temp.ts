import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const made: string[] = [];
let registered = false;

/**
 * A fresh directory under the system temp folder, removed when the test process exits. (An
 * `afterAll` registered here would bind to whichever `describe` block first called this.)
 */
export function tempDir(prefix = "pt-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (!registered) {
    registered = true;
    process.on("exit", () => {
      for (const path of made.splice(0)) rmSync(path, { recursive: true, force: true });
    });
  }
  made.push(dir);
  return dir;
}
