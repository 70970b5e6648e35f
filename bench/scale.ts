/**
 * Whole-distribution scale: the compiled service with 200,000 trackings (src-openeuler has about
 * 11,500 package repositories × 16 branches), against the GitHub and Gitee emulators answering
 * after a fixed latency (default 50 ms):
 *
 * - start-up with a database written by the previous service (its two tables, ids NULL), so the
 *   first start runs every migration; then a second start of the migrated file;
 * - the boot scan and a later idle scan (nothing changed): rate-limited requests per 50
 *   trackings, wall time, RSS idle and peak (scan memory per tracking);
 * - right after the idle scan, a scan where 1 % of the trackings changed (5 new commits each,
 *   each proposed to the Gitee emulator exactly once), in a new rate-limit hour of the GitHub
 *   emulator as at the recommended SCAN_DB_INTERVAL (see changedScan): wall time, rate-limited
 *   GitHub requests per changed tracking, Gitee requests per proposal, RSS (memory per tracking)
 *   while an operator reads the whole `/tracking/status` once a minute;
 * - `GET /tracking` of all rows: time and peak RSS with 1 and with 8 concurrent readers;
 * - `GET /tracking/status` and the status page at that size: one page, deep and filtered;
 * - `patch-tracking-cli query` of all rows; the database file size;
 * - git upstreams: `--git N` distinct URLs on one smart-HTTP host, idle-scanned.
 *
 * The binary is `dist/patch-tracking` (`npm run build`), or `--binary PATH` (e.g. a build of an
 * earlier commit, for before/after figures in the same run). Requests the binary does not know
 * (an older build) are reported as such, not counted as failures.
 *
 * Usage: `bun bench/scale.ts [--rows 200000] [--git 10000] [--latency 50] [--binary PATH]
 *   [--changed-every 100] [--no-changed] [--scan-only] [--start-only] [--starts 1] [--quick]`
 * (`--starts N`: N first starts, each on a fresh copy of the seeded database; `--start-only`:
 * only the starts, e.g. to compare two builds' migrations one after the other.)
 */
