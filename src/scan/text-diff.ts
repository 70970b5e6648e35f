/** A unified diff of two texts, as `git diff` prints it (used to show planned spec changes). */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GitError, runGit } from "../git.ts";

export async function unifiedDiff(name: string, before: string, after: string): Promise<string> {
  if (before === after) return "";
  const dir = await mkdtemp(join(tmpdir(), "pt-diff-"));
  try {
    const safeName = name.replace(/[^A-Za-z0-9._+-]/g, "_");
    await mkdir(join(dir, "a"));
    await mkdir(join(dir, "b"));
    await writeFile(join(dir, "a", safeName), before);
    await writeFile(join(dir, "b", safeName), after);
    const args = [
      "diff",
      "--no-index",
      "--no-color",
      "--no-prefix",
      `a/${safeName}`,
      `b/${safeName}`,
    ];
    const result = await runGit(args, { cwd: dir, timeoutMs: 30_000 });
    // `git diff --no-index` exits 1 when the files differ.
    if (result.code !== 1) throw new GitError(args, result.code, result.stderr);
    return new TextDecoder()
      .decode(result.stdout)
      .replaceAll(`a/${safeName}`, name)
      .replaceAll(`b/${safeName}`, name);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
