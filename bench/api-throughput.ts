/**
 * API throughput: wrk (one thread) against the real service (`bun src/main.ts`) over
 * plain HTTP on 127.0.0.1, with 10,000 trackings in its database, for each of
 *
 * - GET one row by repo + branch,
 * - GET all rows,
 * - authenticated POST upsert of one row (with `scm_commit`, so no scan is started).
 *
 * The POST's cost is bounded by password verification unless successful verifications are
 * cached. The uncached ceiling is measured in the same run: N direct calls of the service's own
 * verifier on the configured hash (werkzeug pbkdf2:sha256, 150,000 iterations), one at a time
 * and as many at once as there are CPUs; the cached POST rate is printed as a multiple of it.
 *
 * Usage: `bun bench/api-throughput.ts [--quick] [--duration S] [--connections N] [--rows N]`
 */

import { writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { spawn } from "bun";
import { verifyPassword } from "../src/password/verify.ts";
import { basicAuth, TEST_PASSWORD, TEST_PASSWORD_HASH } from "../tests/helpers/settings.ts";
import { tempDir } from "../tests/helpers/temp.ts";
import {
  flagValue,
  fmt,
  log,
  median,
  quick,
  type ResultRow,
  report,
  seedUnchangedGithub,
  startServer,
  table,
} from "./lib.ts";

const DURATION_S = Number(flagValue("--duration") ?? (quick ? 3 : 10));
const CONNECTIONS = Number(flagValue("--connections") ?? 50);
const ROWS = Number(flagValue("--rows") ?? 10_000);

interface LoadResult {
  name: string;
  connections: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

/** `12.5us`, `4.20ms`, `1.01s` (wrk's latency units) in milliseconds. */
function wrkMs(value: string, unit: string): number {
  const factor = unit === "us" ? 0.001 : unit === "s" ? 1000 : 1;
  return Number(value) * factor;
}

/**
 * Runs wrk (one thread, so the server keeps the other CPUs) for DURATION_S seconds and parses
 * its summary; a POST body and headers go through a generated Lua script.
 */
async function load(
  name: string,
  options: {
    url: string;
    connections?: number;
    method?: string;
    headers?: Record<string, string>;
    body?: string;
  },
): Promise<LoadResult> {
  const connections = options.connections ?? CONNECTIONS;
  log(`load: ${name}, ${connections} connections, ${DURATION_S} s`);
  const args = ["wrk", "-t1", `-c${connections}`, `-d${DURATION_S}s`, "--latency"];
  if (options.method && options.method !== "GET") {
    const lua = [
      `wrk.method = "${options.method}"`,
      `wrk.body = [==[${options.body ?? ""}]==]`,
      ...Object.entries(options.headers ?? {}).map(
        ([key, value]) => `wrk.headers["${key}"] = [==[${value}]==]`,
      ),
    ].join("\n");
    const script = join(dir, "request.lua");
    writeFileSync(script, `${lua}\n`);
    args.push("-s", script);
  }
  args.push(options.url);
  // Asynchronously: a blocked event loop here would stop draining the server's log pipe, and the
  // server would stall on its own log lines.
  const run = spawn(args, { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(run.stdout).text(),
    new Response(run.stderr).text(),
    run.exited,
  ]);
  if (code !== 0) throw new Error(`wrk failed: ${err || out}`);
  const number = (pattern: RegExp) => Number(pattern.exec(out)?.[1] ?? Number.NaN);
  const percentile = (p: number) => {
    const match = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s)\\s*$`, "m").exec(out);
    if (!match?.[1] || !match[2]) throw new Error(`wrk printed no ${p}% latency:\n${out}`);
    return wrkMs(match[1], match[2]);
  };
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    name,
    connections,
    rps: number(/Requests\/sec:\s+([\d.]+)/),
    p50: percentile(50),
    p99: percentile(99),
    errors: socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0,
    non2xx: number(/Non-2xx or 3xx responses: (\d+)/) || 0,
  };
}

/** Milliseconds per verification, one at a time and `parallel` at once (median of rounds). */
async function verificationCost(
  parallel: number,
): Promise<{ serialMs: number; perSecond: number }> {
  const rounds = quick ? 3 : 5;
  const serial: number[] = [];
  const together: number[] = [];
  await verifyPassword(TEST_PASSWORD, TEST_PASSWORD_HASH);
  for (let round = 0; round < rounds; round++) {
    let started = performance.now();
    if (!(await verifyPassword(TEST_PASSWORD, TEST_PASSWORD_HASH))) throw new Error("no match");
    serial.push(performance.now() - started);
    started = performance.now();
    await Promise.all(
      Array.from({ length: parallel * 2 }, () => verifyPassword(TEST_PASSWORD, TEST_PASSWORD_HASH)),
    );
    together.push((performance.now() - started) / (parallel * 2));
  }
  return { serialMs: median(serial), perSecond: 1000 / median(together) };
}

if (!Bun.which("wrk")) {
  console.error(
    "api-throughput: wrk is missing; install it with `node scripts/ensure-deps.mjs --bench-tools` (Debian package wrk)",
  );
  process.exit(1);
}

const dir = tempDir("pt-bench-api-");
// The boot scan of the 10,000 rows finds them unchanged and is over before the load starts.
const { github, rows } = await seedUnchangedGithub(dir, ROWS);
const server = await startServer(dir, { GITHUB_API_URL: `"${github.url}"` });

const results: LoadResult[] = [];
let cost: { serialMs: number; perSecond: number };
try {
  // Wait for the boot scan to end, so it does not share the CPU with the load.
  for (let i = 0; i < 600; i++) {
    const state = (await (await server.call("/tracking/status?repo=bench%2Fnone")).json()) as {
      data: { scanner: { scanning: boolean; lastScan: unknown } };
    };
    if (!state.data.scanner.scanning && state.data.scanner.lastScan) break;
    await Bun.sleep(200);
  }
  const one = `${server.url}/tracking?repo=src-openeuler%2Fp${Math.floor(ROWS / 2)}&branch=master`;
  const check = (await (await fetch(one)).json()) as { data: unknown[] };
  if (check.data.length !== 1) throw new Error("the one-row query did not find its row");
  const all = (await (await fetch(`${server.url}/tracking`)).json()) as { data: unknown[] };
  if (all.data.length !== ROWS) throw new Error(`GET /tracking gave ${all.data.length} rows`);
  const body = JSON.stringify({ ...rows[1], enabled: true });
  const post = {
    url: `${server.url}/tracking`,
    method: "POST",
    headers: { "content-type": "application/json", authorization: basicAuth() },
    body,
  };
  const probe = await fetch(post.url, post);
  const answer = (await probe.json()) as { code: string };
  if (answer.code !== "2001") throw new Error(`POST answered ${JSON.stringify(answer)}`);

  results.push(await load("GET one row (repo+branch)", { url: one }));
  results.push(await load("GET one row (repo+branch)", { url: one, connections: 1 }));
  results.push(await load("POST upsert (Basic auth, cached)", post));
  // Last: 50 answers of 2 MB at once grow the heap to ~400 MB, and the collection that follows
  // would land in the next run's tail latency.
  results.push(await load(`GET all ${ROWS} rows`, { url: `${server.url}/tracking` }));
  cost = await verificationCost(cpus().length);
} finally {
  await server.stop();
  await github.stop();
}

console.log(`\nAPI throughput, ${ROWS} rows, ${DURATION_S} s per run`);
console.log(
  table([
    ["request", "connections", "req/s", "p50 ms", "p99 ms", "errors", "non-2xx"],
    ...results.map((r) => [
      r.name,
      String(r.connections),
      fmt(r.rps, 0),
      fmt(r.p50, 2),
      fmt(r.p99, 2),
      String(r.errors),
      String(r.non2xx),
    ]),
  ]),
);
const uncachedCeiling = cost.perSecond;
console.log(
  `password verification (pbkdf2:sha256, 150000 iterations): ${fmt(cost.serialMs, 1)} ms each; ` +
    `${fmt(uncachedCeiling, 1)}/s with ${cpus().length} at once = the uncached POST ceiling`,
);

const [oneRow, oneRowSingle, posts, allRows] = results as [
  LoadResult,
  LoadResult,
  LoadResult,
  LoadResult,
];
const clean = (r: LoadResult) => r.errors === 0 && r.non2xx === 0;
const resultRows: ResultRow[] = [
  {
    name: `API GET one row, ${CONNECTIONS} conns`,
    target: "p99 < 5 ms",
    measured: `${fmt(oneRow.rps, 0)} req/s, p50 ${fmt(oneRow.p50, 2)} ms, p99 ${fmt(oneRow.p99, 2)} ms`,
    pass: oneRow.p99 < 5 && clean(oneRow),
  },
  {
    name: "API GET one row, 1 conn",
    target: "",
    measured: `${fmt(oneRowSingle.rps, 0)} req/s, p50 ${fmt(oneRowSingle.p50, 2)} ms, p99 ${fmt(oneRowSingle.p99, 2)} ms`,
    pass: null,
  },
  {
    name: `API GET all ${ROWS} rows, ${CONNECTIONS} conns`,
    target: "",
    measured: `${fmt(allRows.rps, 1)} req/s, p50 ${fmt(allRows.p50, 2)} ms, p99 ${fmt(allRows.p99, 2)} ms`,
    pass: clean(allRows) ? null : false,
  },
  {
    name: `API POST upsert (auth), ${CONNECTIONS} conns`,
    target: "not bound by pbkdf2",
    measured: `${fmt(posts.rps, 0)} req/s, p50 ${fmt(posts.p50, 2)} ms, p99 ${fmt(posts.p99, 2)} ms; ${fmt(posts.rps / uncachedCeiling, 0)}× the uncached ceiling ${fmt(uncachedCeiling, 1)}/s`,
    pass: posts.rps > 2 * uncachedCeiling && clean(posts),
  },
];
report("api-throughput", resultRows);
process.exit(0);
