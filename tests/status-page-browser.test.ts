import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { PAGE_SIZE } from "../src/routes/status-page.ts";
import { launchChromium } from "./helpers/browser.ts";
import { PROJECT_ROOT } from "./helpers/server-process.ts";
import { startTestServer } from "./helpers/test-server.ts";

const TRACKINGS = 10_000;
/** One page of rows plus the summary and chart; all 10,000 rows would be several MB. */
const PAGE_BYTES_LIMIT = 200_000;
const server = startTestServer();

// 10,000 trackings, every 50th failing, every 100th disabled, written in one transaction.
server.db.transaction(() => {
  const track = server.db.prepare(
    `INSERT INTO tracking (id, version_control, scm_repo, scm_branch, scm_commit, repo, branch, enabled)
     VALUES (?, 'github', ?, 'main', ?, ?, 'master', ?)`,
  );
  const status = server.db.prepare(
    `INSERT INTO tracking_status (repo, branch, last_scan_at, last_outcome, last_error, last_success_at)
     VALUES (?, 'master', '2026-11-23T10:00:00.000Z', ?, ?, '2026-11-23T10:00:00.000Z')`,
  );
  for (let i = 0; i < TRACKINGS; i++) {
    const repo = `src-openeuler/pkg${String(i).padStart(5, "0")}`;
    track.run(i + 1, `upstream/pkg${i}`, "a".repeat(40), repo, i % 100 === 0 ? 0 : 1);
    const failing = i % 50 === 7;
    status.run(
      repo,
      failing ? "failed" : "unchanged",
      failing ? `Gitee answered 500 for pkg${i}` : null,
    );
  }
})();

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

