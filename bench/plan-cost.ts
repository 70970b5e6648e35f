/**
 * Fleet plan cost: what `GET /plan` (as `patch-tracking-cli plan --all` pages through it) costs
 * for many GitHub trackings, in upstream requests, Gitee requests and wall time, against the
 * GitHub and Gitee emulators answering after a fixed latency (default 50 ms).
 *
 * The set: `size` trackings of which 1 % (every hundredth) have 5 new upstream commits. Each of
 * those has a Gitee package: a spec declaring one carried patch, the patch, and its source
 * archive (the upstream before the new commits), so the plan runs the carried check and the apply
 * check on each, as a scan would. The real service runs as a child process; the plan is read in
 * pages of 200 as the CLI reads it. The plan is read twice: right after start-up (every head
 * unknown to the ETag cache, every package file unknown to the source cache) and again (the state
 * of a service that has been scanning).
 *
 * Baseline, computed: the original service's pattern — 2 rate-limited requests per tracking plus
 * 2 per new commit — which a per-tracking dry run would also cost.
 *
 * Memory: the server's peak RSS during each plan (reset before it). `--binary PATH` measures a
 * compiled service (default: `bun src/main.ts` of this checkout) and `--baseline-binary PATH` a
 * build of an earlier commit in the same run, for before/after figures. `--fleet-rows N` adds an
 * idle fleet of N GitHub trackings read whole by `patch-tracking-cli plan --all --json` (the CLI
 * beside the binary): wall, server peak RSS and CLI peak RSS. `--baseline-pages P` reads only the
 * first P pages of it from the baseline (a build that lists every tracking per page takes long at
 * 200,000; its peak is reached on the first page).
 *
 * Usage: `bun bench/plan-cost.ts [--quick] [--latency MS] [--sizes 1000,10000] [--binary PATH]
 *   [--baseline-binary PATH] [--fleet-rows 200000] [--fleet-latency MS] [--baseline-pages P]`
 */
