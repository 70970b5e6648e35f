/**
 * Forge outages end to end: the scanner against the GitHub and Gitee emulators while they are
 * stopped and restarted (refused connections), black-holed (connections that never answer),
 * unresolvable (DNS) or answering 5xx bursts. Each scenario measures the time to detect the
 * outage, the requests sent during it (bounded by the probe schedule, not by the number of
 * trackings), the time to recover, the statuses shown, and that nothing is duplicated.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { startGitHttpServer } from "../bench/git-http-server.ts";
import { openRunFor, runsFor } from "../src/db/runs.ts";
import { getStatus } from "../src/db/status.ts";
import { setScmCommit, upsertTracking } from "../src/db/trackings.ts";
import { GiteeForge } from "../src/forge/gitee.ts";
import type { Forge } from "../src/forge/types.ts";
import { silentLogger } from "../src/log.ts";
import { Scanner } from "../src/scan/scheduler.ts";
import { createGitUpstream } from "../src/scan/upstream/git.ts";
import { createGithubUpstream } from "../src/scan/upstream/github.ts";
import type { Upstream } from "../src/scan/upstream/types.ts";
import { type GithubEmulator, startGithubEmulator } from "./emulators/github.ts";
import { startOutageSwitch } from "./helpers/outage-switch.ts";
import { TEST_GITHUB_TOKEN } from "./helpers/settings.ts";
import { tempDir } from "./helpers/temp.ts";
import { waitFor } from "./helpers/wait.ts";
import { makeWorld, packageSpec, UPSTREAM } from "./helpers/world.ts";

const world = await makeWorld({ giteeTimeoutMs: 1000 });
// Something to propose for trackings set back to `world.base`.
await world.upstream.commit("Fix a bug", { "src/a.c": "int a = 3;\n" });
const PROBE = { threshold: 3, probeBaseMs: 300, probeMaxMs: 1200 };
const measured: string[] = [];

/** A GitHub upstream that counts every attempt it makes (answered or not). */
function countingGithub(baseUrl: string, timeoutMs = 2000) {
  const counter = { attempts: 0 };
  const upstream = createGithubUpstream({
    baseUrl,
    token: TEST_GITHUB_TOKEN,
    log: silentLogger,
    timeoutMs,
    retryAfterBaseValue: 5,
    onResponse: () => {
      counter.attempts++;
    },
  });
  return { upstream, counter };
}

function scannerWith(github: Upstream, forge: Forge = world.forge, threshold = PROBE.threshold) {
  return new Scanner({
    // A failed run may be tried again at once: the breaker, not the run's backoff, is under test.
    runBackoff: () => 0,
    db: world.db,
    log: silentLogger,
    forge,
    upstreams: { github, git: github },
    intervalSeconds: 3600,
    concurrency: 4,
    retryBaseMs: 60_000,
    breaker: { ...PROBE, threshold },
  });
}

/** Only the named packages are enabled; each is tracked from the upstream's current head. */
async function onlyPackages(prefix: string, count: number, scmRepo = UPSTREAM): Promise<string[]> {
  world.db.run("UPDATE tracking SET enabled = 0");
  const head = await world.upstream.head();
  const names = Array.from({ length: count }, (_, i) => `${prefix}${i}`);
  for (const name of names) {
    world.gitee.addRepo(`src-openeuler/${name}`, {
      files: { [`${name}.spec`]: packageSpec(name) },
    });
    upsertTracking(world.db, {
      version_control: "github",
      scm_repo: scmRepo,
      scm_branch: "main",
      scm_commit: head,
      repo: `src-openeuler/${name}`,
      branch: "master",
      enabled: true,
    });
  }
  return names;
}

function outcomes(names: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const name of names) {
    const outcome = getStatus(world.db, `src-openeuler/${name}`, "master")?.lastOutcome ?? "none";
    counts[outcome] = (counts[outcome] ?? 0) + 1;
  }
  return counts;
}

function allScannedSince(names: string[], since: string, outcome = "unchanged"): boolean {
  return names.every((name) => {
    const status = getStatus(world.db, `src-openeuler/${name}`, "master");
    return status?.lastOutcome === outcome && (status.lastScanAt ?? "") >= since;
  });
}

function openBreaker(scanner: Scanner, forge: string) {
  return scanner.state().breakers.find((view) => view.forge === forge && view.state === "open");
}

