import { describe, expect, test } from "bun:test";
import { openRunFor, runsFor } from "../src/db/runs.ts";
import { getStatus } from "../src/db/status.ts";
import { upsertTracking } from "../src/db/trackings.ts";
import { AuthFailedError } from "../src/errors.ts";
import { silentLogger } from "../src/log.ts";
import { isWorkBranch } from "../src/scan/branch-name.ts";
import { Semaphore } from "../src/scan/concurrency.ts";
import { Scanner } from "../src/scan/scheduler.ts";
import { waitFor } from "./helpers/wait.ts";
import { makeWorld, UPSTREAM } from "./helpers/world.ts";

const world = await makeWorld({ giteeTimeoutMs: 2000 });
const first = await world.upstream.commit("first change", { "src/a.c": "int a = 2;\n" });

function scanner(options: Partial<ConstructorParameters<typeof Scanner>[0]> = {}) {
  return new Scanner({
    db: world.db,
    log: silentLogger,
    forge: world.forge,
    upstreams: world.deps.upstreams,
    intervalSeconds: 3600,
    concurrency: 2,
    ...options,
  });
}

describe("scanning all trackings", () => {
  test("scans enabled trackings, skips disabled ones and work branches, batches the heads", async () => {
    world.addPackage("s1");
    world.addPackage("s2");
    world.addPackage("s3", null);
    upsertTracking(world.db, {
      version_control: "github",
      scm_repo: UPSTREAM,
      scm_branch: "main",
      scm_commit: world.base,
      repo: "src-openeuler/s4",
      branch: "master",
      enabled: false,
    });
    // A row the API would refuse (old databases may hold one): never scanned.
    world.db.run(
      `INSERT INTO tracking (id, version_control, scm_repo, scm_branch, scm_commit, repo, branch, enabled)
       VALUES (999, 'github', '${UPSTREAM}', 'main', '${world.base}', 'src-openeuler/s1', 'patch-tracking/20240101000000000000', 1)`,
    );
    world.github.resetLog();
    const summary = await scanner().scanAll();
    expect(summary.trackings).toBe(3);
    expect(summary.outcomes).toEqual({ proposed: 2, started: 1 });
    // One GraphQL query for all three heads; no per-tracking branch lookups.
    const headRequests = world.github.requests.filter(
      (request) => request.path.endsWith("/graphql") || request.path.includes("/branches/"),
    );
    expect(headRequests).toHaveLength(1);
    expect(getStatus(world.db, "src-openeuler/s4", "master")).toBeNull();
    expect(world.gitee.repo("src-openeuler/s1").pulls).toHaveLength(1);
  });

  test("a scan reads, looks up and scans the trackings a slice at a time", async () => {
    const head = await world.upstream.head();
    for (let i = 0; i < 7; i++) world.addPackage(`slice${i}`, head);
    const rows = world.db
      .query("SELECT branch FROM tracking WHERE enabled = 1 ORDER BY id")
      .all() as { branch: string }[];
    // Per slice of three rows, the trackings scanned: work branches never are.
    const perSlice: number[] = [];
    for (let at = 0; at < rows.length; at += 3) {
      perSlice.push(rows.slice(at, at + 3).filter((row) => !isWorkBranch(row.branch)).length);
    }
    world.github.resetLog();
    const summary = await scanner({ sliceSize: 3 }).scanAll();
    expect(summary.trackings).toBe(perSlice.reduce((sum, n) => sum + n, 0));
    for (let i = 0; i < 7; i++) {
      expect(getStatus(world.db, `src-openeuler/slice${i}`, "master")?.lastOutcome).toBe(
        "unchanged",
      );
    }
    // Heads are asked per slice: all these trackings follow the same upstream branch, so one
    // head request per slice (a whole-list scan would send one in all).
    const headRequests = world.github.requests.filter(
      (request) => request.path.endsWith("/graphql") || request.path.includes("/branches/"),
    );
    expect(headRequests).toHaveLength(perSlice.filter((n) => n > 0).length);
    expect(perSlice.length).toBeGreaterThanOrEqual(3);
  });

  test("one scan per tracking at a time: a second request joins the running one", async () => {
    world.addPackage("single");
    const s = scanner();
    const a = s.scanOne("src-openeuler/single", "master");
    const b = s.scanOne("src-openeuler/single", "master");
    expect(b).toBe(a);
    expect((await a).outcome).toBe("proposed");
    expect(world.gitee.repo("src-openeuler/single").pulls).toHaveLength(1);
  });

  test("a semaphore never runs more tasks than its size", async () => {
    const semaphore = new Semaphore(2);
    let running = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 8 }, () =>
        semaphore.run(async () => {
          running++;
          peak = Math.max(peak, running);
          await Bun.sleep(5);
          running--;
        }),
      ),
    );
    expect(peak).toBe(2);
  });

  test("a scan of all trackings keeps only `concurrency` of them pending at once", async () => {
    for (let i = 0; i < 12; i++) world.addPackage(`many${i}`, null);
    const s = scanner({ concurrency: 3 });
    const scanOne = s.scanOne.bind(s);
    let pending = 0;
    let peak = 0;
    let calls = 0;
    s.scanOne = (...args: Parameters<typeof scanOne>) => {
      calls++;
      pending++;
      peak = Math.max(peak, pending);
      return scanOne(...args).finally(() => {
        pending--;
      });
    };
    const summary = await s.scanAll();
    // Trackings already at their head are recorded in bulk, without a scan of their own.
    expect(calls).toBe(summary.trackings - (summary.outcomes.unchanged ?? 0));
    expect(calls).toBeGreaterThanOrEqual(12);
    // One pending scan per tracking would hold memory in proportion to the number of trackings.
    expect(peak).toBe(3);
    for (let i = 0; i < 12; i++) expect(world.tracking(`many${i}`)!.scm_commit).not.toBeNull();
  });
});

