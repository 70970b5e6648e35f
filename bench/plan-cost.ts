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
 * Usage: `bun bench/plan-cost.ts [--quick] [--latency MS] [--sizes 1000,10000]`
 */
import { join } from "node:path";
import { gzipSync } from "bun";
import { FLEET_PAGE } from "../cli/commands/fleet-plan.ts";
import { gitBytes } from "../src/git.ts";
import type { FleetPlan } from "../src/scan/fleet-plan.ts";
import { startGiteeEmulator } from "../tests/emulators/gitee.ts";
import { startGithubEmulator } from "../tests/emulators/github.ts";
import { TEST_GITHUB_TOKEN } from "../tests/helpers/settings.ts";
import { tempDir } from "../tests/helpers/temp.ts";
import {
  addCommits,
  type BenchTracking,
  flagValue,
  fmt,
  isTokenCheck,
  k,
  log,
  makeRepo,
  packageSpec,
  quick,
  type ResultRow,
  report,
  seedDatabase,
  sizesFlag,
  startServer,
  table,
} from "./lib.ts";

const LATENCY_MS = Number(flagValue("--latency") ?? 50);
const SIZES = sizesFlag("--sizes", quick ? "1000" : "1000,10000");
const CHANGE_EVERY = 100;
const NEW_COMMITS = 5;

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

async function measureSet(size: number): Promise<{ first: PlanMeasure; again: PlanMeasure }> {
  log(`plan: ${size} github trackings, latency ${LATENCY_MS} ms`);
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
  const server = await startServer(dir, {
    GITHUB_API_URL: `"${github.url}"`,
    GITEE_API_URL: `"${gitee.url}"`,
  });
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
  const { first, again } = await measureSet(size);
  const changed = Math.ceil(size / CHANGE_EVERY);
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
  ];
  console.log(`\nGitHub, ${size} trackings (${changed} with ${NEW_COMMITS} new commits)`);
  console.log(table([HEADER, describe("first", first), describe("again", again)]));
  const baseline = 2 * size + 2 * NEW_COMMITS * changed;
  rows.push({
    name: `plan ${k(size)} github: rate-limited requests`,
    target: `≤ ${size / 50 + 3 * changed} (1 per 50 + 3 per changed)`,
    measured: `${first.rateLimited} first, ${again.rateLimited} again; ${fmt(first.rateLimited / baseline, 4)}× baseline ${baseline}`,
    pass: first.rateLimited <= size / 50 + 3 * changed,
  });
  // Per changed package: its root listing, then spec, carried patch and archive by blob sha
  // once; afterwards the source cache answers and only the listing is asked again.
  rows.push({
    name: `plan ${k(size)} github: Gitee requests (${changed} packages with commits)`,
    target: `≤ ${4 * changed} first, ≤ ${changed} again; 0 for unchanged`,
    measured: `${first.giteeRequests} first (${first.giteeListings} listings, ${first.giteeBlobs} blobs), ${again.giteeRequests} again (${again.giteeBlobs} blobs); ${first.commits} commits in ${first.proposals} proposals, ${first.applying} applying`,
    pass:
      first.giteeRequests <= 4 * changed &&
      again.giteeRequests <= changed &&
      first.commits === changed * NEW_COMMITS &&
      first.applying === changed * NEW_COMMITS,
  });
  rows.push({
    name: `plan ${k(size)} github: wall`,
    target: "",
    measured: `${fmt(first.wallMs / 1000, 2)} s first, ${fmt(again.wallMs / 1000, 2)} s again (${first.pages} pages)`,
    pass: null,
  });
}
report("plan-cost", rows);
process.exit(0);