/** No probe of the open breaker `view` is on its way: the next one is still to come. */
function betweenProbes(view: ReturnType<typeof openBreaker>): boolean {
  return view?.nextProbeAt != null && Date.parse(view.nextProbeAt) > Date.now();
}

let restarted: GithubEmulator | null = null;
afterAll(async () => {
  await restarted?.stop();
});

describe("GitHub outages", () => {
  test("emulator stopped (connection refused): detected in a pass, probes only, recovered after restart", async () => {
    const names = await onlyPackages("refused", 20);
    let emulator = startGithubEmulator({
      repos: { [UPSTREAM]: world.upstream.dir },
      token: TEST_GITHUB_TOKEN,
    });
    const port = Number(new URL(emulator.url).port);
    const { upstream, counter } = countingGithub(emulator.url);
    const scanner = scannerWith(upstream);
    expect((await scanner.scanAll()).outcomes).toEqual({ unchanged: 20 });

    await emulator.stop();
    counter.attempts = 0;
    const down = Date.now();
    const first = await scanner.scanAll();
    const detectMs = Date.now() - down;
    const view = openBreaker(scanner, "github");
    expect(view?.lastError).toContain("ECONNREFUSED");
    // The trackings whose failures revealed the outage scanned as `failed`, then were held too.
    expect(first.outcomes.waiting).toBeGreaterThanOrEqual(20 - (PROBE.threshold - 1));
    expect(outcomes(names)).toEqual({ waiting: 20 });
    const status = getStatus(world.db, "src-openeuler/refused19", "master");
    expect(status?.lastOutcome).toBe("waiting");
    expect(status?.lastError).toMatch(/^github unreachable since \d{4}-/);
    const detectionAttempts = counter.attempts;
    // A second pass during the outage sends nothing: every tracking waits.
    expect((await scanner.scanAll()).outcomes).toEqual({ waiting: 20 });
    expect(counter.attempts).toBe(detectionAttempts);

    await Bun.sleep(2500);
    const probes = scanner.state().breakers.find((b) => b.forge === "github")?.failedProbes ?? 0;
    expect(probes).toBeGreaterThanOrEqual(2);
    const outageAttempts = counter.attempts;
    // Detection (one batched query, one retry at most) plus one request per probe.
    expect(outageAttempts).toBeLessThanOrEqual(detectionAttempts + probes + 1);
    expect(outageAttempts).toBeLessThan(names.length);

    emulator = startGithubEmulator({
      repos: { [UPSTREAM]: world.upstream.dir },
      token: TEST_GITHUB_TOKEN,
      port,
    });
    restarted = emulator;
    const up = Date.now();
    const since = new Date(up).toISOString();
    // The held trackings come back by themselves, all of them.
    await waitFor(() => allScannedSince(names, since), 10_000, "recovery");
    const recoverMs = Date.now() - up;
    expect(openBreaker(scanner, "github")).toBeUndefined();
    await scanner.stop();
    measured.push(
      `refused: detected in ${detectMs} ms, ${outageAttempts} requests during the outage (${probes} probes, 20 trackings), recovered in ${recoverMs} ms`,
    );
  });

  test("black hole (connections accepted, never answered): detected within the request timeout", async () => {
    const names = await onlyPackages("hole", 20);
    const relay = await startOutageSwitch(world.github.url);
    const timeoutMs = 500;
    const { upstream, counter } = countingGithub(relay.url, timeoutMs);
    const scanner = scannerWith(upstream);
    try {
      expect((await scanner.scanAll()).outcomes).toEqual({ unchanged: 20 });
      await relay.set("blackhole");
      relay.resetCount();
      counter.attempts = 0;
      const down = Date.now();
      await scanner.scanAll();
      const detectMs = Date.now() - down;
      expect(openBreaker(scanner, "github")?.lastError).toContain("timed out");
      // Timed-out attempts are not repeated: the first pass waits one timeout, not four.
      expect(detectMs).toBeLessThan(timeoutMs * 3);
      await Bun.sleep(2500);
      const probes = scanner.state().breakers.find((b) => b.forge === "github")?.failedProbes ?? 0;
      const connections = relay.connections;
      expect(connections).toBeLessThanOrEqual(2 + probes);
      await relay.set("up");
      const up = Date.now();
      const since = new Date(up).toISOString();
      const waited = names.filter(
        (name) => getStatus(world.db, `src-openeuler/${name}`, "master")?.lastOutcome === "waiting",
      );
      expect(waited).toHaveLength(20);
      await waitFor(() => allScannedSince(waited, since), 10_000, "recovery");
      measured.push(
        `black hole: detected in ${detectMs} ms (timeout ${timeoutMs} ms), ${connections} connections during the outage (${probes} probes), recovered in ${Date.now() - up} ms`,
      );
    } finally {
      await scanner.stop();
      await relay.stop();
    }
  });

  test("unresolvable host (DNS failure): the breaker opens and only probes go out", async () => {
    await onlyPackages("dns", 12);
    const { upstream, counter } = countingGithub("http://github-outage.invalid");
    const scanner = scannerWith(upstream);
    const down = Date.now();
    const first = await scanner.scanAll();
    const detectMs = Date.now() - down;
    try {
      expect(openBreaker(scanner, "github")?.lastError).toMatch(/ENOTFOUND|resolve/i);
      expect(first.outcomes.waiting).toBeGreaterThanOrEqual(10);
      await Bun.sleep(1500);
      const probes = scanner.state().breakers.find((b) => b.forge === "github")?.failedProbes ?? 0;
      expect(counter.attempts).toBeLessThanOrEqual(2 + probes);
      measured.push(
        `dns: detected in ${detectMs} ms, ${counter.attempts} requests in ${Date.now() - down} ms (${probes} probes, 12 trackings)`,
      );
    } finally {
      await scanner.stop();
    }
  });

  test("a 5xx burst from several trackings opens it; the first good answer closes it", async () => {
    const names = await onlyPackages("burst", 8);
    // Changed heads, so each tracking asks for its own commits (where the 5xx answers come).
    for (const name of names) setScmCommit(world.db, `src-openeuler/${name}`, "master", world.base);
    const scanner = scannerWith(
      createGithubUpstream({
        baseUrl: world.github.url,
        token: TEST_GITHUB_TOKEN,
        log: silentLogger,
        timeoutMs: 2000,
        retryAfterBaseValue: 5,
      }),
    );
    // Every endpoint fails, as when GitHub itself has an incident.
    world.github.fault({}, { kind: "5xx", status: 503 });
    world.github.resetLog();
    try {
      const down = Date.now();
      const first = await scanner.scanAll();
      const detectMs = Date.now() - down;
      expect(openBreaker(scanner, "github")?.lastError).toContain("503");
      expect(first.outcomes.waiting).toBeGreaterThanOrEqual(1);
      expect(outcomes(names)).toEqual({ waiting: 8 });
      // The batched heads query (three attempts) failed for everyone; the trackings then fail
      // on its answer without a request of their own, until the breaker opens.
      const burst = world.github.requests.length;
      expect(burst).toBeLessThanOrEqual(3 + 1);
      world.github.clearFaults();
      const up = Date.now();
      const since = new Date(up).toISOString();
      const waited = names.filter(
        (name) => getStatus(world.db, `src-openeuler/${name}`, "master")?.lastOutcome === "waiting",
      );
      // Proposals are written on recovery: several Gitee calls each, slower on a busy machine.
      await waitFor(() => allScannedSince(waited, since, "proposed"), 45_000, "recovery");
      measured.push(
        `5xx burst: detected in ${detectMs} ms, ${burst} requests for 8 trackings, recovered (proposals written) in ${Date.now() - up} ms`,
      );
      // Nothing twice: one proposal per recovered tracking.
      for (const name of waited) {
        expect(runsFor(world.db, `src-openeuler/${name}`, "master")).toHaveLength(1);
        expect(world.gitee.repo(`src-openeuler/${name}`).pulls).toHaveLength(1);
      }
    } finally {
      world.github.clearFaults();
      await scanner.stop();
    }
  });
});

