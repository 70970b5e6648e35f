/**
 * `git patch-id --stable`: a hash of a change that ignores line numbers, whitespace and every
 * header (author, subject, file name of the patch), so the same fix back-ported by hand under
 * another name and message is recognised. A file holding several patches gives several ids.
 */
import { git } from "../../git.ts";

export async function patchIds(patch: Uint8Array | string): Promise<string[]> {
  // patch-id needs no repository: it only reads the diff on stdin.
  const out = await git(["patch-id", "--stable"], { input: patch, timeoutMs: 60_000 });
  return out
    .split("\n")
    .map((line) => line.split(" ")[0] ?? "")
    .filter((id) => /^[0-9a-f]{40,64}$/.test(id));
}
