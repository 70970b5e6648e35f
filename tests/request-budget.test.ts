import { afterAll, describe, expect, test } from "bun:test";
import { RateLimitedError } from "../src/errors.ts";
import { GiteeForge } from "../src/forge/gitee.ts";
import { FORGE_PROFILES } from "../src/forge/profiles.ts";
import { budgetWindows, RequestBudget } from "../src/forge/request-budget.ts";
import { silentLogger } from "../src/log.ts";
import { parseSettings } from "../src/settings.ts";
import { startGiteeEmulator } from "./emulators/gitee.ts";
import { settingsText } from "./helpers/settings.ts";

/** A clock that only moves when the budget sleeps. */
function virtualClock() {
  const clock = { now: 0, slept: [] as number[] };
  return {
    clock,
    now: () => clock.now,
    sleep: async (ms: number) => {
      clock.slept.push(ms);
      clock.now += ms;
    },
  };
}

describe("RequestBudget", () => {
  test("lets `limit` requests through per window, then waits for the oldest to age out", async () => {
    const { clock, now, sleep } = virtualClock();
    const budget = new RequestBudget({
      windows: [{ limit: 3, windowMs: 1000 }],
      now,
      sleep,
      marginMs: () => 0,
    });
    for (let i = 0; i < 3; i++) await budget.take();
    expect(clock.slept).toEqual([]);
    clock.now = 400;
    await budget.take();
    expect(clock.slept).toEqual([600]);
    expect(clock.now).toBe(1000);
  });

  test("the tighter of two windows decides", async () => {
    const { clock, now, sleep } = virtualClock();
    const budget = new RequestBudget({
      windows: [
        { limit: 2, windowMs: 100 },
        { limit: 3, windowMs: 10_000 },
      ],
      now,
      sleep,
      maxWaitMs: 60_000,
      marginMs: () => 0,
    });
    await budget.take();
    await budget.take();
    await budget.take(); // waits 100 for the short window
    expect(clock.now).toBe(100);
    await budget.take(); // the long window is full until 10 000
    expect(clock.now).toBe(10_000);
  });

  test("a wait longer than maxWaitMs is a RateLimitedError with the time it frees", async () => {
    const { now, sleep } = virtualClock();
    const budget = new RequestBudget({
      windows: budgetWindows({ perMinute: null, perHour: 2 }),
      now,
      sleep,
    });
    await budget.take();
    await budget.take();
    const error = await budget.take().catch((e) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    // An hour plus the safety margin (5 %: the forge counts arrivals, not departures).
    expect(error.resetAt).toBe(3_780_000);
    expect(error.message).toContain("request budget");
    // The refused turn does not block later ones once the budget frees.
    expect(budget.delayMs(3_780_000)).toBe(0);
  });

  test("no windows: no pacing at all", async () => {
    const budget = new RequestBudget({
      windows: budgetWindows({ perMinute: null, perHour: null }),
    });
    expect(budget.limited).toBe(false);
    for (let i = 0; i < 1000; i++) await budget.take();
    expect(budget.waitedMs).toBe(0);
  });
});

describe("pacing against a forge that enforces a budget", () => {
  const WINDOW = { limit: 5, windowMs: 500 };
  const gitee = startGiteeEmulator({ flavor: "gitcode", rateLimit: [WINDOW] });
  gitee.addRepo("src-openeuler/pkg", { files: { "pkg.spec": "Name: pkg\n" } });
  afterAll(() => gitee.stop());
  const repo = { owner: "src-openeuler", name: "pkg" };

  function forgeWith(budget: RequestBudget | undefined) {
    return new GiteeForge({
      baseUrl: gitee.url,
      token: gitee.token,
      log: silentLogger,
      profile: FORGE_PROFILES.gitcode,
      budget,
      retries: 3,
      backoffMs: 5,
      maxRetryAfterMs: 5_000,
    });
  }

  test("paced, 12 reads never meet a 429 and take at least two windows", async () => {
    await Bun.sleep(WINDOW.windowMs);
    gitee.resetLog();
    const forge = forgeWith(new RequestBudget({ windows: [WINDOW] }));
    const started = Date.now();
    const files = await Promise.all(
      Array.from({ length: 12 }, () => forge.readFile(repo, "master", "pkg.spec")),
    );
    expect(files.every((file) => file !== null)).toBe(true);
    expect(gitee.requests.filter((request) => request.status === 429)).toEqual([]);
    expect(gitee.requests).toHaveLength(12);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2 * WINDOW.windowMs - 50);
  });

  test("unpaced, the same reads learn the limit from 429s", async () => {
    await Bun.sleep(WINDOW.windowMs);
    gitee.resetLog();
    const forge = forgeWith(undefined);
    await Promise.all(Array.from({ length: 12 }, () => forge.readFile(repo, "master", "pkg.spec")));
    expect(gitee.requests.filter((request) => request.status === 429).length).toBeGreaterThan(0);
  });

  test("a 429 with a long Retry-After still parks the forge (RateLimitedError)", async () => {
    gitee.fault({ times: 1 }, { rateLimit: { retryAfterSeconds: 600 } });
    const forge = forgeWith(new RequestBudget({ windows: [WINDOW] }));
    const error = await forge.readFile(repo, "master", "pkg.spec").catch((e) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error.resetAt).toBeGreaterThan(Date.now() + 590_000);
  });
});

describe("settings", () => {
  const parse = (extra: Record<string, string | number>) =>
    parseSettings(settingsText("/tmp", extra)).settings;

  test("gitee by default, without a budget", () => {
    const settings = parseSettings(settingsText("/tmp")).settings;
    expect(settings.downstreamForge).toBe("gitee");
    expect(settings.downstreamRequestsPerMinute).toBeNull();
    expect(settings.downstreamRequestsPerHour).toBeNull();
  });

  test("gitcode brings its API address and its published budget", () => {
    const text = settingsText("/tmp", { DOWNSTREAM_FORGE: '"gitcode"' }).replace(
      /^GITEE_API_URL.*\n/m,
      "",
    );
    const settings = parseSettings(text).settings;
    expect(settings.downstreamForge).toBe("gitcode");
    expect(settings.giteeApiUrl).toBe("https://api.gitcode.com/api/v5");
    expect(settings.downstreamRequestsPerMinute).toBe(50);
    expect(settings.downstreamRequestsPerHour).toBe(4000);
  });

  test("the budget can be set, or switched off with 0", () => {
    const settings = parse({
      DOWNSTREAM_FORGE: '"gitcode"',
      DOWNSTREAM_REQUESTS_PER_MINUTE: 20,
      DOWNSTREAM_REQUESTS_PER_HOUR: 0,
    });
    expect(settings.downstreamRequestsPerMinute).toBe(20);
    expect(settings.downstreamRequestsPerHour).toBeNull();
    expect(parse({ DOWNSTREAM_REQUESTS_PER_HOUR: 900 }).downstreamRequestsPerHour).toBe(900);
  });

  test("bad values name the key", () => {
    expect(() => parse({ DOWNSTREAM_FORGE: '"github"' })).toThrow(
      /DOWNSTREAM_FORGE: must be one of "gitee", "gitcode", got "github"/,
    );
    expect(() => parse({ DOWNSTREAM_REQUESTS_PER_MINUTE: -1 })).toThrow(
      /DOWNSTREAM_REQUESTS_PER_MINUTE: must be a whole number/,
    );
    expect(() => parse({ DOWNSTREAM_REQUESTS_PER_HOUR: '"lots"' })).toThrow(
      /DOWNSTREAM_REQUESTS_PER_HOUR/,
    );
  });
});