describe("git host outages", () => {
  test("a git host that refuses connections opens its own breaker; other hosts go on", async () => {
    world.db.run("UPDATE tracking SET enabled = 0");
    const head = await world.upstream.head();
    const http = startGitHttpServer({ resolve: () => `${world.upstream.dir}/.git` });
    const relay = await startOutageSwitch(http.origin);
    const git = createGitUpstream({
      basePath: tempDir(),
      log: silentLogger,
      timeoutMs: 20_000,
      lookupTimeoutMs: 2000,
      allowProtocols: "http:file",
    });
    const scanner = new Scanner({
      db: world.db,
      log: silentLogger,
      forge: world.forge,
      upstreams: { github: world.deps.upstreams.github, git },
      intervalSeconds: 3600,
      concurrency: 4,
      breaker: PROBE,
    });
    const remote = ["ga", "gb", "gc", "gd"];
    const all = [...remote, "glocal"];
    for (const name of all) {
      world.gitee.addRepo(`src-openeuler/${name}`, {
        files: { [`${name}.spec`]: packageSpec(name) },
      });
      upsertTracking(world.db, {
        version_control: "git",
        scm_repo:
          name === "glocal" ? `file://${world.upstream.dir}` : `${relay.url}/up/${name}.git`,
        scm_branch: "main",
        scm_commit: head,
        repo: `src-openeuler/${name}`,
        branch: "master",
        enabled: true,
      });
    }
    const host = `127.0.0.1:${relay.port}`;
    try {
      expect((await scanner.scanAll()).outcomes).toEqual({ unchanged: 5 });
      await relay.set("refuse");
      const before = git.stats.lsRemotes;
      const down = Date.now();
      await scanner.scanAll();
      const detectMs = Date.now() - down;
      expect(openBreaker(scanner, host)?.lastError).toMatch(
        /refused|failed to connect|couldn't connect/i,
      );
      expect(openBreaker(scanner, "local")).toBeUndefined();
      expect(outcomes(remote)).toEqual({ waiting: 4 });
      expect(outcomes(["glocal"])).toEqual({ unchanged: 1 });
      // Counted at a quiet moment, between two probes, so a probe on its way (its look-up
      // counted, its failure not yet) cannot blur the figures.
      let probes = 0;
      let lookups = 0;
      await waitFor(
        () => {
          const first = openBreaker(scanner, host);
          const counted = git.stats.lsRemotes - before;
          const second = openBreaker(scanner, host);
          const quiet =
            first?.failedProbes === second?.failedProbes &&
            betweenProbes(first) &&
            betweenProbes(second);
          if (!quiet || (second?.failedProbes ?? 0) < 2) return false;
          probes = second?.failedProbes ?? 0;
          lookups = counted;
          return true;
        },
        15_000,
        "two failed probes",
      );
      // The pass: one look-up for the local URL, one that found the host dead (its other URLs
      // shared the answer). Then one per probe, nothing else.
      expect(lookups).toBe(2 + probes);
      await relay.set("up");
      const up = Date.now();
      const since = new Date(up).toISOString();
      await waitFor(() => allScannedSince(remote, since), 15_000, "recovery");
      measured.push(
        `git host: detected in ${detectMs} ms, ${lookups} ls-remote during the outage (${probes} probes, 4 URLs), recovered in ${Date.now() - up} ms`,
      );
    } finally {
      await scanner.stop();
      await relay.stop();
      await http.stop();
    }
  });
});