describe("transient failures", () => {
  test("are retried early, not a whole interval later", async () => {
    world.addPackage("retried");
    // The files step reads back and tries again twice itself: three 502s fail the scan.
    world.gitee.fault(
      { method: "POST", path: "/repos/src-openeuler/retried/commits", times: 3 },
      { status: 502 },
    );
    const s = scanner({ retryBaseMs: 50 });
    const result = await s.scanOne("src-openeuler/retried", "master");
    expect(result).toMatchObject({ outcome: "failed", retryable: true });
    await waitFor(
      () => getStatus(world.db, "src-openeuler/retried", "master")?.lastOutcome === "proposed",
      5000,
    );
    expect(world.tracking("retried")!.scm_commit).toBe(first);
    expect(world.gitee.repo("src-openeuler/retried").pulls).toHaveLength(1);
    await s.stop();
  });
});

describe("rate limits park a service", () => {
  test("GitHub out of quota: trackings are parked, nothing is written, later scans do not ask again", async () => {
    world.addPackage("parked");
    const resetAt = Date.now() + 3_600_000;
    world.github.setRateLimit({ remaining: 0, resetAt, resource: "graphql" });
    world.github.setRateLimit({ remaining: 0, resetAt, resource: "core" });
    world.gitee.resetLog();
    const s = scanner();
    const result = await s.scanOne("src-openeuler/parked", "master");
    expect(result.outcome).toBe("parked");
    expect(s.state().parked.github).toBeDefined();
    world.github.resetLog();
    const again = await s.scanOne("src-openeuler/parked", "master");
    expect(again.outcome).toBe("parked");
    expect(world.github.requests).toHaveLength(0);
    expect(world.gitee.writes()).toEqual([]);
    world.github.setRateLimit({ remaining: 5000, resource: "graphql" });
    world.github.setRateLimit({ remaining: 5000, resource: "core" });
    await s.stop();
  });

  test("Gitee 429 with a long Retry-After parks Gitee and keeps the run open for later", async () => {
    world.addPackage("giteeparked");
    world.gitee.fault(
      { method: "POST", path: "/commits", times: 5 },
      { rateLimit: { retryAfterSeconds: 3600 } },
    );
    const s = scanner();
    const result = await s.scanOne("src-openeuler/giteeparked", "master");
    expect(result.outcome).toBe("parked");
    expect(s.state().parked.gitee).toBeDefined();
    expect(openRunFor(world.db, "src-openeuler/giteeparked", "master")?.step).toBe("files");
    world.gitee.clearFaults();
    await s.stop();
    // A fresh process (parking is in memory) resumes the same run.
    const resumed = await scanner().scanOne("src-openeuler/giteeparked", "master");
    expect(resumed.outcome).toBe("proposed");
    expect(runsFor(world.db, "src-openeuler/giteeparked", "master")).toHaveLength(1);
    expect(world.gitee.repo("src-openeuler/giteeparked").pulls).toHaveLength(1);
  });
});

describe("start and stop", () => {
  test("a refused token turns the scanner off without scanning", async () => {
    const s = scanner({
      checkTokens: async () => {
        throw new AuthFailedError("gitee", "401 Unauthorized: Access token does not exist");
      },
    });
    world.github.resetLog();
    s.start();
    await waitFor(() => s.state().disabledReason !== null);
    expect(s.enabled).toBe(false);
    expect(s.state().disabledReason).toContain("gitee token refused");
    expect(world.github.requests).toHaveLength(0);
    await s.stop();
  });

  test("stop waits between steps; the open run resumes after a restart, exactly once", async () => {
    world.addPackage("stopping");
    world.gitee.fault({ method: "POST", path: "/issues", times: 1 }, { delayMs: 300 });
    world.gitee.resetLog();
    const s = scanner();
    const scan = s.scanOne("src-openeuler/stopping", "master");
    await waitFor(() =>
      world.gitee.requests.some((r) => r.method === "POST" && r.path.endsWith("/issues")),
    );
    await s.stop();
    await scan;
    const open = openRunFor(world.db, "src-openeuler/stopping", "master");
    expect(open).not.toBeNull();
    expect(["issue", "pull"]).toContain(open!.step);
    const resumed = await scanner().scanOne("src-openeuler/stopping", "master");
    expect(resumed.outcome).toBe("proposed");
    const repo = world.gitee.repo("src-openeuler/stopping");
    expect(repo.issues).toHaveLength(1);
    expect(repo.pulls).toHaveLength(1);
    expect(world.tracking("stopping")!.scm_commit).toBe(first);
  });

  test("a tracking saved without scm_commit is scanned at once", async () => {
    const s = scanner();
    s.start();
    await waitFor(() => s.enabled && !s.state().scanning);
    world.addPackage("instant", null);
    s.onTrackingSaved(world.tracking("instant")!);
    await waitFor(() => world.tracking("instant")!.scm_commit !== null, 5000);
    expect(world.tracking("instant")!.scm_commit).toBe(first);
    await s.stop();
  });
});
