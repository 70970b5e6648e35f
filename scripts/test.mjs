// The whole test suite, as `npm test` runs it: setup, typecheck, lint/format, then `bun test`.
// Ends with one summary line "tests: N passed, N failed" taken from Bun's own summary.
import { spawn, spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureDebianTools, ensureNodeModules } from "./ensure-deps.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => join(root, "node_modules", ".bin", name);

ensureNodeModules();
ensureDebianTools();

function step(title, command, args) {
  process.stderr.write(`\n== ${title}\n`);
  const result = spawnSync(command, args, { cwd: root, stdio: "inherit" });
  return result.status ?? 1;
}

const extra = process.argv.slice(2);
let failed = 0;
failed += step("typecheck (tsc --noEmit)", bin("tsc"), ["--noEmit", "-p", "."]) === 0 ? 0 : 1;
failed += step("lint and format (biome check)", bin("biome"), ["check", "."]) === 0 ? 0 : 1;

process.stderr.write("\n== bun test\n");
// Bun writes its report to stderr: stream it through as it comes, and keep it to read the totals.
const report = await new Promise((resolve) => {
  const child = spawn(bin("bun"), ["test", "--timeout", "60000", ...extra], {
    cwd: root,
    stdio: ["inherit", "inherit", "pipe"],
  });
  let text = "";
  child.stderr.on("data", (chunk) => {
    process.stderr.write(chunk);
    text += chunk.toString("utf8");
    if (text.length > 4_000_000) text = text.slice(-1_000_000);
  });
  child.on("close", (status) => resolve({ status, text }));
});
const passed = Number(/^\s*(\d+) pass$/m.exec(report.text)?.[1] ?? 0);
const failing = Number(/^\s*(\d+) fail$/m.exec(report.text)?.[1] ?? 0);
if (report.status !== 0) failed += 1;

console.log(`\ntests: ${passed} passed, ${failing} failed`);
if (failed > 0) {
  console.log(`checks failed: ${failed} step(s) did not pass`);
  process.exit(1);
}