describe("one broken tracking is not an outage", () => {
  test("a deleted repository, a renamed branch and a repository answering 500 leave the breaker closed", async () => {
    const names = await onlyPackages("healthy", 6);
    const head = await world.upstream.head();
    await world.upstream.branch("old-name", head);
    world.github.addRepo("up/flaky", world.upstream.dir);
    const broken: [string, string, string, string | null][] = [
      ["deleted", "up/deleted", "main", head],
      ["renamed", UPSTREAM, "old-name", head],
      ["flaky", "up/flaky", "main", world.base],
    ];
    for (const [name, repo, branch, commit] of broken) {
      world.gitee.addRepo(`src-openeuler/${name}`, { files: { [`${name}.spec`]: "Name: x\n" } });
      upsertTracking(world.db, {
        version_control: "github",
        scm_repo: repo,
        scm_branch: branch,
        scm_commit: commit,
        repo: `src-openeuler/${name}`,
        branch: "master",
        enabled: true,
      });
    }
    await world.github.renameBranch(UPSTREAM, "old-name", "new-name");
    world.github.fault({ path: "/repos/up/flaky/compare/" }, { kind: "5xx", status: 500 });
    const scanner = scannerWith(world.deps.upstreams.github);
    try {
      for (let pass = 0; pass < 4; pass++) {
        const summary = await scanner.scanAll();
        expect(openBreaker(scanner, "github")).toBeUndefined();
        if (pass === 0) {
          expect(summary.outcomes).toEqual({ unchanged: 6, failed: 3 });
        }
        // The transient failure backs off (not rescanned each pass); the two that need an
        // operator fail again each pass, without a request storm and without opening anything.
        else expect(summary.outcomes).toEqual({ unchanged: 6, failed: 2 });
      }
      expect(outcomes(names)).toEqual({ unchanged: 6 });
      const reason = (name: string) => getStatus(world.db, `src-openeuler/${name}`, "master");
      expect(reason("deleted")?.lastError).toContain("not found");
      expect(reason("renamed")?.lastError).toContain("renamed to new-name");
      expect(reason("flaky")?.lastError).toContain("500");
      // A single tracking failing again and again on its own does not open it either.
      for (let i = 0; i < 5; i++) await scanner.scanOne("src-openeuler/flaky", "master");
      expect(openBreaker(scanner, "github")).toBeUndefined();
      expect(reason("flaky")?.lastOutcome).toBe("failed");
    } finally {
      world.github.clearFaults();
      await scanner.stop();
    }
  });
});

