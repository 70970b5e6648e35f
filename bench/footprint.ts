/**
 * Footprint of the service with 10,000 trackings in its database:
 *
 * - start-up: from spawning the process to the first answered `GET /health` (polled every few
 *   milliseconds), median of several fresh starts, for `bun src/main.ts` and the compiled binary;
 * - idle RSS (VmRSS from /proc) once the boot scan is over and the process has settled;
 * - `patch-tracking-cli query` wall time, compiled and under Bun (hyperfine when installed, else
 *   a median of timed runs): listing all 10,000 rows, and one row by `--repo/--branch`;
 * - installed size: the compiled binary, and the RPM when `dist/` holds one.
 *
 * The compiled binary is `dist/patch-tracking` when present (`npm run build`), else it is built
 * into a temporary folder first (`--no-build` skips that and the binary's rows).
 *
 * Usage: `bun bench/footprint.ts [--quick] [--rows N] [--no-build]`
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { spawn, spawnSync } from "bun";
import { tempDir } from "../tests/helpers/temp.ts";
import {
  benchSettings,
  flagValue,
  fmt,
  log,
  mb,
  median,
  procStatusKb,
  quick,
  type ResultRow,
  ROOT,
  report,
  seedUnchangedGithub,
  startServer,
  table,
} from "./lib.ts";

const ROWS = Number(flagValue("--rows") ?? 10_000);
const STARTS = quick ? 3 : 7;
const CLI_RUNS = quick ? 5 : 15;
const BUN = process.execPath;

const dir = tempDir("pt-bench-footprint-");
const { github } = await seedUnchangedGithub(dir, ROWS);

/** The compiled multi-call binary: dist/, else a fresh build in a temporary folder. */
function compiledBinary(): string | null {
  if (process.argv.includes("--no-build")) return null;
  const dist = join(ROOT, "dist", "patch-tracking");
  if (existsSync(dist)) return dist;
  const outdir = tempDir("pt-bench-build-");
  log(`building the binary into ${outdir}`);
  const result = spawnSync([BUN, join(ROOT, "scripts", "build.ts"), "--outdir", outdir], {
    cwd: ROOT,
    stdout: "ignore",
    stderr: "inherit",
  });
  return result.exitCode === 0 ? join(outdir, "patch-tracking") : null;
}

interface StartMeasure {
  startMs: number;
  idleRssKb: number;
}

/** One fresh start: ms to the first 200 from /health, then idle RSS after the boot scan. */
async function startOnce(command: string[], measureIdle: boolean): Promise<StartMeasure> {
  const { config, url } = await benchSettings(dir, { GITHUB_API_URL: `"${github.url}"` });
  const started = performance.now();
  const proc = spawn([...command, "--config", config], {
    cwd: ROOT,
    stdin: "ignore",
    stdout: "ignore",
    stderr: "ignore",
  });
  let startMs = Number.NaN;
  try {
    while (performance.now() - started < 20_000) {
      try {
        const response = await fetch(`${url}/health`);
        if (response.status === 200) {
          startMs = performance.now() - started;
          break;
        }
      } catch {
        // not listening yet
      }
      if (proc.exitCode !== null) throw new Error(`${command.join(" ")} exited early`);
      await Bun.sleep(2);
    }
    let idleRssKb = Number.NaN;
    if (measureIdle) {
      for (let i = 0; i < 300; i++) {
        const body = (await (await fetch(`${url}/tracking/status?repo=bench%2Fnone`)).json()) as {
          data: { scanner: { scanning: boolean; lastScan: unknown } };
        };
        if (!body.data.scanner.scanning && body.data.scanner.lastScan) break;
        await Bun.sleep(100);
      }
      await Bun.sleep(3000);
      idleRssKb = procStatusKb(proc.pid, "VmRSS");
    }
    return { startMs, idleRssKb };
  } finally {
    proc.kill("SIGTERM");
    await proc.exited;
  }
}

async function measureServer(label: string, command: string[]) {
  log(`start-up: ${label}, ${STARTS} starts`);
  const starts: number[] = [];
  let idleRssKb = Number.NaN;
  for (let i = 0; i < STARTS; i++) {
    const last = i === STARTS - 1;
    const measure = await startOnce(command, last);
    starts.push(measure.startMs);
    if (last) idleRssKb = measure.idleRssKb;
  }
  return { label, startMs: median(starts), minMs: Math.min(...starts), idleRssKb };
}

