/**
 * `npm run build`: compiles the service and both commands into ONE executable with
 * `bun build --compile`, `dist/patch-tracking`, plus the links `dist/patch-tracking-cli` and
 * `dist/generate_password`; the binary picks the command by the name it was started as. The man
 * pages (`dist/man/`) and the bash completion (`dist/completion/`) are generated beside it.
 *
 * Why one binary: every Bun executable embeds the whole runtime. Measured with Bun 1.4.5 on
 * x86_64, three separate binaries take 110.2 + 109.6 + 109.3 MB = 329 MB; the multi-call binary
 * takes 110.6 MB (115.6 MB with bytecode), so installing it saves over 200 MB. Symbolic links
 * keep the started name in argv[0] (checked: hard links do too), and are what the RPM installs.
 *
 * Never strip the output: the JavaScript is appended to the executable and `strip` cuts it off.
 *
 * Options: `--outdir DIR` (default dist), `--target bun-linux-arm64` (or another Bun target) to
 * build for another machine.
 */

import { mkdirSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { spawnSync } from "bun";
import { COMMANDS } from "../cli/command-name.ts";
import { documentation } from "./man-pages.ts";

const root = join(import.meta.dir, "..");
const ENTRY = join(root, "cli", "multicall.ts");
const BINARY = "patch-tracking";
/** The other names the multicall entry answers to. */
const LINKS = COMMANDS.filter((name) => name !== BINARY);

const { values } = parseArgs({
  options: { outdir: { type: "string", default: "dist" }, target: { type: "string" } },
});
const outdir = resolve(root, values.outdir ?? "dist");
mkdirSync(outdir, { recursive: true });

// Build beside the result and rename, so a failed build never leaves half a binary behind.
const partial = join(outdir, `.${BINARY}.partial`);
// --bytecode stores the parsed JavaScript, roughly halving start-up (patch-tracking-cli --version:
// ~130 ms → ~70 ms) for ~5 MB; it rules out top-level await in the entry modules.
// Identifiers are not minified, so class and function names in errors and logs stay readable.
const command = [
  process.execPath,
  "build",
  "--compile",
  "--bytecode",
  "--minify-syntax",
  "--minify-whitespace",
  ENTRY,
  "--outfile",
  partial,
];
if (values.target) command.push("--target", values.target);
const started = performance.now();
const result = spawnSync(command, { cwd: root, stdout: "inherit", stderr: "inherit" });
if (result.exitCode !== 0) {
  rmSync(partial, { force: true });
  console.error(`build: bun build --compile failed with exit code ${result.exitCode}`);
  process.exit(1);
}
const binary = join(outdir, BINARY);
renameSync(partial, binary);
for (const name of LINKS) {
  const link = join(outdir, name);
  rmSync(link, { force: true });
  symlinkSync(BINARY, link);
}

// Man pages and bash completion from the same command definitions the binary parses with.
const docs = await documentation();
const manDir = join(outdir, "man");
const completionDir = join(outdir, "completion");
mkdirSync(manDir, { recursive: true });
mkdirSync(completionDir, { recursive: true });
for (const page of docs.pages) writeFileSync(join(manDir, page.file), page.text);
writeFileSync(join(completionDir, "patch-tracking-cli"), docs.completion);

const megabytes = (statSync(binary).size / 1e6).toFixed(1);
const seconds = ((performance.now() - started) / 1000).toFixed(1);
const shown = relative(process.cwd(), binary) || binary;
console.log(`build: wrote ${shown} (${megabytes} MB, ${seconds} s)`);
console.log(
  `build: wrote ${docs.pages.map((page) => join(relative(process.cwd(), manDir) || ".", page.file)).join(", ")} and ${join(relative(process.cwd(), completionDir) || ".", "patch-tracking-cli")}`,
);
for (const name of LINKS)
  console.log(`build: linked ${join(relative(process.cwd(), outdir) || ".", name)} -> ${BINARY}`);
