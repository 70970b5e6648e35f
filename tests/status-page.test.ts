import { describe, expect, test } from "bun:test";
import { recordPassedOver } from "../src/db/carried.ts";
import { overviewPage } from "../src/db/overview-pages.ts";
import { createRun, finishRun, getRun, recordIssue, recordPull } from "../src/db/runs.ts";
import { listOverview, recordScan } from "../src/db/status.ts";
import { upsertTracking } from "../src/db/trackings.ts";
import { createServiceMetrics } from "../src/metrics.ts";
import { pickLanguage } from "../src/routes/status-page-text.ts";
import { TEST_GITEE_TOKEN, TEST_GITHUB_TOKEN } from "./helpers/settings.ts";
import { startTestServer } from "./helpers/test-server.ts";

const metrics = createServiceMetrics(() => [[{ state: "total" }, 3]]);
const server = startTestServer({}, { metrics });
const db = server.db;

function track(repo: string, branch: string, enabled = true) {
  upsertTracking(db, {
    version_control: "github",
    scm_repo: "up/stream",
    scm_branch: "main",
    repo,
    branch,
    enabled,
  });
}

track("src/healthy", "master");
track("src/broken", "master");
track("src/off", "master", false);
recordScan(db, "src/healthy", "master", { outcome: "proposed", upstreamHead: "a".repeat(40) });
recordScan(db, "src/broken", "master", {
  outcome: "diverged",
  error: "upstream branch main was rewritten <script>alert(1)</script>",
});
const run = createRun(db, {
  repo: "src/healthy",
  branch: "master",
  versionControl: "github",
  scmRepo: "up/stream",
  scmBranch: "main",
  baseCommit: "b".repeat(40),
  timestamp: "20261123101010123000",
  workBranch: "patch-tracking/20261123101010123000",
  commits: [
    {
      sha: "c".repeat(40),
      date: "2026-11-23T10:00:00Z",
      message: "fix",
      url: null,
      empty: false,
      patch: new Uint8Array([1]),
    },
    {
      sha: "d".repeat(40),
      date: "2026-11-23T10:00:00Z",
      message: "fix 2",
      url: null,
      empty: false,
      patch: new Uint8Array([2]),
    },
  ],
});
recordIssue(db, run.id, { number: "I7ABCD", url: "https://gitee.com/src/healthy/issues/I7ABCD" });
recordPull(db, run.id, { number: 12, url: "https://gitee.com/src/healthy/pulls/12" });
finishRun(db, getRun(db, run.id)!);

describe("status page", () => {
  test("lists trackings failing first, with summary, links and escaped errors", async () => {
    const response = await server.call("/");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/html");
    const html = await response.text();
    expect(html).toContain('<b id="tracked">3</b>');
    expect(html).toContain('<b id="failing">1</b>');
    expect(html).toContain('<b id="proposed">2</b>');
    const order = ["src/broken", "src/healthy", "src/off"].map((repo) =>
      html.indexOf(`<td>${repo}<br>`),
    );
    expect(order[0]).toBeGreaterThan(0);
    expect(order[0]).toBeLessThan(order[1]!);
    expect(html).toContain('href="https://gitee.com/src/healthy/issues/I7ABCD"');
    expect(html).toContain('href="https://gitee.com/src/healthy/pulls/12"');
    expect(html).not.toContain("<script>");
    expect(html).toContain("&lt;script&gt;");
    expect(html).not.toContain(TEST_GITHUB_TOKEN);
    expect(html).not.toContain(TEST_GITEE_TOKEN);
  });

  test("filters by repository text and state", async () => {
    const failing = await (await server.call("/status?state=failing")).text();
    expect(failing).toContain("src/broken");
    expect(failing).not.toContain("<td>src/healthy<br>");
    expect(failing).toContain("1–1 of 1");
    const byRepo = await (await server.call("/status?repo=HEALTHY")).text();
    expect(byRepo).toContain("<td>src/healthy<br>");
    expect(byRepo).not.toContain("<td>src/broken<br>");
    const bad = await server.call("/status?state=weird");
    expect(((await bad.json()) as any).code).toBe("4001");
  });
});

describe("open proposals and passed-over commits", () => {
  test("the status page and the overview behind GET /tracking/status (whole and paged) show both", async () => {
    recordPassedOver(db, "src/healthy", "master", [
      { sha: "e".repeat(40), message: "fix 3", reason: "already carried as backport-fix.patch" },
    ]);
    const html = await (await server.call("/")).text();
    const from = html.indexOf("<td>src/healthy<br>");
    const row = html.slice(from, html.indexOf("</tr>", from));
    // The finished run opened proposal !12 with its two commits.
    expect(row).toContain(
      '<td><a href="https://gitee.com/src/healthy/pulls/12">!12</a> <small>2 commits</small></td>',
    );
    expect(row).toContain(
      "<td>1: <small>eeeeeee already carried as backport-fix.patch</small></td>",
    );
    const brokenFrom = html.indexOf("<td>src/broken<br>");
    expect(html.slice(brokenFrom, html.indexOf("</tr>", brokenFrom))).toEndWith(
      "<td>—</td><td>—</td>",
    );

    // GET /tracking/status answers these, whole (listOverview) or a page at a time (overviewPage);
    // the CLI's status test reads them through the real route.
    const whole = listOverview(db, { repo: "src/healthy", branch: "master" });
    const paged = overviewPage(db, { search: "healthy", offset: 0, limit: 100 }).items;
    for (const [item] of [whole, paged]) {
      expect(item?.tracking.repo).toBe("src/healthy");
      expect(item?.proposal).toMatchObject({
        pullNumber: 12,
        pullUrl: "https://gitee.com/src/healthy/pulls/12",
        issueNumber: "I7ABCD",
        commits: ["c".repeat(40), "d".repeat(40)],
      });
      expect(item?.passedOver).toEqual({
        count: 1,
        latest: [{ sha: "e".repeat(40), reason: "already carried as backport-fix.patch" }],
      });
    }
  });
});

