import { describe, expect, test } from "bun:test";
import { createRun, finishRun, getRun, recordIssue, recordPull } from "../src/db/runs.ts";
import { recordScan } from "../src/db/status.ts";
import { upsertTracking } from "../src/db/trackings.ts";
import { createServiceMetrics } from "../src/metrics.ts";
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