describe("status page in Chromium", () => {
  test(`renders ${TRACKINGS} trackings as one page of rows, failing first, and takes a screenshot`, async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`${server.url}/`, { waitUntil: "load" });
    // The browser's own navigation timing: request sent → load event (server work included).
    const timing: number = await page.evaluate(
      "(() => { const [n] = performance.getEntriesByType('navigation'); return n.loadEventEnd - n.startTime; })()",
    );
    // The document's size shows the page carries one page of rows, whatever the fleet's size;
    // how fast it loads is a figure for bench/, not a bound for a test on a busy machine.
    const bytes: number = await page.evaluate(
      "(() => { const [n] = performance.getEntriesByType('navigation'); return n.decodedBodySize; })()",
    );
    console.log(
      `status page with ${TRACKINGS} trackings: loaded in ${timing.toFixed(0)} ms, ${bytes} bytes`,
    );
    expect(bytes).toBeGreaterThan(0);
    expect(bytes).toBeLessThan(PAGE_BYTES_LIMIT);
    expect(await page.locator("#tracked").textContent()).toBe(String(TRACKINGS));
    expect(await page.locator("#failing").textContent()).toBe(String(TRACKINGS / 50));
    expect(await page.locator("#shown").textContent()).toBe(`1–${PAGE_SIZE} of ${TRACKINGS}`);
    expect(await page.locator("tbody tr").count()).toBe(PAGE_SIZE);
    // All 200 failing trackings come before any healthy one: the first two pages are failing.
    expect(await page.locator("tbody tr.failing").count()).toBe(PAGE_SIZE);
    // Nothing was proposed in these 30 days: the chart says so instead of drawing an empty box.
    expect(await page.locator("svg.chart rect").count()).toBe(0);
    expect(await page.locator("#chart-empty").textContent()).toStartWith(
      "no proposals in the last 7 days",
    );
    const dir = join(PROJECT_ROOT, ".artifacts");
    mkdirSync(dir, { recursive: true });
    const shot = join(dir, "status-page.png");
    await page.screenshot({ path: shot });
    expect(statSync(shot).size).toBeGreaterThan(10_000);
    console.log(`screenshot: ${shot}`);
    await page.close();
  });

  test("the filter form and the pager narrow and walk the table", async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/`);
    await page.fill('input[name="repo"]', "pkg0000");
    await Promise.all([page.waitForURL(/repo=pkg0000/), page.click('button[type="submit"]')]);
    // pkg00000 … pkg00009
    expect(await page.locator("tbody tr").count()).toBe(10);
    await page.selectOption('select[name="state"]', "failing");
    await Promise.all([page.waitForURL(/state=failing/), page.click('button[type="submit"]')]);
    const rows = page.locator("tbody tr");
    expect(await rows.count()).toBe(1);
    expect(await rows.first().textContent()).toContain("src-openeuler/pkg00007");
    expect(await page.locator("#shown").textContent()).toBe("1–1 of 1");
    await page.goto(`${server.url}/status?state=ok`);
    expect(await page.locator("#page").textContent()).toBe("page 1 of 97");
    await Promise.all([page.waitForURL(/page=2/), page.click("text=next »")]);
    expect(await page.locator("#shown").textContent()).toBe("101–200 of 9700");
    await page.close();
  });

  test("a browser asking for zh-CN gets the same page with Chinese labels; others get English", async () => {
    const read = async (locale: string) => {
      const page = await browser.newPage({ locale, viewport: { width: 1400, height: 900 } });
      await page.goto(`${server.url}/status?state=failing`);
      const seen = {
        lang: await page.locator("html").getAttribute("lang"),
        heading: await page.locator("h1").textContent(),
        columns: await page.locator("thead th").allTextContents(),
        tracked: await page.locator("#tracked").textContent(),
        failing: await page.locator("#failing").textContent(),
        shown: await page.locator("#shown").textContent(),
        pager: await page.locator("#page").textContent(),
        rows: await page.locator("tbody tr.failing").count(),
        firstRow: await page.locator("tbody tr td:nth-child(2)").first().textContent(),
        error: await page.locator("tbody tr td.error").first().textContent(),
        // The table's size and columns; where it starts depends on how the summary cards wrap.
        layout: await page.locator("table").evaluate((table) => {
          const box = table.getBoundingClientRect();
          const columns = [...table.querySelectorAll("thead th")].map((th) =>
            Math.round(th.getBoundingClientRect().width),
          );
          return { width: Math.round(box.width), height: Math.round(box.height), columns };
        }),
      };
      return { page, seen };
    };
    const chinese = await read("zh-CN");
    const english = await read("en-US");
    expect(chinese.seen.lang).toBe("zh-CN");
    expect(chinese.seen.heading).toContain("patch-tracking 状态");
    expect(chinese.seen.columns).toEqual([
      "上游仓库",
      "软件包仓库",
      "已启用",
      "最近扫描 (UTC)",
      "结果",
      "最近错误",
      "最新 issue / PR",
      "未合入的 PR",
      "已跳过的提交",
    ]);
    expect(chinese.seen.shown).toBe("1–100，共 200 项");
    expect(chinese.seen.pager).toBe("第 1 页，共 2 页");
    expect(english.seen.lang).toBe("en");
    expect(english.seen.columns[0]).toBe("Upstream");
    expect(english.seen.shown).toBe("1–100 of 200");
    expect(english.seen.pager).toBe("page 1 of 2");
    // The same data in the same places: counts, rows, the untranslated error, the table's shape.
    for (const key of ["tracked", "failing", "rows", "firstRow", "error", "layout"] as const)
      expect({ key, value: chinese.seen[key] }).toEqual({ key, value: english.seen[key] });
    expect(chinese.seen.error).toBe("Gitee answered 500 for pkg7");
    const dir = join(PROJECT_ROOT, ".artifacts");
    mkdirSync(dir, { recursive: true });
    await chinese.page.screenshot({ path: join(dir, "status-page.zh-CN.png") });
    // Walking on keeps the language: the pager's link is followed with the same browser locale.
    await Promise.all([chinese.page.waitForURL(/page=2/), chinese.page.click("text=下一页 »")]);
    expect(await chinese.page.locator("#shown").textContent()).toBe("101–200，共 200 项");
    await chinese.page.close();
    await english.page.close();
  });
});
