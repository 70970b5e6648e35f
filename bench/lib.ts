/**
 * Shared pieces of the benchmarks: command-line flags, the one JSON line each bench ends with
 * (collected by `run-all.ts`), tables, medians, RSS from /proc, throwaway git repositories and the
 * real server started as a child process with a settings file.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { arch, cpus } from "node:os";
import { join } from "node:path";
import type { Tracking } from "../src/db/trackings.ts";
import { git } from "../src/git.ts";
import { startGithubEmulator } from "../tests/emulators/github.ts";
import { freePort } from "../tests/helpers/net.ts";
import { createOriginalTables } from "../tests/helpers/original-database.ts";
import { type ServerProcess, startServerProcess } from "../tests/helpers/server-process.ts";
import { basicAuth, TEST_GITHUB_TOKEN, writeSettings } from "../tests/helpers/settings.ts";

export { packageSpec } from "../tests/helpers/world.ts";

export const ROOT = join(import.meta.dir, "..");
/** Prefix of the machine-readable line every bench prints last. */
export const RESULT_PREFIX = "BENCH_RESULT ";

export interface ResultRow {
  /** What is measured, e.g. "scan 10k github (a): rate-limited requests". */
  name: string;
  target: string;
  measured: string;
  /** null: informational, no target. */
  pass: boolean | null;
}

export interface BenchResult {
  bench: string;
  rows: ResultRow[];
  machine: string;
}

export const quick = process.argv.includes("--quick");

