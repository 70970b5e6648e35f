/**
 * Scan cost: what one scan of many trackings costs in upstream requests, wall time and memory,
 * against the GitHub and Gitee emulators and a smart-HTTP git server on 127.0.0.1, each answering
 * after a fixed latency (default 50 ms) that stands for the network.
 *
 * The real service runs as a child process (`bun src/main.ts --config FILE`) with a database
 * seeded with the trackings, so its RSS is its own. Scans are started with `POST /tracking/scan`
 * and followed through `GET /tracking/status`; the emulators' request logs give the counts.
 *
 * Scenarios per set of trackings:
 * - (a) nothing changed: every tracking's `scm_commit` is its upstream head. For GitHub the
 *   first scan after start-up and a later ("steady") one are reported apart; for git the first
 *   scan already is the steady state (one `ls-remote` per URL, no mirror involved).
 * - (b) 1 % of the trackings (every hundredth, each with an upstream name of its own) get 5 new
 *   upstream commits; the scan proposes them to the Gitee emulator (branch, patches, spec, issue,
 *   pull request). For git trackings this happens twice: the first time clones one mirror per
 *   URL, the second only fetches into the mirrors.
 *
 * Baseline, computed: the original service's pattern costs 2 rate-limited requests per tracking
 * per scan plus 2 per new commit.
 *
 * Usage: `bun bench/scan-cost.ts [--quick] [--latency MS] [--github 1000,10000] [--git 1000]`
 * (`--git 0` or `--github 0` skips that part).
 */
import { mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { startGiteeEmulator } from "../tests/emulators/gitee.ts";
import { startGithubEmulator } from "../tests/emulators/github.ts";
import { TEST_GITHUB_TOKEN } from "../tests/helpers/settings.ts";
import { tempDir } from "../tests/helpers/temp.ts";
import { startGitHttpServer } from "./git-http-server.ts";
import {
  addCommits,
  type BenchTracking,
  flagValue,
  fmt,
  isTokenCheck,
  k,
  log,
  makeRepo,
  mb,
  packageSpec,
  procStatusKb,
  quick,
  type ResultRow,
  report,
  resetPeakRss,
  type ScanSummary,
  seedDatabase,
  sizesFlag,
  startServer,
  table,
  triggerScan,
  waitForScan,
} from "./lib.ts";

const LATENCY_MS = Number(flagValue("--latency") ?? 50);
const GITHUB_SIZES = sizesFlag("--github", quick ? "1000" : "1000,10000");
const GIT_SIZE = Number(flagValue("--git") ?? (quick ? 200 : 1000));
/** Every CHANGE_EVERY-th tracking is the changed 1 %. */
const CHANGE_EVERY = 100;
const NEW_COMMITS = 5;
const SCAN_TIMEOUT_MS = 15 * 60_000;

interface ScanMeasure {
  label: string;
  wallMs: number;
  outcomes: Record<string, number>;
  /** Upstream requests charged to a quota (GitHub), or all upstream requests (git). */
  rateLimited: number;
  upstreamTotal: number;
  notModified: number;
  giteeRequests: number;
  peakRssKb: number;
  /** Informational: mirrors on disk after the scan (git). */
  mirrors?: number;
}

function wallMs(summary: ScanSummary): number {
  return Date.parse(summary.finishedAt) - Date.parse(summary.startedAt);
}

/** The token checks at start-up are not part of any scan. */

function describeScan(m: ScanMeasure): string[] {
  return [
    m.label,
    String(m.rateLimited),
    String(m.upstreamTotal),
    String(m.notModified),
    String(m.giteeRequests),
    fmt(m.wallMs / 1000, 2),
    fmt(mb(m.peakRssKb), 0),
    Object.entries(m.outcomes)
      .map(([outcome, n]) => `${outcome} ${n}`)
      .join(", "),
  ];
}

const HEADER = [
  "scan",
  "rate-limited",
  "upstream req",
  "304",
  "gitee req",
  "wall s",
  "peak RSS MB",
  "outcomes",
];

interface SetResult {
  size: number;
  changed: number;
  idleRssKb: number;
  scans: Record<string, ScanMeasure>;
}

async function githubSet(size: number): Promise<SetResult> {
  log(`github: ${size} trackings, latency ${LATENCY_MS} ms`);
  const dir = tempDir("pt-bench-scan-");
  const steady = join(dir, "steady");
  const moving = join(dir, "moving");
  const steadyHead = await makeRepo(steady, "steady upstream");
  const movingBase = await makeRepo(moving, "moving upstream");
  const github = startGithubEmulator({ token: TEST_GITHUB_TOKEN, latencyMs: LATENCY_MS });
  const gitee = startGiteeEmulator({ latencyMs: LATENCY_MS });
  const rows: BenchTracking[] = [];
  let changed = 0;
  for (let i = 0; i < size; i++) {
    const isChanged = i % CHANGE_EVERY === 0;
    const name = `bench/u${i}`;
    github.addRepo(name, isChanged ? moving : steady);
    if (isChanged) {
      changed++;
      gitee.addRepo(`src-openeuler/p${i}`, { files: { [`p${i}.spec`]: packageSpec(`p${i}`) } });
    }
    rows.push({
      version_control: "github",
      scm_repo: name,
      scm_branch: "main",
      scm_commit: isChanged ? movingBase : steadyHead,
      repo: `src-openeuler/p${i}`,
      branch: "master",
      enabled: true,
    });
  }
  await seedDatabase(join(dir, "db.sqlite"), rows);

  const measure = (label: string, summary: ScanSummary, peakRssKb: number): ScanMeasure => {
    const requests = github.requests.filter((request) => !isTokenCheck(request.path));
    return {
      label,
      wallMs: wallMs(summary),
      outcomes: summary.outcomes,
      rateLimited: requests.filter((request) => request.counted).length,
      upstreamTotal: requests.length,
      notModified: requests.filter((request) => request.status === 304).length,
      giteeRequests: gitee.requests.filter((request) => !isTokenCheck(request.path)).length,
      peakRssKb,
    };
  };

  const server = await startServer(dir, {
    GITHUB_API_URL: `"${github.url}"`,
    GITEE_API_URL: `"${gitee.url}"`,
  });
  const scans: Record<string, ScanMeasure> = {};
  try {
    const first = await waitForScan(server, null, SCAN_TIMEOUT_MS);
    scans.aFirst = measure("(a) first scan after start", first, procStatusKb(server.pid, "VmHWM"));
    await Bun.sleep(1000);
    const idleRssKb = procStatusKb(server.pid, "VmRSS");

    const steadyScan = async (label: string) => {
      github.resetLog();
      gitee.resetLog();
      resetPeakRss(server.pid);
      const summary = await triggerScan(server, SCAN_TIMEOUT_MS);
      return measure(label, summary, procStatusKb(server.pid, "VmHWM"));
    };
    // Peak RSS depends on when the collector runs: of three unchanged scans, keep the median.
    const unchanged: ScanMeasure[] = [];
    for (let round = 0; round < (quick ? 1 : 3); round++) {
      unchanged.push(await steadyScan("(a) nothing changed"));
    }
    unchanged.sort((x, y) => x.peakRssKb - y.peakRssKb);
    scans.aSteady = unchanged[Math.floor(unchanged.length / 2)] as ScanMeasure;
    await addCommits(moving, NEW_COMMITS, "new upstream work");
    scans.b = await steadyScan(`(b) ${changed} trackings × ${NEW_COMMITS} new commits`);
    return { size, changed, idleRssKb, scans };
  } finally {
    await server.stop();
    await github.stop();
    await gitee.stop();
  }
}

async function gitSet(size: number): Promise<SetResult> {
  log(`git: ${size} trackings (one URL each), latency ${LATENCY_MS} ms`);
  const dir = tempDir("pt-bench-scan-git-");
  const steady = join(dir, "steady");
  const moving = join(dir, "moving");
  const steadyHead = await makeRepo(steady, "steady upstream");
  const movingBase = await makeRepo(moving, "moving upstream");
  const gitServer = startGitHttpServer({
    latencyMs: LATENCY_MS,
    resolve(name) {
      const match = /^u(\d+)\.git$/.exec(name);
      if (!match) return null;
      return join(Number(match[1]) % CHANGE_EVERY === 0 ? moving : steady, ".git");
    },
  });
  const gitee = startGiteeEmulator({ latencyMs: LATENCY_MS });
  const rows: BenchTracking[] = [];
  let changed = 0;
  for (let i = 0; i < size; i++) {
    const isChanged = i % CHANGE_EVERY === 0;
    if (isChanged) {
      changed++;
      gitee.addRepo(`src-openeuler/g${i}`, { files: { [`g${i}.spec`]: packageSpec(`g${i}`) } });
    }
    rows.push({
      version_control: "git",
      scm_repo: `${gitServer.origin}/u${i}.git`,
      scm_branch: "main",
      scm_commit: isChanged ? movingBase : steadyHead,
      repo: `src-openeuler/g${i}`,
      branch: "master",
      enabled: true,
    });
  }
  await seedDatabase(join(dir, "db.sqlite"), rows);
  const mirrorDir = join(dir, "git");
  mkdirSync(mirrorDir, { recursive: true });
  const mirrors = () => readdirSync(mirrorDir).filter((entry) => !entry.startsWith(".")).length;

  const measure = (label: string, summary: ScanSummary, peakRssKb: number): ScanMeasure => ({
    label,
    wallMs: wallMs(summary),
    outcomes: summary.outcomes,
    rateLimited: 0,
    upstreamTotal: gitServer.requests.length,
    notModified: 0,
    giteeRequests: gitee.requests.filter((request) => !isTokenCheck(request.path)).length,
    peakRssKb,
    mirrors: mirrors(),
  });

  // The GitHub side is not used; its token check fails fast on a closed port and is ignored.
  const server = await startServer(dir, { GITEE_API_URL: `"${gitee.url}"` });
  const scans: Record<string, ScanMeasure> = {};
  try {
    // Without mirrors involved the first scan is already the steady state of (a): one
    // `ls-remote` per URL. (A second one would add minutes of identical work.)
    const first = await waitForScan(server, null, SCAN_TIMEOUT_MS);
    scans.aSteady = measure(
      "(a) nothing changed (first scan)",
      first,
      procStatusKb(server.pid, "VmHWM"),
    );
    await Bun.sleep(1000);
    const idleRssKb = procStatusKb(server.pid, "VmRSS");
    const steadyScan = async (label: string) => {
      gitServer.requests.length = 0;
      gitee.resetLog();
      resetPeakRss(server.pid);
      const summary = await triggerScan(server, SCAN_TIMEOUT_MS);
      return measure(label, summary, procStatusKb(server.pid, "VmHWM"));
    };
    await addCommits(moving, NEW_COMMITS, "new upstream work");
    scans.bFirst = await steadyScan(`(b) ${changed} × ${NEW_COMMITS} commits, mirrors cloned`);
    await addCommits(moving, NEW_COMMITS, "more upstream work");
    scans.bSteady = await steadyScan(`(b) ${changed} × ${NEW_COMMITS} commits, mirrors fetched`);
    return { size, changed, idleRssKb, scans };
  } finally {
    await server.stop();
    await gitServer.stop();
    await gitee.stop();
  }
}

const rows: ResultRow[] = [];
const githubResults: SetResult[] = [];

for (const size of GITHUB_SIZES) {
  const result = await githubSet(size);
  githubResults.push(result);
  const { scans, changed } = result;
  const a = scans.aSteady as ScanMeasure;
  const b = scans.b as ScanMeasure;
  console.log(`\nGitHub, ${size} trackings, ${LATENCY_MS} ms latency`);
  console.log(table([HEADER, ...Object.values(scans).map(describeScan)]));
  const baselineA = 2 * size;
  const baselineB = 2 * size + 2 * NEW_COMMITS * changed;
  const perUnchanged = a.rateLimited / size;
  rows.push({
    name: `scan ${k(size)} github (a) rate-limited req`,
    target: `≤ ${size / 50} (1 per 50)`,
    measured: `${a.rateLimited}; ${fmt(a.rateLimited / baselineA, 4)}× baseline ${baselineA}`,
    pass: perUnchanged <= 1 / 50,
  });
  const perChanged = (b.rateLimited - a.rateLimited) / changed;
  rows.push({
    name: `scan ${k(size)} github (b) rate-limited per changed`,
    target: "≤ 3",
    measured: `${fmt(perChanged, 2)} (scan total ${b.rateLimited}; ${fmt(b.rateLimited / baselineB, 4)}× baseline ${baselineB})`,
    pass: perChanged <= 3 && b.outcomes.proposed === changed,
  });
  rows.push({
    name: `scan ${k(size)} github (a) wall`,
    target: size >= 10_000 ? "< 30 s" : "",
    measured: `${fmt(a.wallMs / 1000, 2)} s (first scan ${fmt((scans.aFirst as ScanMeasure).wallMs / 1000, 2)} s)`,
    pass: size >= 10_000 ? a.wallMs < 30_000 : null,
  });
  rows.push({
    name: `scan ${k(size)} github (b) wall`,
    target: "",
    measured: `${fmt(b.wallMs / 1000, 2)} s, ${b.giteeRequests} Gitee requests`,
    pass: null,
  });
  rows.push({
    name: `scan ${k(size)} github RSS idle / peak (a) / peak (b)`,
    target: "",
    measured: `${fmt(mb(result.idleRssKb), 0)} / ${fmt(mb(a.peakRssKb), 0)} / ${fmt(mb(b.peakRssKb), 0)} MB`,
    pass: null,
  });
}

if (githubResults.length >= 2) {
  const small = githubResults[0] as SetResult;
  const large = githubResults.at(-1) as SetResult;
  const growth = (r: SetResult) => (r.scans.aSteady as ScanMeasure).peakRssKb - r.idleRssKb;
  const perExtra = (growth(large) - growth(small)) / (large.size - small.size);
  const idlePerExtra = (large.idleRssKb - small.idleRssKb) / (large.size - small.size);
  rows.push({
    name: `scan memory per extra tracking (${k(small.size)}→${k(large.size)})`,
    target: "flat: scan growth ≤ 1 KB",
    measured: `scan growth ${fmt(perExtra, 2)} KB, idle ${fmt(idlePerExtra, 2)} KB per tracking`,
    // A tracking row as a JavaScript object takes about 0.36 KB of heap.
    pass: perExtra <= 1,
  });
}

if (GIT_SIZE > 0) {
  const result = await gitSet(GIT_SIZE);
  const { scans, changed } = result;
  console.log(`\ngit, ${GIT_SIZE} trackings (one URL each), ${LATENCY_MS} ms latency`);
  console.log(
    table([
      [...HEADER, "mirrors"],
      ...Object.values(scans).map((m) => [...describeScan(m), String(m.mirrors ?? "")]),
    ]),
  );
  const a = scans.aSteady as ScanMeasure;
  const bFirst = scans.bFirst as ScanMeasure;
  const bSteady = scans.bSteady as ScanMeasure;
  rows.push({
    name: `scan ${k(GIT_SIZE)} git (a) wall, http requests`,
    target: "",
    measured: `${fmt(a.wallMs / 1000, 2)} s, ${a.upstreamTotal} requests (${fmt(a.upstreamTotal / GIT_SIZE, 2)} per URL)`,
    pass: null,
  });
  rows.push({
    name: `scan ${k(GIT_SIZE)} git (b) first (clone) / steady (fetch)`,
    target: "",
    measured: `${fmt(bFirst.wallMs / 1000, 2)} s / ${fmt(bSteady.wallMs / 1000, 2)} s; +${bFirst.upstreamTotal - a.upstreamTotal} / +${bSteady.upstreamTotal - a.upstreamTotal} requests for ${changed} changed`,
    pass: bFirst.outcomes.proposed === changed && bSteady.outcomes.proposed === changed,
  });
  rows.push({
    name: `scan ${k(GIT_SIZE)} git RSS idle / peak (a) / peak (b)`,
    target: "",
    measured: `${fmt(mb(result.idleRssKb), 0)} / ${fmt(mb(a.peakRssKb), 0)} / ${fmt(mb(bFirst.peakRssKb), 0)} MB`,
    pass: null,
  });
}

report("scan-cost", rows);
process.exit(0);
