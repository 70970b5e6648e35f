/**
 * Exactly once when a create's answer never comes: Gitee is slow, the client gives up at its
 * timeout, the re-check finds nothing, and the create lands on the forge afterwards. Sending it
 * again at that point made a second issue. The journal now records each create before it is sent;
 * a run that finds nothing after an unanswered create waits (parked, not blocking the scan) until
 * the settle period has passed, and sends again only if a re-check then still finds nothing.
 * The fault is the emulator's `landsLate`: a real slow server, not a stand-in function.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { openRunFor } from "../src/db/runs.ts";
import { scanTracking } from "../src/scan/scan-tracking.ts";
import { waitFor } from "./helpers/wait.ts";
import { makeWorld } from "./helpers/world.ts";

const TIMEOUT_MS = 300;
/** When the held create lands: well after the client's timeout and its re-check. */
const LANDS_AFTER_MS = 1200;
const SETTLE_MS = 2000;

const world = await makeWorld({ giteeTimeoutMs: TIMEOUT_MS });
const deps = { ...world.deps, settleMs: SETTLE_MS };
afterEach(() => world.gitee.clearFaults());
let counter = 0;

/** A package with one upstream commit to propose. */
async function packageWithCommit(name: string): Promise<string> {
  world.addPackage(name, await world.upstream.head());
  counter++;
  return world.upstream.commit(`Fix ${counter}`, { [`src/f${counter}.c`]: `int f${counter};\n` });
}

const scan = (name: string) => scanTracking(deps, `src-openeuler/${name}`, "master");
const issuePosts = () =>
  world.gitee.requests.filter(
    (request) => request.method === "POST" && request.path === "/repos/src-openeuler/issues",
  );

/** Sleeps until a parked run may go again. */
async function until(at: number | undefined) {
  if (at === undefined) throw new Error("the run was not parked");
  await Bun.sleep(Math.max(0, at - Date.now()) + 20);
}

describe("an issue create whose answer never comes", () => {
  test("lands after the re-check: the run waits instead of sending it again, and finds it", async () => {
    const head = await packageWithCommit("late");
    world.gitee.resetLog();
    world.gitee.fault(
      { method: "POST", path: /^\/repos\/src-openeuler\/issues$/, times: 2 },
      { landsLate: { afterMs: LANDS_AFTER_MS } },
    );
    const sentAt = Date.now();
    const first = await scan("late");
    expect(first.outcome).toBe("failed");
    expect(first.error).toContain(`no answer within ${TIMEOUT_MS} ms`);
    expect(world.gitee.repo("src-openeuler/late").issues).toEqual([]);

    // At once again (as an operator's scan would): the issue is still not there, and the run
    // parks until the settle period is over instead of creating a second one.
    const started = Date.now();
    const second = await scan("late");
    expect(Date.now() - started).toBeLessThan(SETTLE_MS / 2);
    // Once the held create has landed there is exactly one issue (before the fix: two).
    await waitFor(() => world.gitee.inFlight() === 0, 5000, "the forge to go idle");
    expect(world.gitee.repo("src-openeuler/late").issues).toHaveLength(1);
    expect(second.outcome).toBe("failed");
    expect(second.error).toContain("waiting");
    expect(second.retryAt).toBeGreaterThanOrEqual(sentAt + SETTLE_MS);
    expect(openRunFor(world.db, "src-openeuler/late", "master")?.lastError).toContain("no answer");
    expect(issuePosts()).toHaveLength(1);

    await until(second.retryAt);
    expect((await scan("late")).outcome).toBe("proposed");
    await waitFor(() => world.gitee.inFlight() === 0, 5000, "the forge to go idle");
    const repo = world.gitee.repo("src-openeuler/late");
    expect(repo.issues).toHaveLength(1);
    expect(repo.pulls).toHaveLength(1);
    expect(repo.pulls[0]!.body).toContain(`#${repo.issues[0]!.number}`);
    expect(issuePosts()).toHaveLength(1);
    expect(world.tracking("late")!.scm_commit).toBe(head);
  });

  test("never lands: it is sent again once the settle period has passed", async () => {
    const head = await packageWithCommit("lost");
    world.gitee.resetLog();
    world.gitee.fault(
      { method: "POST", path: /^\/repos\/src-openeuler\/issues$/, times: 1 },
      { drop: true },
    );
    expect((await scan("lost")).outcome).toBe("failed");
    const parked = await scan("lost");
    expect(parked.error).toContain("waiting");
    expect(issuePosts()).toHaveLength(1);
    await until(parked.retryAt);
    expect((await scan("lost")).outcome).toBe("proposed");
    expect(issuePosts()).toHaveLength(2);
    expect(world.gitee.repo("src-openeuler/lost").issues).toHaveLength(1);
    expect(world.tracking("lost")!.scm_commit).toBe(head);
  });

  test("refused outright (4xx): nothing can land, so the next attempt sends at once", async () => {
    const head = await packageWithCommit("refused");
    world.gitee.resetLog();
    world.gitee.fault(
      { method: "POST", path: /^\/repos\/src-openeuler\/issues$/, times: 1 },
      { answer: { status: 400, json: { message: "labels is invalid" } } },
    );
    expect((await scan("refused")).outcome).toBe("failed");
    expect((await scan("refused")).outcome).toBe("proposed");
    expect(issuePosts()).toHaveLength(2);
    expect(world.gitee.repo("src-openeuler/refused").issues).toHaveLength(1);
    expect(world.tracking("refused")!.scm_commit).toBe(head);
  });
});
