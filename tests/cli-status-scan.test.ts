/**
 * `patch-tracking-cli status` and `scan` against the real service (HTTPS, scanner, scan routes)
 * wired to the GitHub and Gitee emulators: what the terminal shows, what lands on Gitee, and how
 * refusals (unknown tracking, wrong password, scanner off) and slow scans are reported.
 */
import { describe, expect, test } from "bun:test";
import { getTracking } from "../src/db/trackings.ts";
import { cli } from "./helpers/cli.ts";
import { startEngineServer } from "./helpers/engine-server.ts";
import { makeWorld } from "./helpers/world.ts";

const world = await makeWorld();
const c1 = await world.upstream.commit("Fix a crash", { "src/a.c": "int a = 3;\n" });
const c2 = await world.upstream.commit("Add feature", { "src/f.c": "int f;\n" });
const credentials = ["--user", "admin", "--password", "Test@123"];

function issueAndPull(name: string) {
  const repo = world.gitee.repo(`src-openeuler/${name}`);
  return { issues: repo.issues, pulls: repo.pulls, repo };
}

const statusService = await startEngineServer(world);
statusService.track("healthy", world.base);
statusService.track("broken", world.base, { gitee: false });
statusService.track("off", world.base, { enabled: false });
const healthy = await statusService.scanner.scanOne("src-openeuler/healthy", "master");
const broken = await statusService.scanner.scanOne("src-openeuler/broken", "master");
const brokenError = broken.error ?? "";

describe("status", () => {
  const service = statusService;

  test("the fixture: one tracking proposed, one failed", () => {
    expect(healthy.outcome).toBe("proposed");
    expect(broken.outcome).toBe("failed");
  });

  test("a summary, the scanner's state and an aligned table, failing first, with issue and PR links", async () => {
    const result = await cli(["status", ...service.connection]);
    expect(result.err).toBe("");
    expect(result.code).toBe(0);
    const lines = result.out.trimEnd().split("\n");
    // The failed scan journaled its run before the first write; it stays open for a retry.
    expect(lines[0]).toBe("3 tracked: 2 enabled, 1 failing, 1 with an open run");
    expect(lines[1]).toMatch(
      /^scanner: running; last full scan finished \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(0 trackings\)$/,
    );
    expect(lines[2]).toBe("");
    const header = lines[3]!;
    expect(header.trim().split(/\s+/)).toEqual([
      "upstream",
      "downstream",
      "enabled",
      "last_scan_utc",
      "outcome",
      "open_run",
      "issue",
      "pull_request",
      "open_proposal",
      "passed_over",
      "filters",
      "last_error",
    ]);
    const rows = lines.slice(4);
    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatch(/^1 {2}up\/stream@main +src-openeuler\/broken@master +yes +\d{4}-/);
    expect(rows[0]).toMatch(
      / failed +run \d+ at branch, 1 failed attempt(, next try [\d-]+ [\d:]+ UTC)? +- +- +- +- +- +\S/,
    );
    // Not a terminal: the error is whole.
    expect(rows[0]).toEndWith(brokenError);
    expect(rows[1]).toContain("src-openeuler/healthy@master");
    expect(rows[1]).toContain(" proposed ");
    const { issues, pulls } = issueAndPull("healthy");
    expect(rows[1]).toContain(
      `https://gitee.com/src-openeuler/healthy/issues/${issues[0]!.number}`,
    );
    expect(rows[1]).toMatch(
      new RegExp(
        `https://gitee\\.com/src-openeuler/healthy/pulls/${pulls[0]!.number} +!${pulls[0]!.number} \\(2 commits\\) +- +- +-$`,
      ),
    );
    expect(rows[2]).toMatch(/src-openeuler\/off@master +no +never +- +- +- +- +- +- +- +-$/);
    // Aligned: every column starts at the same offset on every line.
    const offsets = [...header.matchAll(/\S+/g)].map((match) => match.index);
    for (const offset of offsets.slice(0, 4)) {
      for (const row of rows) {
        expect(row[offset - 1]).toBe(" ");
        expect(row[offset]).not.toBe(" ");
      }
    }
  });

  test("--failing keeps the failing tracking; --repo filters; no match is said, exit 0", async () => {
    let result = await cli(["status", ...service.connection, "--failing"]);
    expect(result.code).toBe(0);
    let lines = result.out.trimEnd().split("\n");
    expect(lines[0]).toBe(
      "1 tracked (failing or with an open run): 1 enabled, 1 failing, 1 with an open run",
    );
    expect(lines.slice(4)).toHaveLength(1);
    expect(lines[4]).toContain("src-openeuler/broken@master");

    result = await cli(["status", ...service.connection, "--repo", "src-openeuler/healthy"]);
    expect(result.code).toBe(0);
    lines = result.out.trimEnd().split("\n");
    expect(lines[0]).toBe(
      "1 tracked (repo src-openeuler/healthy): 1 enabled, 0 failing, 0 with an open run",
    );
    expect(lines.slice(4)).toHaveLength(1);
    expect(lines[4]).toContain("src-openeuler/healthy@master");

    result = await cli([
      "status",
      ...service.connection,
      "--repo",
      "src-openeuler/healthy",
      "--failing",
    ]);
    expect(result.code).toBe(0);
    expect(result.out).toStartWith(
      "no trackings match repo src-openeuler/healthy, failing or with an open run\nscanner: running",
    );
  });

  test("--json prints the service's data for scripts", async () => {
    const result = await cli(["status", ...service.connection, "--json", "--failing"]);
    expect(result.code).toBe(0);
    const data = JSON.parse(result.out);
    expect(data.scanner).toMatchObject({ enabled: true, disabledReason: null });
    expect(data.trackings).toHaveLength(1);
    expect(data.trackings[0].tracking.repo).toBe("src-openeuler/broken");
    expect(data.trackings[0].status).toMatchObject({
      lastOutcome: "failed",
      lastError: brokenError,
    });
  });

  test("on a terminal the last error is cut to fit, down to 40 columns; whole when there is room", async () => {
    expect(brokenError.length).toBeGreaterThan(40);
    const narrow = await cli(["status", ...service.connection, "--failing"], { columns: 80 });
    const cell = narrow.out.trimEnd().split("\n")[4]!.split(/ {2,}/).at(-1)!;
    expect(cell.endsWith("…")).toBe(true);
    expect(cell.length).toBe(40);
    expect(brokenError.startsWith(cell.slice(0, -1))).toBe(true);
    const wide = await cli(["status", ...service.connection, "--failing"], { columns: 400 });
    const line = wide.out.trimEnd().split("\n")[4]!;
    expect(line).toEndWith(`  ${brokenError}`);
    expect(line.length).toBeLessThanOrEqual(400);
    // Just wide enough for the whole error: not cut; one column less: cut.
    const exact = await cli(["status", ...service.connection, "--failing"], {
      columns: line.length,
    });
    expect(exact.out).toContain(brokenError);
    const short = await cli(["status", ...service.connection, "--failing"], {
      columns: line.length - 1,
    });
    expect(short.out).not.toContain(brokenError);
    expect(short.out.trimEnd().split("\n")[4]!.length).toBe(line.length - 1);
  });

  test("a server that is not there: the problem is named, exit 1", async () => {
    const result = await cli(["status", "--server", "http://127.0.0.1:9"]);
    expect(result.code).toBe(1);
    expect(result.err).toContain("cannot connect to http://127.0.0.1:9");
    expect(result.err).toContain("is the service running?");
    const missing = await cli(["status"]);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain("the following options are required: --server");
  });
});