export function flagValue(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

/** A list of sizes from `--flag 1000,10000`, or `fallback` when the flag is absent. */
export function sizesFlag(name: string, fallback: string): number[] {
  return (flagValue(name) ?? fallback)
    .split(",")
    .map(Number)
    .filter((n) => n > 0);
}

/** 1000 → "1k", 10000 → "10k"; other numbers as they are (for row names). */
export function k(n: number): string {
  return n >= 1000 && n % 1000 === 0 ? `${n / 1000}k` : String(n);
}

/** The start-up token checks (`GET /user` on GitHub and Gitee), left out of per-scan counts. */
export const isTokenCheck = (path: string) => path === "/user" || path.endsWith("/api/v5/user");

export function machine(): string {
  return `${cpus().length} CPUs (${cpus()[0]?.model.trim() ?? "unknown"}), ${arch()}, Bun ${Bun.version}`;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function fmt(value: number, digits = 1): string {
  if (!Number.isFinite(value)) return String(value);
  return value.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

/** A plain text table; the first row is the header. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows)
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  const line = (row: readonly string[]) =>
    row
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  const [head, ...body] = rows;
  if (!head) return "";
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...body.map(line)].join("\n");
}

export function passMark(pass: boolean | null): string {
  return pass === null ? "-" : pass ? "PASS" : "MISS";
}

/** Prints the bench's own table, then the JSON line `run-all.ts` reads. */
export function report(bench: string, rows: ResultRow[]): void {
  console.log(`\n${bench} on ${machine()}`);
  console.log(
    table([
      ["measure", "target", "measured", "pass"],
      ...rows.map((row) => [row.name, row.target, row.measured, passMark(row.pass)]),
    ]),
  );
  const result: BenchResult = { bench, rows, machine: machine() };
  console.log(`${RESULT_PREFIX}${JSON.stringify(result)}`);
}

export function log(message: string): void {
  console.error(`[${new Date().toISOString().slice(11, 19)}] ${message}`);
}

/** Field of /proc/PID/status in kB (VmRSS, VmHWM), or NaN. */
export function procStatusKb(pid: number, field: "VmRSS" | "VmHWM"): number {
  try {
    const text = readFileSync(`/proc/${pid}/status`, "utf8");
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text);
    return match?.[1] ? Number(match[1]) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/**
 * CPU seconds (user + system) the process has used so far, or with `children` those of its
 * finished child processes (e.g. the emulators' git commands); NaN when it cannot be read.
 */
export function procCpuSeconds(pid: number, children = false): number {
  try {
    // Fields after the command name (which may hold spaces) start at "state"; utime and stime
    // are the 14th and 15th fields overall, cutime and cstime the 16th and 17th, in clock ticks
    // (100 per second on Linux).
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    const at = children ? 13 : 11;
    return (Number(fields[at]) + Number(fields[at + 1])) / 100;
  } catch {
    return Number.NaN;
  }
}

/** The 1-minute load average, to print beside every timing taken on a shared machine. */
export function loadAverage(): string {
  try {
    return readFileSync("/proc/loadavg", "utf8").split(" ")[0] ?? "?";
  } catch {
    return "?";
  }
}

/** Resets the process's peak RSS (VmHWM) to its current RSS (Linux ≥ 4.0). */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

export const mb = (kb: number) => kb / 1024;

/**
 * Samples the process's RSS every `everyMs` until `stop()`, which returns the samples (kB, with
 * their milliseconds since the start): where in a long scan the memory goes, not only its peak.
 */
export function sampleRss(pid: number, everyMs = 500): { stop(): Array<[number, number]> } {
  const started = performance.now();
  const samples: Array<[number, number]> = [];
  const take = () => samples.push([performance.now() - started, procStatusKb(pid, "VmRSS")]);
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      return samples;
    },
  };
}

const IDENTITY = {
  GIT_AUTHOR_NAME: "Bench Author",
  GIT_AUTHOR_EMAIL: "bench@example.com",
  GIT_COMMITTER_NAME: "Bench Author",
  GIT_COMMITTER_EMAIL: "bench@example.com",
};

/** A git repository with branch `main` and one commit; returns its head. */
export async function makeRepo(dir: string, label: string): Promise<string> {
  await git(["init", "-q", "-b", "main", "--", dir]);
  return addCommits(dir, 1, label);
}

/** `count` commits on `main`, each changing one C file; returns the new head. */
export async function addCommits(dir: string, count: number, label: string): Promise<string> {
  for (let i = 0; i < count; i++) {
    const file = join(dir, "src", "main.c");
    await Bun.write(file, `/* ${label} ${i} ${Date.now()} */\nint main(void) { return ${i}; }\n`);
    await git(["add", "-A"], { cwd: dir });
    await git(["commit", "-q", "-m", `${label}: change ${i + 1}\n\nBody of change ${i + 1}.`], {
      cwd: dir,
      env: IDENTITY,
    });
  }
  return (await git(["rev-parse", "HEAD"], { cwd: dir })).trim();
}

export interface RunningServer {
  process: ServerProcess;
  url: string;
  pid: number;
  config: string;
  /** Milliseconds from spawn to the "listening" line. */
  listeningMs: number;
  call(path: string, init?: RequestInit & { auth?: boolean; json?: unknown }): Promise<Response>;
  stop(): Promise<void>;
}

/** The service's summary of its last scan (`/tracking/status` → `scanner.lastScan`). */
export interface ScanSummary {
  startedAt: string;
  finishedAt: string;
  trackings: number;
  outcomes: Record<string, number>;
}

async function scannerState(
  server: RunningServer,
): Promise<{ scanning: boolean; lastScan: ScanSummary | null }> {
  // A repo filter that matches nothing: the scanner's state without a page of rows.
  const response = await server.call("/tracking/status?repo=bench%2Fnone");
  const body = (await response.json()) as {
    data: { scanner: { scanning: boolean; lastScan: ScanSummary | null } };
  };
  return body.data.scanner;
}

/** Waits until a scan started after `previous` (its startedAt) has finished. */
export async function waitForScan(
  server: RunningServer,
  previous: string | null,
  timeoutMs: number,
): Promise<ScanSummary> {
  const started = Date.now();
  for (;;) {
    const state = await scannerState(server);
    if (!state.scanning && state.lastScan && state.lastScan.startedAt !== previous) {
      return state.lastScan;
    }
    if (Date.now() - started > timeoutMs) throw new Error("scan did not finish in time");
    await Bun.sleep(100);
  }
}

/** Starts a scan through the API and waits for its summary. */
export async function triggerScan(server: RunningServer, timeoutMs: number): Promise<ScanSummary> {
  const before = (await scannerState(server)).lastScan?.startedAt ?? null;
  const response = await server.call("/tracking/scan", { method: "POST", auth: true });
  if (!response.ok) throw new Error(`POST /tracking/scan answered ${response.status}`);
  return waitForScan(server, before, timeoutMs);
}

/**
 * settings.conf for a benchmark server in `dir`: a free loopback port over plain HTTP, no
 * scheduled scan during the run (scans are triggered), warnings only in the log.
 */
export async function benchSettings(
  dir: string,
  extra: Record<string, string | number>,
): Promise<{ config: string; url: string }> {
  const port = await freePort();
  const config = writeSettings(dir, {
    LISTEN: `"127.0.0.1:${port}"`,
    PLAIN_HTTP: "True",
    SCAN_DB_INTERVAL: 86_400,
    LOG_LEVEL: '"warn"',
    ...extra,
  });
  return { config, url: `http://127.0.0.1:${port}` };
}

/**
 * `count` GitHub trackings `bench/u<i>` → `src-openeuler/p<i>`, all at the head of one upstream
 * repository served by a new GitHub emulator, written into `dir`/db.sqlite: the unchanged set the
 * API and footprint benchmarks load.
 */
export async function seedUnchangedGithub(
  dir: string,
  count: number,
  options: { latencyMs?: number } = {},
) {
  const upstreamDir = join(dir, "upstream");
  const head = await makeRepo(upstreamDir, "upstream");
  const github = startGithubEmulator({ token: TEST_GITHUB_TOKEN, latencyMs: options.latencyMs });
  const rows: BenchTracking[] = [];
  for (let i = 0; i < count; i++) {
    github.addRepo(`bench/u${i}`, upstreamDir);
    rows.push({
      version_control: "github",
      scm_repo: `bench/u${i}`,
      scm_branch: "main",
      scm_commit: head,
      repo: `src-openeuler/p${i}`,
      branch: "master",
      enabled: true,
    });
  }
  await seedDatabase(join(dir, "db.sqlite"), rows);
  return { github, rows };
}

/** The real service (`bun src/main.ts --config FILE`, or `command`) on a free loopback port. */
export async function startServer(
  dir: string,
  extra: Record<string, string | number>,
  command?: string[],
): Promise<RunningServer> {
  const { config } = await benchSettings(dir, extra);
  const started = performance.now();
  const proc = startServerProcess(["--config", config], command ? { command } : {});
  const url = await proc.ready;
  const listeningMs = performance.now() - started;
  const auth = basicAuth();
  return {
    process: proc,
    url,
    pid: proc.proc.pid,
    config,
    listeningMs,
    call(path, init = {}) {
      const headers = new Headers(init.headers);
      if (init.auth) headers.set("authorization", auth);
      let body = init.body;
      if (init.json !== undefined) {
        headers.set("content-type", "application/json");
        body = JSON.stringify(init.json);
      }
      return fetch(`${url}${path}`, { ...init, headers, body });
    },
    async stop() {
      await proc.stop("SIGTERM");
    },
  };
}

export type BenchTracking = Tracking;

/** Inserts rows straight into a (new) database file, in one transaction. */
export async function seedDatabase(path: string, rows: readonly BenchTracking[]): Promise<void> {
  const { openDatabase } = await import("../src/db/database.ts");
  const { upsertTracking } = await import("../src/db/trackings.ts");
  const db = openDatabase(path);
  db.transaction(() => {
    for (const row of rows) upsertTracking(db, row);
  })();
  db.close();
}

/**
 * A new database file exactly as the previous service left it: only its two tables, `id` never
 * set (NULL), rows in insertion order. Starting the service on it runs every migration.
 */
export async function seedOriginalDatabase(
  path: string,
  rows: readonly BenchTracking[],
): Promise<void> {
  const { Database } = await import("bun:sqlite");
  const db = new Database(path, { create: true });
  createOriginalTables(db);
  const insert = db.prepare("INSERT INTO tracking VALUES (NULL, ?, ?, ?, ?, ?, ?, ?)");
  db.transaction(() => {
    for (const row of rows) {
      insert.run(
        row.version_control,
        row.scm_repo,
        row.scm_branch,
        row.scm_commit ?? "",
        row.repo,
        row.branch,
        row.enabled ? 1 : 0,
      );
    }
  })();
  db.close();
}
