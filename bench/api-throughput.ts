/**
 * API throughput: autocannon (in this process) against the real service (`bun src/main.ts`) over
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
import { cpus } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import { verifyPassword } from "../src/password/verify.ts";
import { startGithubEmulator } from "../tests/emulators/github.ts";
import {
  basicAuth,
  TEST_GITHUB_TOKEN,
  TEST_PASSWORD,
  TEST_PASSWORD_HASH,
} from "../tests/helpers/settings.ts";
import { tempDir } from "../tests/helpers/temp.ts";
import {
  type BenchTracking,
  flagValue,
  fmt,
  log,
  makeRepo,
  median,
  quick,
  type ResultRow,
  report,
  seedDatabase,
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
  const result = await autocannon({ ...options, connections, duration: DURATION_S });
  return {
    name,
    connections,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
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

const dir = tempDir("pt-bench-api-");
const upstreamDir = join(dir, "upstream");
const head = await makeRepo(upstreamDir, "upstream");
// The boot scan of the 10,000 rows finds them unchanged and is over before the load starts.
const github = startGithubEmulator({ token: TEST_GITHUB_TOKEN });
const rows: BenchTracking[] = [];
for (let i = 0; i < ROWS; i++) {
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
  results.push(await load(`GET all ${ROWS} rows`, { url: `${server.url}/tracking` }));
  results.push(await load("POST upsert (Basic auth, cached)", post));
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
      String(r.p50),
      String(r.p99),
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

const [oneRow, oneRowSingle, allRows, posts] = results as [
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
    measured: `${fmt(oneRow.rps, 0)} req/s, p50 ${oneRow.p50} ms, p99 ${oneRow.p99} ms`,
    pass: oneRow.p99 < 5 && clean(oneRow),
  },
  {
    name: "API GET one row, 1 conn",
    target: "",
    measured: `${fmt(oneRowSingle.rps, 0)} req/s, p50 ${oneRowSingle.p50} ms, p99 ${oneRowSingle.p99} ms`,
    pass: null,
  },
  {
    name: `API GET all ${ROWS} rows, ${CONNECTIONS} conns`,
    target: "",
    measured: `${fmt(allRows.rps, 1)} req/s, p50 ${allRows.p50} ms, p99 ${allRows.p99} ms`,
    pass: clean(allRows) ? null : false,
  },
  {
    name: `API POST upsert (auth), ${CONNECTIONS} conns`,
    target: "not bound by pbkdf2",
    measured: `${fmt(posts.rps, 0)} req/s, p50 ${posts.p50} ms, p99 ${posts.p99} ms; ${fmt(posts.rps / uncachedCeiling, 0)}× the uncached ceiling ${fmt(uncachedCeiling, 1)}/s`,
    pass: posts.rps > 2 * uncachedCeiling && clean(posts),
  },
];
report("api-throughput", resultRows);
process.exit(0);