// Gitee requests may take 31 s below (the slow scan), so the forge client waits longer.
const scanService = await startEngineServer(world, { REQUEST_TIMEOUT: 60 });

describe("scan", () => {
  const service = scanService;
  const scanArgs = (name: string, extra: string[] = credentials) => [
    "scan",
    ...service.connection,
    ...extra,
    "--repo",
    `src-openeuler/${name}`,
    "--branch",
    "master",
  ];

  test("new upstream commits: prints the proposed issue and pull request, which Gitee holds", async () => {
    service.track("fresh", world.base);
    const result = await cli(scanArgs("fresh"));
    expect(result.code).toBe(0);
    const { issues, pulls, repo } = issueAndPull("fresh");
    expect(issues).toHaveLength(1);
    expect(pulls).toHaveLength(1);
    expect(pulls[0]!.body).toBe(
      `Apply check: not checked: no archive found (fresh-1.2.3.tar.gz is not in the repository)\n\n#${issues[0]!.number}`,
    );
    const work = Object.keys(repo.branches).filter((name) => name.startsWith("patch-tracking/"));
    expect(work).toHaveLength(1);
    expect(Object.keys(repo.branches[work[0]!]!.files).sort()).toEqual(
      [`${c1}.patch`, `${c2}.patch`, "fresh.spec"].sort(),
    );
    expect(result.out).toBe(
      `src-openeuler/fresh@master: proposed: issue #${issues[0]!.number} https://gitee.com/src-openeuler/fresh/issues/${issues[0]!.number}, pull request #${pulls[0]!.number} https://gitee.com/src-openeuler/fresh/pulls/${pulls[0]!.number}\n`,
    );
    // Not a terminal: plain progress lines, nothing rewritten.
    expect(result.err).toBe("scanning src-openeuler/fresh@master…\n");
    expect(getTracking(service.db, "src-openeuler/fresh", "master")?.scm_commit).toBe(c2);

    const again = await cli(scanArgs("fresh"));
    expect(again.code).toBe(0);
    expect(again.out).toBe("src-openeuler/fresh@master: up to date\n");
    expect(issueAndPull("fresh").issues).toHaveLength(1);
  });

  test("without --branch every branch of the repository is scanned, each reported", async () => {
    service.track("both", null);
    service.db.run(
      `INSERT INTO tracking (version_control, scm_repo, scm_branch, scm_commit, repo, branch, enabled)
       VALUES ('github', 'up/stream', 'main', '${c2}', 'src-openeuler/both', 'next', 1)`,
    );
    const result = await cli([
      "scan",
      ...service.connection,
      ...credentials,
      "--repo",
      "src-openeuler/both",
    ]);
    expect(result.code).toBe(0);
    expect(result.err).toBe("scanning src-openeuler/both (every branch)…\n");
    expect(result.out.split("\n").sort()).toEqual(
      [
        "",
        "src-openeuler/both@master: started: the upstream head was recorded; later commits will be proposed",
        "src-openeuler/both@next: up to date",
        "2 trackings scanned: 2 ok, 0 not",
      ].sort(),
    );
  });

  test("a failing scan prints its error and exits 1", async () => {
    service.track("nowhere", world.base, { gitee: false });
    const result = await cli(scanArgs("nowhere"));
    expect(result.code).toBe(1);
    expect(result.out).toStartWith("src-openeuler/nowhere@master: failed: ");
    expect(result.out.length).toBeGreaterThan("src-openeuler/nowhere@master: failed: ".length + 5);
    expect(getTracking(service.db, "src-openeuler/nowhere", "master")?.scm_commit).toBe(world.base);
  });

  test("an unknown tracking is named, exit 1", async () => {
    const result = await cli(scanArgs("none"));
    expect(result.code).toBe(1);
    expect(result.out).toBe("");
    expect(result.err).toContain(
      "patch-tracking-cli scan: error: no tracking for src-openeuler/none@master: nothing was scanned",
    );
  });

  test("a wrong password gets the 401 message and scans nothing", async () => {
    service.track("guarded", world.base);
    const result = await cli(scanArgs("guarded", ["--user", "admin", "--password", "Wrong@123"]));
    expect(result.code).toBe(1);
    expect(result.err).toContain('refused the credentials of user "admin" (HTTP 401)');
    expect(issueAndPull("guarded").issues).toHaveLength(0);
    expect(getTracking(service.db, "src-openeuler/guarded", "master")?.scm_commit).toBe(world.base);
  });

  test("missing options are named at once; --repo is required", async () => {
    const result = await cli(["scan", ...service.connection]);
    expect(result.code).toBe(1);
    expect(result.err).toContain("  --user\n  --password (or PATCH_TRACKING_PASSWORD");
    expect(result.err).toContain("  --repo\n");
    expect(result.err).toContain("see: patch-tracking-cli scan --help");
    const password = await cli(["scan", ...service.connection, ...credentials.slice(0, 2)], {
      env: { PATCH_TRACKING_PASSWORD: "Test@123" },
    });
    expect(password.err).toContain("the following options are required: --repo");
    expect(password.err).not.toContain("--password");
  });

  test("on a terminal the progress line rewrites itself and is erased before the result", async () => {
    service.track("tty", world.base);
    const result = await cli(scanArgs("tty"), { errIsTerminal: true });
    expect(result.code).toBe(0);
    expect(result.err).toStartWith("\r⠋ scanning src-openeuler/tty@master… 0 s\x1b[K");
    expect(result.err).toEndWith("\r\x1b[K");
    expect(result.err).not.toContain("\n");
    expect(result.out).toStartWith("src-openeuler/tty@master: proposed: issue #");
  });

  test("a slow scan shows progress every 5 s off a terminal, and its answer outlasts the server's 30 s idle limit", async () => {
    service.track("slow", world.base);
    world.gitee.fault({ method: "POST", path: /\/pulls$/, times: 1 }, { delayMs: 31_000 });
    try {
      const result = await cli(scanArgs("slow"));
      const label = "scanning src-openeuler/slow@master…";
      expect(result.err).toBe(
        [label, ...[5, 10, 15, 20, 25, 30].map((s) => `${label} ${s} s`), ""].join("\n"),
      );
      expect(result.code).toBe(0);
      expect(result.out).toStartWith("src-openeuler/slow@master: proposed: issue #");
      expect(issueAndPull("slow").pulls).toHaveLength(1);
    } finally {
      world.gitee.clearFaults();
    }
  }, 60_000);
});

const disabledService = await startEngineServer(world, {
  GITEE_ACCESS_TOKEN: '"refused-token"',
});

describe("scanner disabled", () => {
  const service = disabledService;
  service.track("parked", world.base);

  test("scan answers 503: the CLI says the scanner is off and why, exit 1", async () => {
    const result = await cli([
      "scan",
      ...service.connection,
      ...credentials,
      "--repo",
      "src-openeuler/parked",
    ]);
    expect(result.code).toBe(1);
    expect(result.err).toContain("error: the scanner is disabled: gitee token refused");
    expect(issueAndPull("parked").issues).toHaveLength(0);
  });

  test("status shows the scanner as disabled with the reason", async () => {
    const result = await cli(["status", ...service.connection]);
    expect(result.code).toBe(0);
    expect(result.out.split("\n")[1]).toStartWith("scanner: disabled: gitee token refused");
  });
});
