/**
 * Outage: 10,000 GitHub trackings through a 10-minute GitHub outage (connections refused), with
 * the scanner as the service runs it (interval scans, per-tracking retries, circuit breakers),
 * against the GitHub emulator behind a relay that refuses connections during the outage.
 *
 * Time is compressed so the run takes a couple of minutes: every duration the scanner knows —
 * the scan interval (60 s), the first retry (30 s), the probe schedule (5 s doubling to 5 min),
 * the outage (10 min) — is divided by `--scale` (default 20). Requests are real and counted by
 * the client (every attempt, answered or refused).
 *
 * Reported, with and without the breaker (the baseline: the same scanner with a breaker that
 * never opens, i.e. per-tracking retries only): requests sent during the outage, time to detect
 * it, and the time from the forge's return to every tracking scanned again.
 *
 * Usage: `bun bench/outage.ts [--quick] [--trackings 10000] [--scale 20] [--no-baseline]`
 */
import { join } from "node:path";
import { openDatabase } from "../src/db/database.ts";
import { GiteeForge } from "../src/forge/gitee.ts";
import { silentLogger } from "../src/log.ts";
import { Scanner } from "../src/scan/scheduler.ts";
import { createGithubUpstream } from "../src/scan/upstream/github.ts";
import { startGiteeEmulator } from "../tests/emulators/gitee.ts";
import { startOutageSwitch } from "../tests/helpers/outage-switch.ts";
import { TEST_GITHUB_TOKEN } from "../tests/helpers/settings.ts";
import { tempDir } from "../tests/helpers/temp.ts";
import { flagValue, fmt, log, quick, report, seedUnchangedGithub, table } from "./lib.ts";

const trackings = Number(flagValue("--trackings") ?? (quick ? 2000 : 10_000));
const scale = Number(flagValue("--scale") ?? 20);
const baseline = !process.argv.includes("--no-baseline");
const OUTAGE_S = 600;
const INTERVAL_S = 60;
const RETRY_BASE_S = 30;

interface RunResult {
  label: string;
  detectMs: number | null;
  outageRequests: number;
  probes: number;
  recoverMs: number;
  /** From the return to the breaker closing (the wait for the next probe); null: no breaker. */
  closeMs: number | null;
  /** Trackings scanned again by the end of the wait. */
  scanned: number;
  waitingAtEnd: number;
}

async function run(label: string, withBreaker: boolean): Promise<RunResult> {
  const dir = tempDir("pt-bench-outage-");
  const { github } = await seedUnchangedGithub(dir, trackings);
  const relay = await startOutageSwitch(github.url);
  const gitee = startGiteeEmulator();
  const db = openDatabase(join(dir, "db.sqlite"));
  const counter = { attempts: 0 };
  const upstream = createGithubUpstream({
    baseUrl: relay.url,
    token: TEST_GITHUB_TOKEN,
    log: silentLogger,
    timeoutMs: 30_000 / scale,
    onResponse: () => {
      counter.attempts++;
    },
  });
  const scanner = new Scanner({
    db,
    log: silentLogger,
    forge: new GiteeForge({ baseUrl: gitee.url, token: gitee.token, log: silentLogger }),
    upstreams: { github: upstream, git: upstream },
    intervalSeconds: INTERVAL_S / scale,
    retryBaseMs: (RETRY_BASE_S * 1000) / scale,
    retryMaxMs: 3_600_000 / scale,
    concurrency: 8,
    breaker: withBreaker
      ? { probeBaseMs: 5000 / scale, probeMaxMs: 300_000 / scale }
      : { threshold: Number.MAX_SAFE_INTEGER },
  });
  const scannedSince = (since: string) =>
    db
      .query<{ n: number }, [string]>(
        "SELECT COUNT(*) AS n FROM tracking_status WHERE last_scan_at >= ? AND last_outcome = 'unchanged'",
      )
      .get(since)?.n ?? 0;
  const waiting = () =>
    db
      .query<{ n: number }, []>(
        "SELECT COUNT(*) AS n FROM tracking_status WHERE last_outcome IN ('waiting', 'failed')",
      )
      .get()?.n ?? 0;

  scanner.start();
  const startedAt = new Date().toISOString();
  while (scannedSince(startedAt) < trackings) await Bun.sleep(50);
  log(`${label}: ${trackings} trackings scanned once; GitHub goes down for ${OUTAGE_S / scale} s`);

  await relay.set("refuse");
  counter.attempts = 0;
  const down = performance.now();
  let detectMs: number | null = null;
  const outageEnd = down + (OUTAGE_S * 1000) / scale;
  while (performance.now() < outageEnd) {
    if (detectMs === null && scanner.breakers.isOpen("github")) detectMs = performance.now() - down;
    await Bun.sleep(10);
  }
  const outageRequests = counter.attempts;
  const probes =
    scanner.breakers.views().find((view) => view.forge === "github")?.failedProbes ?? 0;
  const waitingAtEnd = waiting();

  await relay.set("up");
  const up = performance.now();
  const upAt = new Date().toISOString();
  // Without a breaker, trackings come back on their own retry schedules (up to an hour, sim.):
  // wait at most 30 s of real time for them. With it, until all are scanned (3 min at most).
  const deadline = up + (withBreaker ? 180_000 : 30_000);
  let closeMs: number | null = null;
  while (scannedSince(upAt) < trackings && performance.now() < deadline) {
    if (withBreaker && closeMs === null && !scanner.breakers.isOpen("github")) {
      closeMs = performance.now() - up;
    }
    await Bun.sleep(10);
  }
  const recoverMs = performance.now() - up;
  const scanned = scannedSince(upAt);
  await scanner.stop();
  // Let scans the grace period left running see the stop before the database closes.
  await Bun.sleep(500);
  db.close();
  await relay.stop();
  await github.stop();
  await gitee.stop();
  if (scanned < trackings) log(`${label}: only ${scanned} of ${trackings} scanned again`);
  return { label, detectMs, outageRequests, probes, recoverMs, closeMs, scanned, waitingAtEnd };
}