describe("Gitee outage during a publish run (exactly once)", () => {
  const steps: [string, string, RegExp][] = [
    // The work branch, its patch files and the spec: one commit.
    ["files commit", "POST", /\/commits$/],
    ["issue", "POST", /^\/repos\/src-openeuler\/issues$/],
    ["pull request", "POST", /\/pulls$/],
  ];
  let scenario = 0;
  for (const [step, method, path] of steps) {
    test(`the forge goes down at the ${step} step and comes back: one proposal`, async () => {
      const [name] = await onlyPackages(`down${++scenario}-`, 1);
      const tracking = `src-openeuler/${name}`;
      setScmCommit(world.db, tracking, "master", world.base);
      const relay = await startOutageSwitch(world.gitee.url);
      const forge = new GiteeForge({
        baseUrl: relay.url,
        token: world.gitee.token,
        log: silentLogger,
        timeoutMs: 1000,
        backoffMs: 5,
        retries: 2,
      });
      const scanner = scannerWith(world.deps.upstreams.github, forge, 2);
      // The step's request is held long enough for the forge to die under it.
      world.gitee.fault({ method, path, times: 1 }, { delayMs: 300 });
      const before = world.gitee.requests.length;
      const scan = scanner.scanOne(tracking, "master");
      await waitFor(
        () =>
          world.gitee.requests
            .slice(before)
            .some((request) => request.method === method && path.test(request.path)),
        10_000,
        `the ${step} request`,
      );
      await relay.set("refuse");
      const result = await scan;

      expect(["failed", "waiting"]).toContain(result.outcome);
      expect(openRunFor(world.db, tracking, "master")).not.toBeNull();
      // Scans during the outage: the breaker opens, the run stays journaled and waits.
      await scanner.scanOne(tracking, "master");
      await waitFor(() => openBreaker(scanner, "gitee") !== undefined, 5000, "gitee breaker open");
      expect((await scanner.scanOne(tracking, "master")).outcome).toBe("waiting");
      // The held request is done by now (or never will be): the forge did what it did, then
      // went away. (A request the forge is still working on when we look is a different race.)
      await Bun.sleep(400);
      await relay.set("up");
      await waitFor(
        () => openRunFor(world.db, tracking, "master") === null,
        15_000,
        "the run resumed and finished",
      );
      await scanner.stop();
      await relay.stop();
      world.gitee.clearFaults();
      const repo = world.gitee.repo(tracking);
      expect(
        Object.keys(repo.branches).filter((b) => b.startsWith("patch-tracking/")),
      ).toHaveLength(1);
      expect(repo.issues).toHaveLength(1);
      expect(repo.pulls).toHaveLength(1);
      expect(runsFor(world.db, tracking, "master")).toHaveLength(1);
      expect(getStatus(world.db, tracking, "master")?.lastOutcome).toBe("proposed");
    });
  }
});

test("measured", () => {
  console.log(`forge outages:\n  ${measured.join("\n  ")}`);
  expect(measured.length).toBe(5);
});