/** Median wall milliseconds of `command` (hyperfine when installed). */
function timeCommand(command: string[]): number {
  const hyperfine = spawnSync(["sh", "-c", "command -v hyperfine"]).exitCode === 0;
  if (hyperfine) {
    const out = join(tempDir("pt-bench-hf-"), "result.json");
    const quoted = command.map((part) => `'${part.replaceAll("'", "'\\''")}'`).join(" ");
    const result = spawnSync(
      [
        "hyperfine",
        "--warmup",
        "2",
        "--runs",
        String(CLI_RUNS),
        "--export-json",
        out,
        "--style",
        "none",
        "--output",
        "null",
        quoted,
      ],
      { stdout: "ignore", stderr: "inherit" },
    );
    if (result.exitCode === 0) {
      const data = JSON.parse(readFileSync(out, "utf8")) as {
        results: Array<{ median: number; exit_codes: number[] }>;
      };
      const first = data.results[0];
      if (first?.exit_codes.every((code) => code === 0)) return first.median * 1000;
      throw new Error(`${command.join(" ")} failed`);
    }
  }
  const times: number[] = [];
  for (let i = 0; i < CLI_RUNS + 2; i++) {
    const started = performance.now();
    const result = spawnSync(command, { stdout: "ignore", stderr: "ignore" });
    if (result.exitCode !== 0) throw new Error(`${command.join(" ")} failed`);
    if (i >= 2) times.push(performance.now() - started);
  }
  return median(times);
}

const binary = compiledBinary();
const servers = [await measureServer("bun src/main.ts", [BUN, join(ROOT, "src", "main.ts")])];
if (binary) servers.push(await measureServer("compiled binary", [binary]));

// One long-running server answers the CLI queries.
const server = await startServer(dir, { GITHUB_API_URL: `"${github.url}"` });
const clis: Array<{ label: string; command: string[] }> = [];
if (binary) clis.push({ label: "compiled", command: [join(binary, "..", "patch-tracking-cli")] });
clis.push({ label: "bun", command: [BUN, join(ROOT, "cli", "patch-tracking-cli.ts")] });
const cliTimes: Array<{ label: string; allMs: number; oneMs: number }> = [];
try {
  for (const cli of clis) {
    log(`CLI query: ${cli.label}`);
    const all = [...cli.command, "query", "--server", server.url, "--table", "tracking"];
    const one = [...all, "--repo", "src-openeuler/p5000", "--branch", "master"];
    cliTimes.push({ label: cli.label, allMs: timeCommand(all), oneMs: timeCommand(one) });
  }
} finally {
  await server.stop();
  await github.stop();
}

const binarySize = binary ? statSync(binary).size : Number.NaN;
const rpms = existsSync(join(ROOT, "dist"))
  ? readdirSync(join(ROOT, "dist")).filter((name) => /\.(?!src\.)[^.]+\.rpm$/.test(name))
  : [];
const rpmSize = rpms[0] ? statSync(join(ROOT, "dist", rpms[0])).size : Number.NaN;

console.log(`\nFootprint, ${ROWS} rows`);
console.log(
  table([
    ["server", "start → /health ms (median)", "fastest ms", "idle RSS MB"],
    ...servers.map((s) => [s.label, fmt(s.startMs, 0), fmt(s.minMs, 0), fmt(mb(s.idleRssKb), 1)]),
  ]),
);
console.log(
  table([
    ["CLI", `query all ${ROWS} rows ms`, "query one row ms"],
    ...cliTimes.map((c) => [c.label, fmt(c.allMs, 0), fmt(c.oneMs, 0)]),
  ]),
);

// Targets are judged on the compiled binary, which is what the RPM installs; the rows for
// `bun` (development from source) are printed for comparison only.
const judged = (label: string) => label !== "bun" && !label.startsWith("bun ");
const resultRows: ResultRow[] = [];
for (const s of servers) {
  resultRows.push({
    name: `footprint idle RSS, ${s.label}`,
    target: judged(s.label) ? "< 100 MB" : "",
    measured: `${fmt(mb(s.idleRssKb), 1)} MB`,
    pass: judged(s.label) ? mb(s.idleRssKb) < 100 : null,
  });
  resultRows.push({
    name: `footprint start → first /health, ${s.label}`,
    target: judged(s.label) ? "< 300 ms" : "",
    measured: `${fmt(s.startMs, 0)} ms (median of ${STARTS})`,
    pass: judged(s.label) ? s.startMs < 300 : null,
  });
}
for (const c of cliTimes) {
  resultRows.push({
    name: `footprint CLI query one row, ${c.label}`,
    target: judged(c.label) ? "< 100 ms" : "",
    measured: `${fmt(c.oneMs, 0)} ms`,
    pass: judged(c.label) ? c.oneMs < 100 : null,
  });
  resultRows.push({
    name: `footprint CLI query all ${ROWS} rows, ${c.label}`,
    target: judged(c.label) ? "< 100 ms" : "",
    measured: `${fmt(c.allMs, 0)} ms`,
    pass: judged(c.label) ? c.allMs < 100 : null,
  });
}
resultRows.push({
  name: "footprint installed size",
  target: "",
  measured: [
    binary ? `binary ${fmt(binarySize / 1e6, 1)} MB` : "no binary",
    rpms[0] ? `RPM ${rpms[0]} ${fmt(rpmSize / 1e6, 1)} MB` : "no RPM in dist/",
  ].join(", "),
  pass: null,
});
report("footprint", resultRows);
process.exit(0);
