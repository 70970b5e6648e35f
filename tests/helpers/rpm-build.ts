import { join } from "node:path";
import { PROJECT_ROOT, runCommand } from "./server-process.ts";

/**
 * `npm run rpm`'s script for packages that only serve a test: binary RPM only, payload left
 * uncompressed (zstd would take seconds). `args` adds rpm.ts options (--no-build, --release N,
 * --spec FILE); throws with the output when it fails.
 */
export async function buildTestRpm(outdir: string, ...args: string[]): Promise<void> {
  const built = await runCommand([
    process.execPath,
    join(PROJECT_ROOT, "scripts", "rpm.ts"),
    "--outdir",
    outdir,
    "--binary-only",
    "--payload",
    "w.ufdio",
    ...args,
  ]);
  if (built.code !== 0)
    throw new Error(`rpm.ts ${args.join(" ")} failed:\n${built.stdout}${built.stderr}`);
}
