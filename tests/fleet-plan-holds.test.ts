/**
 * The fleet plan and the dry run respect the scanner's circuit breakers and rate-limit parking:
 * a forge a scan would not ask now (unreachable, rate limited) is not asked by a plan either; its
 * trackings are reported "not checked" with the scan's reason (GitHub, a git host, Gitee). Against the emulators behind a
 * real TCP relay that refuses (to open the breaker, as tests/forge-outage.test.ts does) and then
 * black-holes, counting every connection: the plan opens none. And still nothing is written.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { startGitHttpServer } from "../bench/git-http-server.ts";
import { itemLine, summaryLine } from "../cli/commands/fleet-plan.ts";
import { upsertTracking } from "../src/db/trackings.ts";
import { GiteeForge } from "../src/forge/gitee.ts";
import type { Forge } from "../src/forge/types.ts";
import { silentLogger } from "../src/log.ts";
import { type FleetPlanDeps, planFleet } from "../src/scan/fleet-plan.ts";
import { planTracking } from "../src/scan/plan.ts";
import { planReads } from "../src/scan/plan-reads.ts";
import { Scanner } from "../src/scan/scheduler.ts";
import { createGitUpstream } from "../src/scan/upstream/git.ts";
import { createGithubUpstream } from "../src/scan/upstream/github.ts";
import type { Upstream } from "../src/scan/upstream/types.ts";
import { cli } from "./helpers/cli.ts";
import { databaseSnapshot } from "./helpers/db-snapshot.ts";
import { startEngineServer } from "./helpers/engine-server.ts";
import { type OutageSwitch, startOutageSwitch } from "./helpers/outage-switch.ts";
import { basicAuth, TEST_GITHUB_TOKEN } from "./helpers/settings.ts";
import { tempDir } from "./helpers/temp.ts";
import { makeWorld, packageSpec, UPSTREAM } from "./helpers/world.ts";

const world = await makeWorld({ giteeTimeoutMs: 1000 });
// Started before any tracking exists: its boot scan is of nothing.
const service = await startEngineServer(world);
// Something to propose for every tracking set at `world.base`.
await world.upstream.commit("Fix a bug", { "src/a.c": "int a = 3;\n" });
const git = createGitUpstream({
  basePath: tempDir(),
  log: silentLogger,
  timeoutMs: 20_000,
  lookupTimeoutMs: 2000,
  allowProtocols: "http:file",
});
/** No probe within a test: the only connections a relay sees would be the plan's. */
const NO_PROBE = { threshold: 3, probeBaseMs: 600_000, probeMaxMs: 600_000 };
const cleanup: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const step of cleanup) await step();
});

/** Only these packages are enabled, each tracked from `world.base` (one new commit). */
function onlyPackages(prefix: string, count: number, db = world.db): string[] {
  db.run("UPDATE tracking SET enabled = 0");
  const names = Array.from({ length: count }, (_, i) => `${prefix}${i}`);
  for (const name of names) {
    world.gitee.addRepo(`src-openeuler/${name}`, {
      files: { [`${name}.spec`]: packageSpec(name) },
    });
    upsertTracking(db, {
      version_control: "github",
      scm_repo: UPSTREAM,
      scm_branch: "main",
      scm_commit: world.base,
      repo: `src-openeuler/${name}`,
      branch: "master",
      enabled: true,
    });
  }
  return names;
}

function scannerWith(upstreams: Record<"github" | "git", Upstream>, forge: Forge = world.forge) {
  const scanner = new Scanner({
    db: world.db,
    log: silentLogger,
    forge,
    upstreams,
    intervalSeconds: 3600,
    concurrency: 2,
    breaker: NO_PROBE,
  });
  cleanup.push(() => scanner.stop());
  return scanner;
}

function fleet(
  scanner: Scanner,
  upstreams: Record<"github" | "git", Upstream>,
  forge: Forge = world.forge,
): FleetPlanDeps {
  return {
    planDeps: () => ({ db: world.db, forge: planReads(forge, null), upstreams, holds: scanner }),
  };
}

async function relayTo(url: string): Promise<OutageSwitch> {
  const relay = await startOutageSwitch(url);
  cleanup.push(() => relay.stop());
  return relay;
}