describe("status page language", () => {
  test("Accept-Language picks Chinese for any preferred zh tag, English for everything else", () => {
    expect(pickLanguage("zh-CN,zh;q=0.9,en;q=0.8")).toBe("zh-CN");
    expect(pickLanguage("zh")).toBe("zh-CN");
    expect(pickLanguage("ZH-hans-cn")).toBe("zh-CN");
    expect(pickLanguage("en-US,en;q=0.9,zh-CN;q=0.8")).toBe("en");
    expect(pickLanguage("en;q=0.5, zh-CN;q=0.9")).toBe("zh-CN");
    expect(pickLanguage("fr-FR,fr;q=0.9")).toBe("en");
    expect(pickLanguage("fr, zh;q=0.3")).toBe("zh-CN");
    expect(pickLanguage("zh-CN;q=0")).toBe("en");
    expect(pickLanguage("zh-CN;q=abc")).toBe("en");
    expect(pickLanguage("*")).toBe("en");
    expect(pickLanguage("")).toBe("en");
    expect(pickLanguage(null)).toBe("en");
  });

  test("zh-CN gets Chinese labels around the same data and elements; others get English", async () => {
    const chineseAnswer = await server.call("/", {
      headers: { "accept-language": "zh-CN,zh;q=0.9" },
    });
    const englishAnswer = await server.call("/", { headers: { "accept-language": "de-DE" } });
    const defaultAnswer = await server.call("/");
    expect(chineseAnswer.headers.get("vary")).toContain("Accept-Language");
    expect(chineseAnswer.headers.get("content-security-policy")).toContain("style-src 'sha256-");
    const chinese = await chineseAnswer.text();
    const english = await englishAnswer.text();
    expect(await defaultAnswer.text()).toBe(english);
    expect(chinese).toContain('<html lang="zh-CN">');
    expect(english).toContain('<html lang="en">');
    for (const label of [
      "跟踪项",
      "上游仓库",
      "软件包仓库",
      "最近错误",
      "筛选",
      "第 1 页，共 1 页",
    ])
      expect(chinese).toContain(label);
    expect(chinese).toContain('<option value="failing">失败</option>');
    expect(chinese).toContain("1–3，共 3 项");
    expect(chinese).not.toContain("Last error");
    expect(english).toContain("<th>Last error</th>");
    expect(english).toContain("1–3 of 3");
    expect(english).not.toContain("跟踪项");
    // Same data: every element id with its value, every link and the escaped error are identical.
    const ids = (html: string) => [...html.matchAll(/id="(\w+)">([^<]*)</g)].map((m) => m[1]);
    expect(ids(english)).toEqual(["tracked", "enabled", "failing", "proposed", "shown", "page"]);
    expect(ids(chinese)).toEqual(ids(english));
    for (const html of [chinese, english]) {
      expect(html).toContain('<b id="tracked">3</b>');
      expect(html).toContain('<b id="failing">1</b>');
      expect(html).toContain('href="https://gitee.com/src/healthy/pulls/12"');
      expect(html).toContain("upstream branch main was rewritten &lt;script&gt;");
    }
    const rows = (html: string) => (html.match(/<tr class="\w+">/g) ?? []).join();
    expect(rows(chinese)).toBe(rows(english));
    expect(rows(chinese)).toBe('<tr class="failing">,<tr class="ok">,<tr class="disabled">');
  });
});

describe("/metrics", () => {
  test("serves Prometheus text with request counts and collected gauges", async () => {
    await server.call("/tracking");
    metrics.scans.inc({ outcome: "unchanged" });
    const response = await server.call("/metrics");
    expect(response.headers.get("content-type")).toContain("text/plain; version=0.0.4");
    const text = await response.text();
    const samples = new Map<string, number>();
    for (const line of text.split("\n")) {
      if (line === "" || line.startsWith("#")) continue;
      const match = /^([a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
      expect(match).not.toBeNull();
      samples.set(match![1]!, Number(match![2]));
    }
    expect(
      samples.get(
        'patch_tracking_http_requests_total{method="GET",route="/tracking",status="200"}',
      ),
    ).toBeGreaterThanOrEqual(1);
    expect(samples.get('patch_tracking_scans_total{outcome="unchanged"}')).toBe(1);
    expect(samples.get('patch_tracking_trackings{state="total"}')).toBe(3);
    expect(text).toContain("# TYPE patch_tracking_scan_duration_seconds histogram");
  });
});