import { Database } from "bun:sqlite";
import { copyFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { gzipSync, spawn } from "bun";
import { FLEET_PAGE } from "../cli/commands/fleet-plan.ts";
import { gitBytes } from "../src/git.ts";
import type { FleetPlan } from "../src/scan/fleet-plan.ts";
import { startGiteeEmulator } from "../tests/emulators/gitee.ts";
import { startGithubEmulator } from "../tests/emulators/github.ts";
import { TEST_GITHUB_TOKEN, TEST_PASSWORD } from "../tests/helpers/settings.ts";
import { tempDir } from "../tests/helpers/temp.ts";
import {
  addCommits,
  type BenchTracking,
  flagValue,
  fmt,
  isTokenCheck,
  k,
  loadAverage,
  log,
  makeRepo,
  mb,
  packageSpec,
  procStatusKb,
  quick,
  type ResultRow,
  ROOT,
  report,
  resetPeakRss,
  seedDatabase,
  seedUnchangedGithub,
  sizesFlag,
  startServer,
  table,
  waitForScan,
} from "./lib.ts";

const LATENCY_MS = Number(flagValue("--latency") ?? 50);
const SIZES = sizesFlag("--sizes", quick ? "1000" : "1000,10000");
const CHANGE_EVERY = 100;
const NEW_COMMITS = 5;
const FLEET_ROWS = Number(flagValue("--fleet-rows") ?? 0);
const FLEET_LATENCY_MS = Number(flagValue("--fleet-latency") ?? LATENCY_MS);
const BASELINE_PAGES = Number(flagValue("--baseline-pages") ?? 0);
const SCAN_TIMEOUT_MS = 30 * 60_000;

/** A service build to measure: how to start it, and its CLI. */
interface Build {
  label: string;
  /** Absent: `bun src/main.ts` of this checkout. */
  server?: string[];
  cli: string[];
}

function buildOf(label: string, binary: string): Build {
  if (!existsSync(binary)) throw new Error(`${binary}: no such file`);
  return { label, server: [binary], cli: [join(dirname(binary), "patch-tracking-cli")] };
}

const given = flagValue("--binary");
const baselineBinary = flagValue("--baseline-binary");
const BUILDS: Build[] = [
  ...(baselineBinary ? [buildOf("baseline", baselineBinary)] : []),
  given
    ? buildOf("this", given)
    : {
        label: "this (source)",
        cli: [process.execPath, join(ROOT, "cli", "patch-tracking-cli.ts")],
      },
];

interface PlanMeasure {
  wallMs: number;
  rateLimited: number;
  upstreamTotal: number;
  graphql: number;
  giteeRequests: number;
  giteeListings: number;
  giteeBlobs: number;
  pages: number;
  commits: number;
  proposals: number;
  /** Commits the apply check found applying (it ran on the archive). */
  applying: number;
  /** The server's peak RSS during the plan (KiB). */
  peakKb: number;
}

/** A patch the package already carries: it adds a file of its own to the sources. */
function carriedPatch(name: string): string {
  return `From: Packager <packager@example.com>
Subject: [PATCH] ${name}: local file

diff --git a/local.txt b/local.txt
new file mode 100644
--- /dev/null
+++ b/local.txt
@@ -0,0 +1 @@
+${name}
`;
}

async function measureSet(
  size: number,
  build: Build,
): Promise<{ first: PlanMeasure; again: PlanMeasure }> {
  log(`plan: ${size} github trackings, latency ${LATENCY_MS} ms, ${build.label}`);
  const dir = tempDir("pt-bench-plan-");
  const steady = join(dir, "steady");
  const moving = join(dir, "moving");
  const steadyHead = await makeRepo(steady, "steady upstream");
  const movingBase = await makeRepo(moving, "moving upstream");
  const github = startGithubEmulator({ token: TEST_GITHUB_TOKEN, latencyMs: LATENCY_MS });
  const gitee = startGiteeEmulator({ latencyMs: LATENCY_MS });
  const rows: BenchTracking[] = [];
  // The package's archive: the upstream before the new commits (they apply to it).
  const archive = (prefix: string) =>
    gitBytes(["archive", "--format=tar", `--prefix=${prefix}`, movingBase], { cwd: moving }).then(
      (tar) => gzipSync(new Uint8Array(tar)),
    );
  for (let i = 0; i < size; i++) {
    const isChanged = i % CHANGE_EVERY === 0;
    github.addRepo(`bench/u${i}`, isChanged ? moving : steady);
    if (isChanged) {
      // Only trackings with commits to propose make the plan read their package.
      const name = `p${i}`;
      gitee.addRepo(`src-openeuler/${name}`, {
        files: {
          [`${name}.spec`]: packageSpec(name).replace(
            "Source0:",
            "Patch0:         local.patch\nSource0:",
          ),
          "local.patch": carriedPatch(name),
          [`${name}-1.2.3.tar.gz`]: await archive(`${name}-1.2.3/`),
        },
      });
    }
    rows.push({
      version_control: "github",
      scm_repo: `bench/u${i}`,
      scm_branch: "main",
      scm_commit: isChanged ? movingBase : steadyHead,
      repo: `src-openeuler/p${i}`,
      branch: "master",
      enabled: true,
    });
  }
  await seedDatabase(join(dir, "db.sqlite"), rows);
  const server = await startServer(
    dir,
    { GITHUB_API_URL: `"${github.url}"`, GITEE_API_URL: `"${gitee.url}"` },
    build.server,
  );
  // The service's start-up scan (of an unchanged set) would mix its requests in: wait for it.
  for (;;) {
    const body = (await (await server.call("/tracking/status?repo=bench%2Fnone")).json()) as {
      data: { scanner: { scanning: boolean; lastScan: unknown } };
    };
    if (!body.data.scanner.scanning && body.data.scanner.lastScan) break;
    await Bun.sleep(100);
  }
  // After the start-up scan, so the commits are still new when the plan is read.
  await addCommits(moving, NEW_COMMITS, "new upstream work");

  const readPlan = async (): Promise<PlanMeasure> => {
    github.resetLog();
    gitee.resetLog();
    resetPeakRss(server.pid);
    const started = performance.now();
    let offset = 0;
    let total = Number.POSITIVE_INFINITY;
    let pages = 0;
    let commits = 0;
    let proposals = 0;
    let applying = 0;
    while (offset < total) {
      const response = await server.call(`/plan?offset=${offset}&limit=${FLEET_PAGE}`, {
        auth: true,
      });
      const body = (await response.json()) as { code: string; data: FleetPlan };
      if (body.code !== "2001") throw new Error(`GET /plan answered ${body.code}`);
      total = body.data.total;
      offset += body.data.items.length;
      commits += body.data.summary.commits;
      proposals += body.data.summary.proposals;
      for (const item of body.data.items) applying += item.applyCheck?.applies ?? 0;
      pages++;
      if (body.data.items.length === 0) break;
    }
    const wallMs = performance.now() - started;
    const requests = github.requests.filter((request) => !isTokenCheck(request.path));
    return {
      wallMs,
      rateLimited: requests.filter((request) => request.counted).length,
      upstreamTotal: requests.length,
      graphql: requests.filter((request) => request.path.endsWith("/graphql")).length,
      giteeRequests: gitee.requests.length,
      giteeListings: gitee.requests.filter((request) => request.path.endsWith("/contents")).length,
      giteeBlobs: gitee.requests.filter((request) => request.path.includes("/git/blobs/")).length,
      pages,
      commits,
      proposals,
      applying,
      peakKb: procStatusKb(server.pid, "VmHWM"),
    };
  };
  try {
    const first = await readPlan();
    const again = await readPlan();
    return { first, again };
  } finally {
    await server.stop();
    await github.stop();
    await gitee.stop();
  }
}

interface FleetMeasure {
  /** The build whose server planned. */
  build: Build;
  /** Whose CLI read the plan (null: the bench read pages itself). */
  cli: Build | null;
  wallMs: number;
  pages: number;
  /** Trackings planned (all of them, or those of the pages read). */
  planned: number;
  idleKb: number;
  serverPeakKb: number;
  cliPeakKb: number | null;
  graphql: number;
  load: string;
}

/** The build's CLI runs `plan --all --json`, read as fast as it comes: planned and CLI peak. */
async function planAllThroughCli(cliBuild: Build, url: string) {
  const cli = spawn(
    [
      ...cliBuild.cli,
      "plan",
      "--server",
      url,
      "--user",
      "admin",
      "--password",
      TEST_PASSWORD,
      "--all",
      "--json",
    ],
    { stdout: "pipe", stderr: "ignore" },
  );
  // The CLI's own peak, read while it runs (rusage's maxRSS of a child is the largest of all
  // this process's children, the server included).
  let peak = 0;
  const watch = () => {
    peak = Math.max(peak, procStatusKb(cli.pid, "VmHWM") || 0);
  };
  const watching = setInterval(watch, 20);
  // Only the start is kept: `"total": N` comes first.
  let head = "";
  for await (const chunk of cli.stdout) {
    if (head.length < 64) head += new TextDecoder().decode(chunk.subarray(0, 64));
    watch();
  }
  clearInterval(watching);
  if ((await cli.exited) !== 0) throw new Error(`plan --all exited ${cli.exitCode}`);
  return { planned: Number(/"total": (\d+)/.exec(head)?.[1] ?? Number.NaN), cliPeakKb: peak };
}

/**
 * An idle fleet of `size` GitHub trackings (all at their upstream head) planned whole by each of
 * `clis` (`plan --all --json`) in turn, or — `maxPages` > 0 — that many pages of 200 read by the
 * bench as the CLI reads them.
 */
async function measureFleet(
  seeded: string,
  size: number,
  build: Build,
  github: ReturnType<typeof startGithubEmulator>,
  maxPages: number,
  clis: Build[],
): Promise<FleetMeasure[]> {
  const dir = tempDir("pt-bench-plan-fleet-");
  copyFileSync(seeded, join(dir, "db.sqlite"));
  const server = await startServer(dir, { GITHUB_API_URL: `"${github.url}"` }, build.server);
  const measures: FleetMeasure[] = [];
  try {
    const boot = await waitForScan(server, null, SCAN_TIMEOUT_MS);
    log(`${build.label}: boot scan of ${size} done (${boot.trackings} trackings)`);
    await Bun.sleep(2000);
    const idleKb = procStatusKb(server.pid, "VmRSS");
    for (const cli of maxPages > 0 ? [null] : clis) {
      github.resetLog();
      resetPeakRss(server.pid);
      const load = loadAverage();
      const started = performance.now();
      let pages = 0;
      let planned = 0;
      let cliPeakKb: number | null = null;
      if (cli === null) {
        while (pages < maxPages) {
          const response = await server.call(`/plan?offset=${planned}&limit=${FLEET_PAGE}`, {
            auth: true,
          });
          const body = (await response.json()) as { code: string; data: FleetPlan };
          if (body.code !== "2001") throw new Error(`GET /plan answered ${body.code}`);
          planned += body.data.items.length;
          pages++;
          if (body.data.items.length === 0 || planned >= body.data.total) break;
        }
      } else {
        ({ planned, cliPeakKb } = await planAllThroughCli(cli, server.url));
        pages = Math.ceil(size / FLEET_PAGE);
      }
      measures.push({
        build,
        cli,
        wallMs: performance.now() - started,
        pages,
        planned,
        idleKb,
        serverPeakKb: procStatusKb(server.pid, "VmHWM"),
        cliPeakKb,
        graphql: github.requests.filter((request) => request.path.endsWith("/graphql")).length,
        load,
      });
      log(
        `${build.label}: plan read by ${cli?.label ?? "the bench"} in ${fmt((performance.now() - started) / 1000, 1)} s`,
      );
    }
    return measures;
  } finally {
    await server.stop();
  }
}

const rows: ResultRow[] = [];
const HEADER = [
  "plan",
  "rate-limited",
  "upstream req",
  "graphql",
  "gitee req",
  "listings",
  "blobs",
  "pages",
  "wall s",
];
for (const size of SIZES) {
  const changed = Math.ceil(size / CHANGE_EVERY);
  const results = [];
  for (const build of BUILDS) results.push({ build, ...(await measureSet(size, build)) });
  const describe = (label: string, m: PlanMeasure) => [
    label,
    String(m.rateLimited),
    String(m.upstreamTotal),
    String(m.graphql),
    String(m.giteeRequests),
    String(m.giteeListings),
    String(m.giteeBlobs),
    String(m.pages),
    fmt(m.wallMs / 1000, 2),
    fmt(mb(m.peakKb), 0),
  ];
  console.log(`\nGitHub, ${size} trackings (${changed} with ${NEW_COMMITS} new commits)`);
  console.log(
    table([
      [...HEADER, "peak RSS MB"],
      ...results.flatMap(({ build, first, again }) => [
        describe(`${build.label}: first`, first),
        describe(`${build.label}: again`, again),
      ]),
    ]),
  );
  const baseline = 2 * size + 2 * NEW_COMMITS * changed;
  for (const { build, first, again } of results) {
    const name = (what: string) =>
      `plan ${k(size)} github${BUILDS.length > 1 ? ` (${build.label})` : ""}: ${what}`;
    rows.push({
      name: name("rate-limited requests"),
      target: `≤ ${size / 50 + 3 * changed} (1 per 50 + 3 per changed)`,
      measured: `${first.rateLimited} first, ${again.rateLimited} again; ${fmt(first.rateLimited / baseline, 4)}× baseline ${baseline}`,
      pass: first.rateLimited <= size / 50 + 3 * changed,
    });
    // Per changed package: its root listing, then spec, carried patch and archive by blob sha
    // once; afterwards the source cache answers and only the listing is asked again.
    rows.push({
      name: name(`Gitee requests (${changed} packages with commits)`),
      target: `≤ ${4 * changed} first, ≤ ${changed} again; 0 for unchanged`,
      measured: `${first.giteeRequests} first (${first.giteeListings} listings, ${first.giteeBlobs} blobs), ${again.giteeRequests} again (${again.giteeBlobs} blobs); ${first.commits} commits in ${first.proposals} proposals, ${first.applying} applying`,
      pass:
        first.giteeRequests <= 4 * changed &&
        again.giteeRequests <= changed &&
        first.commits === changed * NEW_COMMITS &&
        first.applying === changed * NEW_COMMITS,
    });
    rows.push({
      name: name("wall, server peak RSS"),
      target: "",
      measured: `${fmt(first.wallMs / 1000, 2)} s first, ${fmt(again.wallMs / 1000, 2)} s again (${first.pages} pages); peak RSS ${fmt(mb(first.peakKb), 0)} / ${fmt(mb(again.peakKb), 0)} MB`,
      pass: null,
    });
  }
}

if (FLEET_ROWS > 0) {
  log(`fleet: seeding ${FLEET_ROWS} idle github trackings, latency ${FLEET_LATENCY_MS} ms`);
  const dir = tempDir("pt-bench-plan-fleet-seed-");
  const seeded = await seedUnchangedGithub(dir, FLEET_ROWS, { latencyMs: FLEET_LATENCY_MS });
  const github = seeded.github;
  seeded.rows.length = 0;
  // Everything into the main file before it is copied for each build (no -wal left beside it).
  const file = new Database(join(dir, "db.sqlite"));
  file.run("PRAGMA wal_checkpoint(TRUNCATE)");
  file.close(true);
  const fleet: FleetMeasure[] = [];
  for (const build of BUILDS) {
    const baselineServer = build.label === "baseline";
    // The baseline's server reads pages for the bench (or its own CLI when all pages are asked
    // for); this build's server is read by every build's CLI, for their memory.
    const clis = baselineServer ? [build] : BUILDS;
    const pages = baselineServer ? BASELINE_PAGES : 0;
    fleet.push(
      ...(await measureFleet(join(dir, "db.sqlite"), FLEET_ROWS, build, github, pages, clis)),
    );
  }
  await github.stop();
  console.log(`\nIdle fleet, ${FLEET_ROWS} GitHub trackings, ${FLEET_LATENCY_MS} ms latency`);
  console.log(
    table([
      [
        "server",
        "read by",
        "planned",
        "pages",
        "graphql",
        "wall s",
        "s/page",
        "idle MB",
        "server peak MB",
        "CLI peak MB",
        "load",
      ],
      ...fleet.map((m) => [
        m.build.label,
        m.cli ? `${m.cli.label} CLI` : "bench pages",
        String(m.planned),
        String(m.pages),
        String(m.graphql),
        fmt(m.wallMs / 1000, 1),
        fmt(m.wallMs / 1000 / m.pages, 3),
        fmt(mb(m.idleKb), 0),
        fmt(mb(m.serverPeakKb), 0),
        m.cliPeakKb === null ? "–" : fmt(mb(m.cliPeakKb), 0),
        m.load,
      ]),
    ]),
  );
  for (const m of fleet) {
    rows.push({
      name: `plan ${k(FLEET_ROWS)} idle fleet, ${m.build.label} server, read by ${m.cli ? `${m.cli.label} CLI` : "the bench"}`,
      target: "",
      measured: `server peak ${fmt(mb(m.serverPeakKb), 0)} MB (idle ${fmt(mb(m.idleKb), 0)} MB)${m.cliPeakKb === null ? "" : `, CLI peak ${fmt(mb(m.cliPeakKb), 0)} MB`}; ${m.planned} planned in ${fmt(m.wallMs / 1000, 1)} s, ${m.pages} pages, ${m.graphql} GraphQL; load ${m.load}`,
      pass: null,
    });
  }
}
report("plan-cost", rows);
process.exit(0);