const results: RunResult[] = [await run("breaker", true)];
if (baseline) results.push(await run("no breaker (baseline)", false));

const simulated = (ms: number) => `${fmt(ms / 1000, 2)} s (${fmt((ms * scale) / 1000, 0)} s sim.)`;
console.log(
  `\n${trackings} GitHub trackings, ${OUTAGE_S / 60}-minute outage (refused connections), time ÷ ${scale}\n`,
);
console.log(
  table([
    [
      "scanner",
      "detected after",
      "requests during outage",
      "failed probes",
      "held at end",
      "return → breaker closed",
      "closed → all scanned",
      "return → all scanned",
    ],
    ...results.map((result) => [
      result.label,
      result.detectMs === null ? "never" : simulated(result.detectMs),
      String(result.outageRequests),
      String(result.probes),
      String(result.waitingAtEnd),
      result.closeMs === null ? "-" : simulated(result.closeMs),
      result.closeMs === null ? "-" : simulated(result.recoverMs - result.closeMs),
      result.scanned < trackings
        ? `> ${simulated(result.recoverMs)}: ${result.scanned} of ${trackings}`
        : simulated(result.recoverMs),
    ]),
  ]),
);
const [withBreaker, without] = results;
if (withBreaker && without) {
  const ratio = without.outageRequests / Math.max(1, withBreaker.outageRequests);
  console.log(`requests during the outage: ${fmt(ratio, 0)}× fewer with the breaker`);
}
report("outage", [
  {
    name: `requests during a ${OUTAGE_S / 60}-min outage, ${trackings} trackings`,
    target: "bounded by the probe schedule (≤ 20)",
    measured: String(withBreaker?.outageRequests ?? 0),
    pass: (withBreaker?.outageRequests ?? 0) <= 20,
  },
  {
    name: "return → breaker closed (waiting for the next probe)",
    target: "≤ the probe cap (300 s sim.)",
    measured: simulated(withBreaker?.closeMs ?? 0),
    pass: (withBreaker?.closeMs ?? Number.POSITIVE_INFINITY) * scale <= 300_000 + 1000 * scale,
  },
  {
    name: "breaker closed → all trackings scanned",
    target: "< 1 scan interval (60 s sim.)",
    measured: simulated((withBreaker?.recoverMs ?? 0) - (withBreaker?.closeMs ?? 0)),
    pass:
      withBreaker?.scanned === trackings &&
      (withBreaker.recoverMs - (withBreaker.closeMs ?? 0)) * scale < INTERVAL_S * 1000,
  },
]);
process.exit(0);