import { copyFileSync, existsSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { spawn, spawnSync } from "bun";
import { startGiteeEmulator } from "../tests/emulators/gitee.ts";
import { startGithubEmulator } from "../tests/emulators/github.ts";
import { TEST_GITHUB_TOKEN } from "../tests/helpers/settings.ts";
import { tempDir } from "../tests/helpers/temp.ts";
import { startGitHttpServer } from "./git-http-server.ts";
import {
  addCommits,
  type BenchTracking,
  benchSettings,
  flagValue,
  fmt,
  isTokenCheck,
  k,
  loadAverage,
  log,
  makeRepo,
  mb,
  median,
  packageSpec,
  procCpuSeconds,
  procStatusKb,
  quick,
  type ResultRow,
  ROOT,
  type RunningServer,
  report,
  resetPeakRss,
  type ScanSummary,
  sampleRss,
  seedOriginalDatabase,
  startServer,
  table,
  triggerScan,
  waitForScan,
} from "./lib.ts";

const ROWS = Number(flagValue("--rows") ?? (quick ? 20_000 : 200_000));
const GIT_URLS = Number(flagValue("--git") ?? (quick ? 1000 : 10_000));
const LATENCY_MS = Number(flagValue("--latency") ?? 50);
const CHANGE_EVERY = Number(flagValue("--changed-every") ?? 100);
const WITH_CHANGED = !process.argv.includes("--no-changed");
/** Only start-up and the scans (idle, changed): skips the readers, the status views and the CLI. */
const SCAN_ONLY = process.argv.includes("--scan-only");
const START_ONLY = process.argv.includes("--start-only");
const STARTS = Math.max(1, Number(flagValue("--starts") ?? 1));
const READERS = 8;
const NEW_COMMITS = 5;
const SCAN_TIMEOUT_MS = 30 * 60_000;
/** How often the changed scan's watching operator reads the whole status list. */
const STATUS_EVERY_MS = 60_000;

function binaryPath(): string {
  const given = flagValue("--binary");
  const path = given ?? join(ROOT, "dist", "patch-tracking");
  if (!existsSync(path)) {
    if (given) throw new Error(`--binary ${given}: no such file`);
    log("building dist/ (npm run build)");
    const built = spawnSync([process.execPath, join(ROOT, "scripts", "build.ts")], {
      cwd: ROOT,
      stdout: "ignore",
      stderr: "inherit",
    });
    if (built.exitCode !== 0) throw new Error("npm run build failed");
  }
  return path;
}

const wallS = (s: ScanSummary) => (Date.parse(s.finishedAt) - Date.parse(s.startedAt)) / 1000;

/** Milliseconds from spawning `binary` to its first 200 on /health; the process is left running. */
async function timedStart(binary: string, dir: string, extra: Record<string, string | number>) {
  const { config, url } = await benchSettings(dir, extra);
  const started = performance.now();
  const proc = spawn([binary, "--config", config], {
    stdin: "ignore",
    stdout: "ignore",
    stderr: "ignore",
  });
  for (;;) {
    try {
      if ((await fetch(`${url}/health`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (proc.exitCode !== null) throw new Error(`${binary} exited with ${proc.exitCode}`);
    if (performance.now() - started > 120_000) throw new Error("no /health in 120 s");
    await Bun.sleep(5);
  }
  return { proc, url, ms: performance.now() - started, load: loadAverage() };
}

/** Reads an answer to the end without keeping it: bytes, wall and first-byte milliseconds. */
async function drain(
  url: string,
): Promise<{ bytes: number; ms: number; firstByteMs: number; status: number }> {
  const started = performance.now();
  const response = await fetch(url);
  let bytes = 0;
  let firstByteMs = 0;
  for await (const chunk of response.body ?? []) {
    if (bytes === 0) firstByteMs = performance.now() - started;
    bytes += (chunk as Uint8Array).length;
  }
  return { bytes, ms: performance.now() - started, firstByteMs, status: response.status };
}

/** Median of a few timed GETs of `path`, with the answer's size and 2001/200 check. */
async function timeGet(server: RunningServer, path: string, runs = 5) {
  const times: number[] = [];
  let bytes = 0;
  let ok = true;
  for (let i = 0; i < runs + 1; i++) {
    const result = await drain(`${server.url}${path}`);
    if (i > 0) times.push(result.ms);
    bytes = result.bytes;
    ok &&= result.status === 200;
  }
  let code = "";
  if (path.startsWith("/tracking")) {
    const body = (await (await server.call(path)).json()) as { code: string };
    code = body.code;
    ok &&= code === "2001";
  }
  return { ms: median(times), bytes, ok, code };
}

/**
 * The scan where `changed` trackings (every CHANGE_EVERY-th) got NEW_COMMITS commits each, all to
 * be proposed to the Gitee emulator exactly once. It starts in a new rate-limit hour of the GitHub
 * emulator: the boot and idle scans before it spent two scans' worth of GraphQL points within the
 * same emulated hour, which an operator at the interval the README recommends at this size
 * (SCAN_DB_INTERVAL ≥ 30 min) never does; the limits themselves are unchanged.
 */
async function changedScan(server: RunningServer, idleKb: number, idleLimited: number) {
  await addCommits(moving, NEW_COMMITS, "new upstream work");
  github.forgetHeads();
  github.newRateLimitWindow();
  github.resetLog();
  gitee.resetLog();
  await Bun.sleep(1000);
  const beforeKb = procStatusKb(server.pid, "VmRSS");
  resetPeakRss(server.pid);
  const loadBefore = loadAverage();
  const cpuBefore = procCpuSeconds(server.pid);
  const benchCpuBefore = process.cpuUsage();
  const gitCpuBefore = procCpuSeconds(process.pid, true);
  const rss = sampleRss(server.pid, 1000);
  // An operator watching the scan: the whole status list (`patch-tracking-cli status`) each minute.
  const statusReads: number[] = [];
  const watcher = setInterval(() => {
    void drain(`${server.url}/tracking/status`).then((read) => statusReads.push(read.ms));
  }, STATUS_EVERY_MS);
  const scan = await triggerScan(server, SCAN_TIMEOUT_MS);
  clearInterval(watcher);
  const samples = rss.stop();
  const cpu = procCpuSeconds(server.pid) - cpuBefore;
  const benchCpu = process.cpuUsage(benchCpuBefore);
  const emulatorCpu = (benchCpu.user + benchCpu.system) / 1e6;
  const gitCpu = procCpuSeconds(process.pid, true) - gitCpuBefore;
  const peakKb = procStatusKb(server.pid, "VmHWM");
  const requests = scanRequests();
  // The GraphQL head queries are those of any scan (the idle scan's count); the rest is theirs.
  const perChanged = (requests.limited - idleLimited) / changed;
  const giteeRequests = gitee.requests.filter((r) => !isTokenCheck(r.path)).length;
  // Exactly once: one issue and one pull request in every changed package, holding every commit.
  let once = 0;
  let twice = 0;
  for (let i = 0; i < ROWS; i += CHANGE_EVERY) {
    const { pulls, issues } = gitee.repo(`src-openeuler/c${i}`);
    if (pulls.length === 1 && issues.length === 1) once++;
    else if (pulls.length > 1 || issues.length > 1) twice++;
  }
  const proposed = scan.outcomes.proposed ?? 0;
  const kbPerTracking = (peakKb - idleKb) / ROWS;
  const quarter = (q: number) =>
    samples[Math.min(samples.length - 1, Math.floor(q * samples.length))];
  const profile = [0.25, 0.5, 0.75]
    .map((q) => `${fmt(mb(quarter(q)?.[1] ?? Number.NaN), 0)}`)
    .join(" / ");
  log(
    `changed scan ${fmt(wallS(scan), 1)} s, ${proposed} proposed, server CPU ${fmt(cpu, 1)} s, emulators CPU ${fmt(emulatorCpu, 1)} s + their git ${fmt(gitCpu, 1)} s, RSS ${fmt(mb(beforeKb), 0)} → peak ${fmt(mb(peakKb), 0)} MB (at ¼ / ½ / ¾ of the scan: ${profile} MB), load ${loadBefore} → ${loadAverage()}`,
  );
  rows.push({
    name: `scale ${k(ROWS)} scan with ${changed} changed (${fmt(100 / CHANGE_EVERY, 1)} %)`,
    target: `all ${changed} proposed once; ≤ 3 rate-limited per changed`,
    measured: `${proposed} proposed, ${once} packages with one issue and one pull request, ${twice} with more; ${fmt(perChanged, 2)} rate-limited per changed; ${fmt(wallS(scan), 1)} s (server CPU ${fmt(cpu, 1)} s, emulators ${fmt(emulatorCpu, 1)} s + their git ${fmt(gitCpu, 1)} s; load ${loadBefore} → ${loadAverage()}); ${giteeRequests} Gitee requests (${fmt(giteeRequests / changed, 1)} per proposal); new GitHub rate-limit hour at its start`,
    pass: proposed === changed && once === changed && twice === 0 && perChanged <= 3,
  });
  rows.push({
    name: `scale ${k(ROWS)} scan with ${changed} changed: memory per tracking`,
    target: "≤ 1 KB",
    measured: `${fmt(kbPerTracking, 2)} KB (peak ${fmt(mb(peakKb), 0)} − idle ${fmt(mb(idleKb), 0)} MB over ${k(ROWS)}; RSS at its start ${fmt(mb(beforeKb), 0)} MB; with ${statusReads.length} reads of the whole /tracking/status during it, median ${fmt(median(statusReads) / 1000, 1)} s)`,
    pass: kbPerTracking <= 1,
  });
}

class ScanOnly extends Error {}

const binary = binaryPath();
const cli = join(binary, "..", "patch-tracking-cli");
const rows: ResultRow[] = [];
const dir = tempDir("pt-bench-scale-");
log(`scale: ${ROWS} trackings, binary ${binary}, latency ${LATENCY_MS} ms`);

// --- GitHub trackings: seeded in the previous service's schema ---------------------------------
const steady = join(dir, "steady");
const moving = join(dir, "moving");
const steadyHead = await makeRepo(steady, "steady upstream");
const movingBase = await makeRepo(moving, "moving upstream");
// The latency stands for GitHub's whole answer time; the emulator's own git calls are cached.
const github = startGithubEmulator({
  token: TEST_GITHUB_TOKEN,
  latencyMs: LATENCY_MS,
  cacheHeads: true,
});
const gitee = startGiteeEmulator({ latencyMs: LATENCY_MS });
const trackings: BenchTracking[] = [];
let changed = 0;
for (let i = 0; i < ROWS; i++) {
  const isChanged = WITH_CHANGED && i % CHANGE_EVERY === 0;
  github.addRepo(`bench/u${i}`, isChanged ? moving : steady);
  if (isChanged) {
    changed++;
    gitee.addRepo(`src-openeuler/c${i}`, { files: { [`c${i}.spec`]: packageSpec(`c${i}`) } });
  }
  trackings.push({
    version_control: "github",
    scm_repo: `bench/u${i}`,
    scm_branch: "main",
    scm_commit: isChanged ? movingBase : steadyHead,
    // 16 branches per package repository, as in src-openeuler; a changed one has its own.
    repo: isChanged ? `src-openeuler/c${i}` : `src-openeuler/p${Math.floor(i / 16)}`,
    branch: isChanged || i % 16 === 0 ? "master" : `openEuler-${20 + (i % 16)}.03-LTS`,
    enabled: true,
  });
}
const dbPath = join(dir, "db.sqlite");
await seedOriginalDatabase(dbPath, trackings);
trackings.length = 0;
const settings = { GITHUB_API_URL: `"${github.url}"`, GITEE_API_URL: `"${gitee.url}"` };

// Each first start migrates a fresh copy of the previous service's database.
const pristine = `${dbPath}.pristine`;
if (STARTS > 1) copyFileSync(dbPath, pristine);
const firsts: Array<{ ms: number; load: string }> = [];
for (let i = 0; i < STARTS; i++) {
  if (i > 0) {
    for (const suffix of ["", "-wal", "-shm"]) rmSync(`${dbPath}${suffix}`, { force: true });
    copyFileSync(pristine, dbPath);
  }
  const first = await timedStart(binary, dir, settings);
  log(`first start (migrations): ${fmt(first.ms, 0)} ms (load ${first.load})`);
  first.proc.kill("SIGTERM");
  await first.proc.exited;
  firsts.push({ ms: first.ms, load: String(first.load) });
}
const second = await timedStart(binary, dir, settings);
log(`second start: ${fmt(second.ms, 0)} ms`);
second.proc.kill("SIGTERM");
await second.proc.exited;
const firstMs = firsts.map((start) => start.ms);
rows.push({
  name: `scale ${k(ROWS)} start → /health, first start (migrations)`,
  target: "< 1 s",
  measured:
    STARTS === 1
      ? `${fmt(firstMs[0] ?? 0, 0)} ms (load ${firsts[0]?.load})`
      : `median ${fmt(median(firstMs), 0)} ms, ${fmt(Math.min(...firstMs), 0)}–${fmt(Math.max(...firstMs), 0)} ms over ${STARTS} (load ${firsts.map((start) => start.load).join(", ")})`,
  pass: Math.max(...firstMs) < 1000,
});
rows.push({
  name: `scale ${k(ROWS)} start → /health, second start`,
  target: "< 1 s",
  measured: `${fmt(second.ms, 0)} ms (load ${second.load})`,
  pass: second.ms < 1000,
});
if (START_ONLY) {
  console.log(`\nScale starts, ${ROWS} trackings, ${binary}`);
  console.log(table([["measure", "measured"], ...rows.map((row) => [row.name, row.measured])]));
  report("scale", rows);
  await github.stop();
  await gitee.stop();
  process.exit(0);
}

github.resetLog();
gitee.resetLog();
const server = await startServer(dir, settings, [binary]);
const scanRequests = () => {
  const requests = github.requests.filter((request) => !isTokenCheck(request.path));
  return { limited: requests.filter((request) => request.counted).length, all: requests.length };
};
try {
  const boot = await waitForScan(server, null, SCAN_TIMEOUT_MS);
  const bootRequests = scanRequests();
  log(`boot scan ${fmt(wallS(boot), 1)} s, ${bootRequests.limited} rate-limited requests`);
  await Bun.sleep(3000);
  const idleKb = procStatusKb(server.pid, "VmRSS");
  github.resetLog();
  resetPeakRss(server.pid);
  const cpuBefore = procCpuSeconds(server.pid);
  const benchCpuBefore = process.cpuUsage();
  const loadBefore = loadAverage();
  const idle = await triggerScan(server, SCAN_TIMEOUT_MS);
  const idleCpu = procCpuSeconds(server.pid) - cpuBefore;
  const benchCpu = process.cpuUsage(benchCpuBefore);
  const emulatorCpu = (benchCpu.user + benchCpu.system) / 1e6;
  const idlePeakKb = procStatusKb(server.pid, "VmHWM");
  const idleRequests = scanRequests();
  const per50 = (idleRequests.limited / ROWS) * 50;
  const scanKbPerTracking = (idlePeakKb - idleKb) / ROWS;
  log(
    `idle scan ${fmt(wallS(idle), 1)} s, ${idleRequests.limited} rate-limited requests, server CPU ${fmt(idleCpu, 1)} s, emulators CPU ${fmt(emulatorCpu, 1)} s, load ${loadBefore} → ${loadAverage()}`,
  );
  rows.push({
    name: `scale ${k(ROWS)} idle scan rate-limited req per 50`,
    target: "≤ 1",
    measured: `${fmt(per50, 2)} (${idleRequests.limited} of ${idleRequests.all}; boot scan ${bootRequests.limited})`,
    pass: per50 <= 1,
  });
  rows.push({
    name: `scale ${k(ROWS)} idle scan wall`,
    target: "< 5 min",
    measured: `${fmt(wallS(idle), 1)} s (boot scan ${fmt(wallS(boot), 1)} s); server CPU ${fmt(idleCpu, 1)} s, emulators ${fmt(emulatorCpu, 1)} s; load ${loadBefore} → ${loadAverage()}`,
    pass: wallS(idle) < 300,
  });
  rows.push({
    name: `scale ${k(ROWS)} idle RSS / scan peak`,
    target: "< 150 MB idle",
    measured: `${fmt(mb(idleKb), 0)} / ${fmt(mb(idlePeakKb), 0)} MB`,
    pass: mb(idleKb) < 150,
  });
  rows.push({
    name: `scale ${k(ROWS)} scan memory per tracking`,
    target: "≤ 1 KB",
    measured: `${fmt(scanKbPerTracking, 2)} KB (peak − idle over ${k(ROWS)})`,
    pass: scanKbPerTracking <= 1,
  });

  if (changed > 0) await changedScan(server, idleKb, idleRequests.limited);

  if (SCAN_ONLY) throw new ScanOnly();
  // GET /tracking of all rows, one reader then eight at once.
  await Bun.sleep(1000);
  resetPeakRss(server.pid);
  const one = await drain(`${server.url}/tracking`);
  const onePeakKb = procStatusKb(server.pid, "VmHWM");
  await Bun.sleep(1000);
  resetPeakRss(server.pid);
  const started = performance.now();
  const many = await Promise.all(
    Array.from({ length: READERS }, () => drain(`${server.url}/tracking`)),
  );
  const manyMs = performance.now() - started;
  const manyPeakKb = procStatusKb(server.pid, "VmHWM");
  const sameSize = many.every((result) => result.bytes === one.bytes);
  rows.push({
    name: `scale ${k(ROWS)} GET /tracking all, 1 reader`,
    target: "",
    measured: `${fmt(one.ms / 1000, 2)} s, ${fmt(one.bytes / 2 ** 20, 1)} MiB, peak RSS ${fmt(mb(onePeakKb), 0)} MB`,
    pass: null,
  });
  rows.push({
    name: `scale ${k(ROWS)} GET /tracking all, ${READERS} readers: peak RSS`,
    target: "< 250 MB",
    measured: `${fmt(mb(manyPeakKb), 0)} MB, all done in ${fmt(manyMs / 1000, 2)} s${sameSize ? "" : " (answers differ in size!)"}`,
    pass: mb(manyPeakKb) < 250 && sameSize,
  });

  // The whole unpaged /tracking/status, one reader then eight at once.
  await Bun.sleep(1000);
  resetPeakRss(server.pid);
  const status = await drain(`${server.url}/tracking/status`);
  const statusPeakKb = procStatusKb(server.pid, "VmHWM");
  await Bun.sleep(1000);
  resetPeakRss(server.pid);
  const statusStarted = performance.now();
  const statusMany = await Promise.all(
    Array.from({ length: READERS }, () => drain(`${server.url}/tracking/status`)),
  );
  const statusManyMs = performance.now() - statusStarted;
  const statusManyPeakKb = procStatusKb(server.pid, "VmHWM");
  const firstBytes = statusMany.map((result) => result.firstByteMs);
  rows.push({
    name: `scale ${k(ROWS)} GET /tracking/status all (unpaged), 1 reader`,
    target: "",
    measured: `first byte ${fmt(status.firstByteMs, 0)} ms, all ${fmt(status.ms / 1000, 2)} s, ${fmt(status.bytes / 2 ** 20, 1)} MiB, peak RSS ${fmt(mb(statusPeakKb), 0)} MB (load ${loadAverage()})`,
    pass: null,
  });
  rows.push({
    name: `scale ${k(ROWS)} GET /tracking/status all (unpaged), ${READERS} readers`,
    target: "",
    measured: `first byte ${fmt(Math.min(...firstBytes), 0)}–${fmt(Math.max(...firstBytes), 0)} ms, all done in ${fmt(statusManyMs / 1000, 2)} s, peak RSS ${fmt(mb(statusManyPeakKb), 0)} MB${statusMany.every((result) => Math.abs(result.bytes - status.bytes) < 1024) ? "" : " (answers differ in size!)"} (load ${loadAverage()})`,
    pass: null,
  });

  // Status views: one page (first, deep, filtered) and the whole unpaged list.
  const views: Array<[string, string, boolean]> = [
    ["/tracking/status one page (first)", "/tracking/status?page=1&per_page=100", true],
    [
      "/tracking/status one page (deep)",
      `/tracking/status?page=${Math.max(1, Math.floor(ROWS / 200))}&per_page=100`,
      true,
    ],
    ["/tracking/status failing, one page", "/tracking/status?failing=true&page=1", true],
    ["status page, page 1", "/status", true],
    ["status page, deep page", `/status?page=${Math.max(1, Math.floor(ROWS / 200))}`, true],
    ["status page, repo filter", "/status?repo=p1234", true],
    ["status page, repo filter, a name no tracking has", "/status?repo=zlib", true],
    ["/tracking/status search, one page", "/tracking/status?search=u12345&page=1", true],
    ["status page, state filter", "/status?state=failing", true],
    ["/tracking/status all rows (unpaged)", "/tracking/status", false],
  ];
  for (const [label, path, judged] of views) {
    resetPeakRss(server.pid);
    const result = await timeGet(server, path, judged ? 5 : 2);
    // The unpaged list is built whole: its memory stays with the process afterwards.
    const memory = judged
      ? ""
      : `, peak RSS ${fmt(mb(procStatusKb(server.pid, "VmHWM")), 0)} MB, ${fmt(mb(procStatusKb(server.pid, "VmRSS")), 0)} MB after`;
    rows.push({
      name: `scale ${k(ROWS)} ${label}`,
      target: judged ? "< 100 ms" : "",
      measured: result.ok
        ? `${fmt(result.ms, 1)} ms, ${fmt(result.bytes / 1024, 0)} KiB${memory} (load ${loadAverage()})`
        : `not answered (code ${result.code || "?"}, older build?)`,
      pass: judged ? result.ok && result.ms < 100 : null,
    });
  }

  // The CLI lists every row as a table.
  const cliTimes: number[] = [];
  let cliPeakKb = 0;
  for (let i = 0; i < (quick ? 1 : 3); i++) {
    const begun = performance.now();
    const result = spawnSync([cli, "query", "--server", server.url, "--table", "tracking"], {
      stdout: "ignore",
      stderr: "ignore",
    });
    if (result.exitCode !== 0) throw new Error(`cli query exited ${result.exitCode}`);
    cliTimes.push(performance.now() - begun);
    cliPeakKb = Math.max(cliPeakKb, (result.resourceUsage?.maxRSS ?? 0) / 1024);
  }
  rows.push({
    name: `scale ${k(ROWS)} CLI query all rows, compiled`,
    target: "",
    measured: `${fmt(median(cliTimes) / 1000, 2)} s, CLI peak RSS ${fmt(mb(cliPeakKb), 0)} MB`,
    pass: null,
  });
  const size = (path: string) => (existsSync(path) ? statSync(path).size : 0);
  rows.push({
    name: `scale ${k(ROWS)} database file`,
    target: "",
    measured: `${fmt(size(dbPath) / 2 ** 20, 1)} MiB (+ WAL ${fmt(size(`${dbPath}-wal`) / 2 ** 20, 1)} MiB)`,
    pass: null,
  });
} catch (error) {
  if (!(error instanceof ScanOnly)) throw error;
} finally {
  await server.stop();
  await github.stop();
  await gitee.stop();
}

// --- git upstreams: distinct URLs on one host -------------------------------------------------
if (GIT_URLS > 0) {
  const gitDir = tempDir("pt-bench-scale-git-");
  const repo = join(gitDir, "upstream");
  const head = await makeRepo(repo, "git upstream");
  let active = 0;
  let maxActive = 0;
  const gitServer = startGitHttpServer({
    latencyMs: LATENCY_MS,
    cacheAdvertisements: true,
    resolve: (name) => (/^u\d+\.git$/.test(name) ? join(repo, ".git") : null),
    onRequest(delta) {
      active += delta;
      maxActive = Math.max(maxActive, active);
    },
  });
  const gitRows: BenchTracking[] = [];
  for (let i = 0; i < GIT_URLS; i++) {
    gitRows.push({
      version_control: "git",
      scm_repo: `${gitServer.origin}/u${i}.git`,
      scm_branch: "main",
      scm_commit: head,
      repo: `src-openeuler/g${i}`,
      branch: "master",
      enabled: true,
    });
  }
  await seedOriginalDatabase(join(gitDir, "db.sqlite"), gitRows);
  const gitServerProcess = await startServer(gitDir, {}, [binary]);
  try {
    const boot = await waitForScan(gitServerProcess, null, SCAN_TIMEOUT_MS);
    const requests = gitServer.requests.length;
    rows.push({
      name: `scale git ${k(GIT_URLS)} URLs idle scan wall`,
      target: "< 2 min",
      measured: `${fmt(wallS(boot), 1)} s, ${requests} HTTP requests (${fmt(requests / GIT_URLS, 2)} per URL), at most ${maxActive} at once on the host, ${boot.outcomes.unchanged ?? 0} unchanged`,
      pass: wallS(boot) < 120 && boot.outcomes.unchanged === GIT_URLS,
    });
  } finally {
    await gitServerProcess.stop();
    await gitServer.stop();
  }
}

console.log(`\nScale, ${ROWS} trackings, ${LATENCY_MS} ms latency, ${binary}`);
console.log(table([["measure", "measured"], ...rows.map((row) => [row.name, row.measured])]));
report("scale", rows);
process.exit(0);
