/**
 * The exactly-once fault matrix shared by the publish, extend and supersede tests: for each step
 * (a forge request) and each fault, a fresh tracking is set up, the fault strikes that request
 * twice, and the tracking is scanned until its run is done — as the scheduler's retries would —
 * then the scenario's own check runs (one proposal, one extension, one successor ...).
 */
import { expect, test } from "bun:test";
import { openRunFor } from "../../src/db/runs.ts";
import type { Forge } from "../../src/forge/types.ts";
import { scanTracking } from "../../src/scan/scan-tracking.ts";
import type { GiteeFault } from "../emulators/gitee.ts";
import { waitFor } from "./wait.ts";
import type { World } from "./world.ts";

/** A step: its name, and the request method and path the fault strikes. */
export type FaultStep = [name: string, method: string, path: RegExp];

/** Every way a forge request can fail, before or after the forge did the write. */
export const GITEE_FAULTS: ReadonlyArray<[string, GiteeFault]> = [
  ["500", { status: 500 }],
  ["503 HTML", { status: 503 }],
  ["429 with Retry-After", { rateLimit: { retryAfterSeconds: 1 } }],
  ["timeout", { delayMs: 900 }],
  ["dropped connection", { drop: true }],
  ["500 after the write", { afterWrite: { status: 500 } }],
  ["dropped after the write", { afterWrite: { drop: true } }],
  // The client gives up; the write lands after its re-check found nothing (the run then waits
  // for it instead of sending it again; see LANDS_LATE_SETTLE_MS).
  ["lands after the re-check", { landsLate: { afterMs: 1000 } }],
];

/** The settle period a "lands late" scenario runs with: longer than its write takes to land. */
function settleMsFor(fault: GiteeFault): number | undefined {
  return "landsLate" in fault ? 2 * fault.landsLate.afterMs : undefined;
}

export interface FaultScenario {
  /** The upstream commit the tracking stands at once the run is done. */
  target: string;
  /** What must hold afterwards: nothing duplicated, nothing lost. */
  check(): void;
}

export interface FaultMatrix {
  world: World;
  steps: readonly FaultStep[];
  faults: ReadonlyArray<[string, GiteeFault]>;
  /** Prefix of each scenario's package name (numbered). */
  prefix: string;
  /** Makes a tracking whose next scan takes every step. */
  setUp(name: string): Promise<FaultScenario> | FaultScenario;
  /** Title of the last test, which checks that every scenario ran to its end. */
  summary: string;
}

/** Registers one test per step × fault, then the summary test. */
export function faultMatrixTests(matrix: FaultMatrix): void {
  const { world, steps, faults } = matrix;
  let scenario = 0;
  const outcomes: string[] = [];
  for (const [step, method, path] of steps) {
    for (const [faultName, fault] of faults) {
      test(`${step}: ${faultName} (twice)`, async () => {
        const name = `${matrix.prefix}${++scenario}`;
        const { target, check } = await matrix.setUp(name);
        world.gitee.resetLog();
        world.gitee.fault({ method, path, times: 2 }, fault);
        const settleMs = settleMsFor(fault);
        const deps = settleMs === undefined ? world.deps : { ...world.deps, settleMs };
        let attempts = 0;
        while (
          openRunFor(world.db, `src-openeuler/${name}`, "master") ||
          world.tracking(name)?.scm_commit !== target
        ) {
          attempts++;
          if (attempts > 6) throw new Error(`${name} did not finish after 6 scans`);
          // A failed run is retried after its backoff (30 s and more), by which time a write whose
          // answer was lost has usually landed: wait for the forge to finish what it is doing —
          // except where the point is a write that lands after the retry's look-up.
          if (settleMs === undefined) {
            await waitFor(() => world.gitee.inFlight() === 0, 5000, "the forge to go idle");
          }
          const result = await scanTracking(deps, `src-openeuler/${name}`, "master");
          // A run parked until an unanswered create has settled: come back then, as the
          // scheduler would.
          if (result.retryAt !== undefined) {
            await Bun.sleep(Math.min(Math.max(0, result.retryAt - Date.now()), 10_000) + 20);
          }
        }
        // Every late write has landed before the check, so a duplicate cannot hide.
        await waitFor(() => world.gitee.inFlight() === 0, 5000, "the forge to go idle");
        world.gitee.clearFaults();
        // The fault did strike the request it names (a second time unless a read-back found the
        // first write had landed).
        const struck = world.gitee.requests.filter((request) => request.fault !== undefined);
        expect(struck.length).toBeGreaterThanOrEqual(1);
        for (const request of struck) {
          expect(request.method).toBe(method);
          expect(request.path).toMatch(path);
        }
        check();
        outcomes.push(`${step}/${faultName}: ${attempts} scan(s)`);
      });
    }
  }
  test(matrix.summary, () => {
    console.log(`${matrix.summary}: ${outcomes.length}\n  ${outcomes.join("\n  ")}`);
    expect(outcomes).toHaveLength(steps.length * faults.length);
  });
}

/**
 * `forge` with its calls counted; with `crashAfter`, the process "dies" right after that call
 * returned (a write has landed, the journal has not recorded it yet).
 */
export function instrumentedForge(
  forge: Forge,
  crashAfter: number | null,
): { forge: Forge; calls(): number } {
  let calls = 0;
  const instrumented = new Proxy(forge, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (typeof value !== "function") return value;
      return async (...args: unknown[]) => {
        const result = await value.apply(target, args);
        if (++calls === crashAfter) throw new Error(`crash after forge call ${calls}`);
        return result;
      };
    },
  });
  return { forge: instrumented, calls: () => calls };
}

/**
 * Crashes a scan right after each of its forge calls in turn, on a fresh tracking each time,
 * then scans again: `setUp` makes a tracking whose next scan takes every step, and its `check`
 * must hold after the resumed scan. Returns how many forge calls the scan makes unharmed.
 */
export async function crashAtEveryForgeCall(
  world: World,
  setUp: (name: string) => Promise<Pick<FaultScenario, "check">>,
): Promise<number> {
  const counted = await setUp("count");
  const counting = instrumentedForge(world.forge, null);
  await scanTracking({ ...world.deps, forge: counting.forge }, "src-openeuler/count", "master");
  counted.check();
  const total = counting.calls();
  for (let crashAfter = 1; crashAfter <= total; crashAfter++) {
    const name = `crash${crashAfter}`;
    const scenario = await setUp(name);
    const crashed = await scanTracking(
      { ...world.deps, forge: instrumentedForge(world.forge, crashAfter).forge },
      `src-openeuler/${name}`,
      "master",
    );
    expect(crashed.outcome).toBe("failed");
    expect((await world.scan(name)).outcome).toBe("proposed");
    scenario.check();
  }
  return total;
}
