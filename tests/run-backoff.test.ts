/**
 * A publish run that keeps failing backs off exponentially per run (not per scan): scans before
 * its next try ask nothing of the forge, the status page, GET /tracking/status and
 * `patch-tracking-cli status` show attempts, last error and next try, and the scan endpoint
 * retries it at once.
 */
import { describe, expect, test } from "bun:test";
import { openRunFor } from "../src/db/runs.ts";
import { getStatus } from "../src/db/status.ts";
import { RUN_BACKOFF_MAX_MS, runBackoffMs } from "../src/scan/run-backoff.ts";
import { scanTracking } from "../src/scan/scan-tracking.ts";
import { cli } from "./helpers/cli.ts";
import { startEngineServer } from "./helpers/engine-server.ts";
import { basicAuth } from "./helpers/settings.ts";
import { makeWorld } from "./helpers/world.ts";

describe("runBackoffMs", () => {
  test("doubles from 30 s per failed attempt, up to a day, with at most 10 % jitter", () => {
    const none = () => 0;
    expect([1, 2, 3, 4].map((attempts) => runBackoffMs(attempts, undefined, none))).toEqual([
      30_000, 60_000, 120_000, 240_000,
    ]);
    expect(runBackoffMs(40, undefined, none)).toBe(RUN_BACKOFF_MAX_MS);
    expect(runBackoffMs(2, undefined, () => 0.999)).toBeLessThanOrEqual(66_000);
    expect(runBackoffMs(2, 1000, none)).toBe(2000);
  });
});

const world = await makeWorld();
await world.upstream.commit("Fix it", { "src/a.c": "int a = 9;\n" });
// The forge refuses every upload of patch files, for ever (as a strict server refusing a write
// would): the one commit of a proposal's files here.
const refuse = () =>
  world.gitee.fault(
    { method: "POST", path: /\/commits$/ },
    { answer: { status: 403, json: { message: "403 Forbidden: file type not allowed" } } },
  );

describe("a failing run backs off per run", () => {
  test("scans before the next try ask nothing of the forge; each attempt doubles the wait", async () => {
    world.addPackage("stuck");
    refuse();
    const deps = { ...world.deps, runBackoff: (attempts: number) => runBackoffMs(attempts) };
    const first = await scanTracking(deps, "src-openeuler/stuck", "master");
    expect(first.outcome).toBe("failed");
    const run = openRunFor(world.db, "src-openeuler/stuck", "master")!;
    expect(run.attempts).toBe(1);
    expect(run.lastError).toContain("403 Forbidden: file type not allowed");
    const wait = Date.parse(run.nextAttemptAt!) - Date.now();
    expect(wait).toBeGreaterThan(25_000);
    expect(wait).toBeLessThanOrEqual(33_000);
    const statusBefore = getStatus(world.db, "src-openeuler/stuck", "master");

    world.gitee.resetLog();
    for (let scan = 0; scan < 3; scan++) {
      const skipped = await scanTracking(deps, "src-openeuler/stuck", "master");
      expect(skipped.outcome).toBe("failed");
      expect(skipped.error).toContain(`next try at ${run.nextAttemptAt}`);
      expect(skipped.retryAt).toBe(Date.parse(run.nextAttemptAt!));
    }
    expect(world.gitee.requests).toEqual([]);
    expect(openRunFor(world.db, "src-openeuler/stuck", "master")!.attempts).toBe(1);
    expect(getStatus(world.db, "src-openeuler/stuck", "master")).toEqual(statusBefore);

    const forced = await scanTracking(deps, "src-openeuler/stuck", "master", undefined, {
      force: true,
    });
    expect(forced.outcome).toBe("failed");
    expect(world.gitee.requests.length).toBeGreaterThan(0);
    const again = openRunFor(world.db, "src-openeuler/stuck", "master")!;
    expect(again.attempts).toBe(2);
    expect(Date.parse(again.nextAttemptAt!) - Date.now()).toBeGreaterThan(55_000);
    world.gitee.clearFaults();
  });
});

describe("shown everywhere, retried at once by the scan endpoint", () => {
  test("status endpoint, page and CLI show attempts, last error and next try", async () => {
    const engine = await startEngineServer(world);
    const base = `https://127.0.0.1:${engine.connection[1]?.split(":")[1]}`;
    const call = (path: string, method = "GET") =>
      fetch(`${base}${path}`, {
        method,
        headers: { authorization: basicAuth() },
        tls: { rejectUnauthorized: false },
      } as RequestInit);
    engine.track("shown", world.base);
    refuse();
    const scan = (await (
      await call("/tracking/scan?repo=src-openeuler/shown&branch=master", "POST")
    ).json()) as any;
    expect(scan.data[0].outcome).toBe("failed");

    const status = (await (await call("/tracking/status?repo=src-openeuler/shown")).json()) as any;
    const openRun = status.data.trackings[0].openRun;
    expect(openRun.attempts).toBe(1);
    expect(openRun.lastError).toContain("403 Forbidden");
    expect(Date.parse(openRun.nextAttemptAt)).toBeGreaterThan(Date.now());

    const page = await (await call("/?repo=shown")).text();
    expect(page).toContain("1 failed attempts, next try ");
    expect(page).toContain("403 Forbidden: file type not allowed");

    const printed = await cli(["status", ...engine.connection, "--repo", "src-openeuler/shown"]);
    expect(printed.out).toMatch(/1 failed attempt, next try \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);

    // A full scan leaves it alone; the scan endpoint retries it now.
    world.gitee.resetLog();
    await engine.scanner.scanAll();
    expect(world.gitee.requests.filter((request) => request.path.includes("/shown/"))).toEqual([]);
    world.gitee.clearFaults();
    const retried = (await (
      await call("/tracking/scan?repo=src-openeuler/shown&branch=master", "POST")
    ).json()) as any;
    expect(retried.data[0]).toMatchObject({ outcome: "proposed", runs: 1 });
    expect(world.gitee.repo("src-openeuler/shown").pulls).toHaveLength(1);
  });
});
