/**
 * What an operator sees during a forge outage, on the real service (HTTPS server, scanner, engine
 * as `main.ts` assembles them): GitHub stopped, so its breaker opens; the status page (checked in
 * Chromium, screenshot kept in .artifacts/) and `patch-tracking-cli status` show a banner for it,
 * the held trackings as `waiting`, a tracking never scanned as `pending`; /metrics exports the
 * breaker's state and transitions; GitHub started again on the same port closes it all.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { getStatus } from "../src/db/status.ts";
import { type GithubEmulator, startGithubEmulator } from "./emulators/github.ts";
import { launchChromium } from "./helpers/browser.ts";
import { cli } from "./helpers/cli.ts";
import { startEngineServer } from "./helpers/engine-server.ts";
import { freePort } from "./helpers/net.ts";
import { PROJECT_ROOT } from "./helpers/server-process.ts";
import { TEST_GITHUB_TOKEN } from "./helpers/settings.ts";
import { waitFor } from "./helpers/wait.ts";
import { makeWorld, trackPackage, UPSTREAM } from "./helpers/world.ts";

const world = await makeWorld();
await world.upstream.commit("Fix a crash", { "src/a.c": "int a = 3;\n" });
// GitHub for this service lives on a port where nothing listens yet: an outage from the start.
const githubPort = await freePort();
const service = await startEngineServer(world, {
  GITHUB_API_URL: `"http://127.0.0.1:${githubPort}"`,
  REQUEST_TIMEOUT: 10,
});
const held = ["alpha", "beta", "gamma", "delta"];
for (const name of held) service.track(name, world.base);
await service.scanner.scanAll();
const waitingAtOutage = held.filter(
  (name) => getStatus(service.db, `src-openeuler/${name}`, "master")?.lastOutcome === "waiting",
);
// Added behind the scanner's back (no scan yet): nothing about it was checked.
world.gitee.addRepo("src-openeuler/fresh");
trackPackage(service.db, "fresh", world.base);

let browser: Browser;
let github: GithubEmulator | null = null;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await github?.stop();
});

const base = () => service.connection[1];

async function page(path: string) {
  // The certificate names no IP address; the CLI tests cover verifying it.
  const response = await fetch(`https://${base()}${path}`, {
    tls: { rejectUnauthorized: false },
  } as RequestInit);
  return response.text();
}

describe("during the outage", () => {
  test("statuses: waiting with the reason, pending for the never scanned", () => {
    const status = (name: string) => getStatus(service.db, `src-openeuler/${name}`, "master");
    const waiting = held.filter((name) => status(name)?.lastOutcome === "waiting");
    // Including the trackings whose failures revealed the outage: none shows `failed`.
    expect(waiting).toEqual(held);
    expect(status(waiting[0]!)?.lastError).toMatch(/^github unreachable since /);
    expect(status("fresh")).toBeNull();
  });

  test("the status page in Chromium: a banner for GitHub, waiting and pending rows, a chart that says there is nothing", async () => {
    const tab = await browser.newPage({
      viewport: { width: 1400, height: 700 },
      ignoreHTTPSErrors: true,
    });
    await tab.goto(`https://${base()}/`, { waitUntil: "load" });
    const banner = tab.locator('.outage[data-forge="github"]');
    expect(await banner.count()).toBe(1);
    const text = (await banner.textContent()) ?? "";
    expect(text).toMatch(/github unreachable since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
    expect(text).toMatch(/next probe \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
    expect(text).toContain("last error:");
    expect(text).toContain("ECONNREFUSED");
    expect(await banner.isVisible()).toBe(true);
    expect(await tab.locator("tr.waiting").count()).toBe(held.length);
    expect(await tab.locator("tr.failing").count()).toBe(0);
    expect(await tab.locator("tr.waiting").first().textContent()).toContain(
      "waiting: github unreachable since",
    );
    const fresh = tab.locator("tr", { hasText: "src-openeuler/fresh" });
    expect(await fresh.getAttribute("class")).toBe("pending");
    expect(await fresh.locator(".badge").textContent()).toBe("pending");
    expect(await tab.locator("tr.ok").count()).toBe(0);
    expect(await tab.locator("#chart-empty").textContent()).toStartWith(
      "no proposals in the last 7 days",
    );
    const dir = join(PROJECT_ROOT, ".artifacts");
    mkdirSync(dir, { recursive: true });
    const shot = join(dir, "status-page-outage.png");
    await tab.screenshot({ path: shot });
    expect(statSync(shot).size).toBeGreaterThan(10_000);
    console.log(`outage screenshot: ${shot}`);
    await tab.close();
  });

  test("patch-tracking-cli status: an OUTAGE line per open breaker, waiting and pending outcomes", async () => {
    const result = await cli(["status", ...service.connection]);
    expect(result.code).toBe(0);
    const lines = result.out.split("\n");
    const outage = lines.filter((line) => line.startsWith("OUTAGE: "));
    expect(outage).toHaveLength(1);
    expect(outage[0]).toMatch(
      /^OUTAGE: github unreachable since \S+ \S+ UTC; its trackings wait; next probe \S+ \S+ UTC; last error: .*ECONNREFUSED/,
    );
    expect(lines.find((line) => line.includes("src-openeuler/fresh@master"))).toMatch(/ pending /);
    expect(result.out).toContain("waiting: github unreachable since");
    const json = JSON.parse((await cli(["status", "--json", ...service.connection])).out);
    expect(json.scanner.breakers).toContainEqual(
      expect.objectContaining({ forge: "github", state: "open" }),
    );
  });

  test("/metrics: the breaker's state and its transitions", async () => {
    const metrics = await page("/metrics");
    expect(metrics).toContain('patch_tracking_forge_breaker_open{forge="github"} 1');
    expect(metrics).toContain(
      'patch_tracking_forge_breaker_transitions_total{forge="github",to="open"} 1',
    );
  });
});

describe("after the outage", () => {
  test("GitHub started on the same port: the breaker closes, the banner goes, the held trackings propose", async () => {
    github = startGithubEmulator({
      repos: { [UPSTREAM]: world.upstream.dir },
      token: TEST_GITHUB_TOKEN,
      port: githubPort,
    });
    // The default schedule probes 2.5–5 s after opening, then backs off (capped at 5 minutes).
    await waitFor(
      () => service.scanner.breakers.openViews().length === 0,
      60_000,
      "the breaker closing",
    );
    // The held (waiting) ones come back by themselves; the ones whose failures opened the
    // breaker keep their own retry backoff.
    await waitFor(
      () =>
        waitingAtOutage.every(
          (name) =>
            getStatus(service.db, `src-openeuler/${name}`, "master")?.lastOutcome === "proposed",
        ),
      60_000,
      "the held trackings proposed",
    );
    for (const name of waitingAtOutage) {
      expect(world.gitee.repo(`src-openeuler/${name}`).pulls).toHaveLength(1);
    }
    const html = await page("/");
    expect(html).not.toContain('class="outage"');
    const metrics = await page("/metrics");
    expect(metrics).toContain('patch_tracking_forge_breaker_open{forge="github"} 0');
    expect(metrics).toContain(
      'patch_tracking_forge_breaker_transitions_total{forge="github",to="closed"} 1',
    );
    // Probes back off while the other tests run: on a busy machine the next one can be a while.
  }, 150_000);
});