describe("the plan asks no forge a scan would not ask", () => {
  test("GitHub unreachable (breaker open): no connection to it, its trackings not checked with the reason; another forge is planned", async () => {
    const names = onlyPackages("gh", 4);
    const relay = await relayTo(world.github.url);
    const github = createGithubUpstream({
      baseUrl: relay.url,
      token: TEST_GITHUB_TOKEN,
      log: silentLogger,
      timeoutMs: 2000,
      retryAfterBaseValue: 5,
    });
    const upstreams = { github, git };
    const scanner = scannerWith(upstreams);
    await relay.set("refuse");
    await scanner.scanAll();
    const breaker = scanner.state().breakers.find((view) => view.forge === "github");
    expect(breaker?.state).toBe("open");
    // A git upstream on this machine: its own forge ("local"), whose breaker is closed.
    world.gitee.addRepo("src-openeuler/local", {
      files: { "local.spec": packageSpec("local") },
    });
    upsertTracking(world.db, {
      version_control: "git",
      scm_repo: `file://${world.upstream.dir}`,
      scm_branch: "main",
      scm_commit: world.base,
      repo: "src-openeuler/local",
      branch: "master",
      enabled: true,
    });

    // Connections are counted from here; a black hole would also hang any request sent.
    await relay.set("blackhole");
    relay.resetCount();
    world.gitee.resetLog();
    const before = databaseSnapshot(world.db);
    const plan = await planFleet(fleet(scanner, upstreams), {});
    expect(relay.connections).toBe(0);
    const reason = `github unreachable since ${breaker?.since}`;
    expect(reason).toMatch(/^github unreachable since \d{4}-\d\d-\d\dT/);
    for (const name of names) {
      expect(plan.items.find((item) => item.repo === `src-openeuler/${name}`)).toMatchObject({
        state: "not-checked",
        reason,
        newCommits: 0,
        proposal: null,
      });
    }
    expect(plan.items.find((item) => item.repo === "src-openeuler/local")).toMatchObject({
      state: "would-propose",
      proposed: 1,
    });
    expect(plan.summary).toMatchObject({ trackings: 5, notChecked: 4, failures: 0, commits: 1 });
    expect(summaryLine(plan.summary)).toEndWith(", 0 failures, 4 not checked");
    const held = plan.items.find((item) => item.repo === "src-openeuler/gh0");
    expect(held && itemLine(held)).toBe(`src-openeuler/gh0@master: not checked: ${reason}`);

    // The dry run of one tracking, likewise.
    const dry = await planTracking(
      fleet(scanner, upstreams).planDeps(),
      "src-openeuler/gh1",
      "master",
    );
    expect(dry).toMatchObject({ state: "not-checked", reason, upstreamHead: null, commits: [] });
    expect(relay.connections).toBe(0);
    expect(world.gitee.writes()).toEqual([]);
    expect(databaseSnapshot(world.db)).toBe(before);
  }, 60_000);

  test("a git host unreachable (its breaker open): no connection to it, its URLs not checked; the same upstream over file:// is planned", async () => {
    world.db.run("UPDATE tracking SET enabled = 0");
    const http = startGitHttpServer({ resolve: () => `${world.upstream.dir}/.git` });
    cleanup.push(() => http.stop());
    const relay = await relayTo(http.origin);
    const host = `127.0.0.1:${relay.port}`;
    const remote = ["ga", "gb", "gc"];
    for (const name of [...remote, "gfile"]) {
      world.gitee.addRepo(`src-openeuler/${name}`, {
        files: { [`${name}.spec`]: packageSpec(name) },
      });
      upsertTracking(world.db, {
        version_control: "git",
        scm_repo: name === "gfile" ? `file://${world.upstream.dir}` : `${relay.url}/up/${name}.git`,
        scm_branch: "main",
        scm_commit: world.base,
        repo: `src-openeuler/${name}`,
        branch: "master",
        // Enabled after the outage is detected: its scan would propose.
        enabled: name !== "gfile",
      });
    }
    const upstreams = { github: world.deps.upstreams.github, git };
    const scanner = scannerWith(upstreams);
    await relay.set("refuse");
    await scanner.scanAll();
    const breaker = scanner.state().breakers.find((view) => view.forge === host);
    expect(breaker?.state).toBe("open");
    world.db.run("UPDATE tracking SET enabled = 1 WHERE repo = 'src-openeuler/gfile'");

    await relay.set("blackhole");
    relay.resetCount();
    const lookups = git.stats.lsRemotes;
    world.gitee.resetLog();
    const before = databaseSnapshot(world.db);
    const plan = await planFleet(fleet(scanner, upstreams), {});
    expect(relay.connections).toBe(0);
    // Only the file:// URL was looked up.
    expect(git.stats.lsRemotes - lookups).toBe(1);
    const reason = `${host} unreachable since ${breaker?.since}`;
    expect(plan.items.map((item) => [item.repo.split("/")[1], item.state, item.reason])).toEqual([
      ["ga", "not-checked", reason],
      ["gb", "not-checked", reason],
      ["gc", "not-checked", reason],
      ["gfile", "would-propose", undefined],
    ]);
    expect(world.gitee.writes()).toEqual([]);
    expect(databaseSnapshot(world.db)).toBe(before);
  }, 60_000);

  test("Gitee unreachable (breaker open): the upstream is read, Gitee is not; not checked with the reason", async () => {
    const names = onlyPackages("gd", 6);
    const relay = await relayTo(world.gitee.url);
    const forge = new GiteeForge({
      baseUrl: relay.url,
      token: world.gitee.token,
      log: silentLogger,
      timeoutMs: 1000,
      backoffMs: 5,
      retries: 2,
    });
    const scanner = scannerWith(world.deps.upstreams, forge);
    await relay.set("refuse");
    // The first scans journal their runs and fail at Gitee until its breaker opens; the rest wait.
    await scanner.scanAll();
    const breaker = scanner.state().breakers.find((view) => view.forge === "gitee");
    expect(breaker?.state).toBe("open");

    await relay.set("blackhole");
    relay.resetCount();
    world.gitee.resetLog();
    world.github.resetLog();
    const before = databaseSnapshot(world.db);
    const plan = await planFleet(fleet(scanner, world.deps.upstreams, forge), {});
    expect(relay.connections).toBe(0);
    expect(world.gitee.requests).toEqual([]);
    // The upstream was asked: the new commit is known.
    expect(world.github.requests.length).toBeGreaterThan(0);
    const reason = `gitee unreachable since ${breaker?.since}`;
    const states = plan.items.map((item) => item.state);
    expect(states.every((state) => state === "not-checked" || state === "open-run")).toBe(true);
    const waiting = plan.items.filter((item) => item.state === "not-checked");
    expect(waiting.length).toBeGreaterThanOrEqual(1);
    expect(plan.items).toHaveLength(names.length);
    for (const item of waiting) {
      expect(item).toMatchObject({ reason, newCommits: 1, proposed: 0, proposal: null });
      expect(itemLine(item)).toBe(
        `${item.repo}@master: 1 new commit, not checked: gitee unreachable since ${breaker?.since}`,
      );
    }
    expect(databaseSnapshot(world.db)).toBe(before);
  }, 60_000);

  test("GitHub rate limited (parked), through the service: GET /plan and plan --all send GitHub nothing and say until when", async () => {
    // The service's own database.
    const names = onlyPackages("rl", 3, service.db);
    const resetAt = Date.now() + 3_600_000;
    world.github.setRateLimit({ remaining: 0, resetAt });
    try {
      await service.scanner.scanAll();
      const parked = service.scanner.state().parked.github;
      expect(parked).toBeDefined();
      world.github.resetLog();
      world.gitee.resetLog();
      const before = databaseSnapshot(service.db);
      const response = await fetch(`https://${service.connection[1]}/plan`, {
        headers: { authorization: basicAuth() },
        tls: { rejectUnauthorized: false },
      });
      const body = (await response.json()) as {
        code: string;
        data: { items: { repo: string; state: string; reason?: string }[] };
      };
      expect(body.code).toBe("2001");
      const reason = `github is rate limited until ${parked}`;
      expect(body.data.items.map((item) => [item.repo, item.state, item.reason])).toEqual(
        names.map((name) => [`src-openeuler/${name}`, "not-checked", reason]),
      );
      const result = await cli([
        "plan",
        ...service.connection,
        "--user",
        "admin",
        "--password",
        "Test@123",
        "--all",
      ]);
      expect(result.code).toBe(0);
      expect(result.out).toContain(`src-openeuler/rl0@master: not checked: ${reason}\n`);
      expect(result.out.split("\n")[0]).toEndWith(", 0 failures, 3 not checked");
      expect(world.github.requests).toEqual([]);
      expect(world.gitee.requests).toEqual([]);
      expect(databaseSnapshot(service.db)).toBe(before);
    } finally {
      world.github.setRateLimit({ remaining: 5000, resetAt: Date.now() + 3_600_000 });
    }
  }, 60_000);
});
