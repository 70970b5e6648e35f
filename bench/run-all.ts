/**
 * `npm run bench`: runs each benchmark as a child process (scan cost, fleet plan cost, API throughput,
 * footprint, scale), passes `--quick` and other flags on, shows their output as it comes, reads the
 * `BENCH_RESULT` line each prints last, and ends with one table: target, measured, pass.
 * `--only scan-cost,footprint` runs a subset. Exit code 0 even when targets are missed (the
 * table says so); 1 when a bench could not run.
 */
import { join } from "node:path";
import { spawn } from "bun";
import {
  type BenchResult,
  flagValue,
  fmt,
  machine,
  passMark,
  RESULT_PREFIX,
  type ResultRow,
  table,
} from "./lib.ts";

const BENCHES = ["scan-cost", "plan-cost", "api-throughput", "footprint", "scale"];
const only = flagValue("--only")?.split(",");
const selected = BENCHES.filter((name) => !only || only.includes(name));
const passOn = process.argv.slice(2).filter((arg, i, all) => {
  if (arg === "--only") return false;
  return all[i - 1] !== "--only";
});

const results: BenchResult[] = [];
const failed: string[] = [];
const started = performance.now();
for (const name of selected) {
  const benchStarted = performance.now();
  console.log(`\n=== ${name} ${passOn.join(" ")}`.trimEnd());
  const proc = spawn([process.execPath, join(import.meta.dir, `${name}.ts`), ...passOn], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "inherit",
  });
  let text = "";
  const decoder = new TextDecoder();
  for await (const chunk of proc.stdout) {
    const piece = decoder.decode(chunk, { stream: true });
    text += piece;
    process.stdout.write(piece.replace(/^BENCH_RESULT .*\n?/gm, ""));
  }
  const code = await proc.exited;
  const line = text.split("\n").find((entry) => entry.startsWith(RESULT_PREFIX));
  if (code !== 0 || !line) {
    failed.push(`${name} (exit ${code})`);
    continue;
  }
  results.push(JSON.parse(line.slice(RESULT_PREFIX.length)) as BenchResult);
  console.log(`=== ${name}: ${fmt((performance.now() - benchStarted) / 1000, 0)} s`);
}

const rows: ResultRow[] = results.flatMap((result) => result.rows);
console.log(`\nAll benchmarks on ${machine()}, ${fmt((performance.now() - started) / 1000, 0)} s`);
console.log(
  table([
    ["measure", "target", "measured", "pass"],
    ...rows.map((row) => [row.name, row.target || "-", row.measured, passMark(row.pass)]),
  ]),
);
const judged = rows.filter((row) => row.pass !== null);
const passed = judged.filter((row) => row.pass).length;
console.log(`\ntargets: ${passed} passed, ${judged.length - passed} missed`);
if (failed.length > 0) {
  console.log(`benchmarks that did not finish: ${failed.join(", ")}`);
  process.exit(1);
}
