/**
 * The real service process against the emulators: kills between publish steps, clean stops,
 * token checks, immediate first scans, the scan interval, and the HTTP status and dry-run views.
 */

import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { serviceFor } from "./helpers/service.ts";
import { TEST_GITEE_TOKEN, TEST_GITHUB_TOKEN } from "./helpers/settings.ts";
import { TRACKING_FIELDS } from "./helpers/tracking-fields.ts";
import { waitFor } from "./helpers/wait.ts";
import { makeWorld } from "./helpers/world.ts";

const world = await makeWorld();
const c1 = await world.upstream.commit("Fix a crash", { "src/a.c": "int a = 3;\n" });
const c2 = await world.upstream.commit("Add feature", { "src/f.c": "int f;\n" });
const HEAD = c2;

function downstreamRepo(name: string) {
  world.gitee.addRepo(`src-openeuler/${name}`, {
    files: {
      [`${name}.spec`]: `Name: ${name}\nVersion: 1\nRelease: 1\nSummary: t\nLicense: MIT\n\n%description\nt\n\n%prep\n%autosetup -p1\n\n%changelog\n* Mon Jan 01 2024 T <t@example.com> - 1-1\n- init\n`,
    },
  });
}

function expectExactlyOneProposal(name: string) {
  const repo = world.gitee.repo(`src-openeuler/${name}`);
  const work = Object.keys(repo.branches).filter((branch) => branch.startsWith("patch-tracking/"));
  expect(work).toHaveLength(1);
  const files = repo.branches[work[0]!]!.files;
  expect(
    Object.keys(files)
      .filter((path) => path.endsWith(".patch"))
      .sort(),
  ).toEqual([`${c1}.patch`, `${c2}.patch`].sort());
  expect(files[`${name}.spec`]!.text.match(/^Patch6\d{3}:/gm)).toHaveLength(2);
  expect(files[`${name}.spec`]!.text).toContain("Release: 2");
  expect(repo.issues).toHaveLength(1);
  expect(repo.pulls).toHaveLength(1);
  // APPLY_CHECK is on by default: the summary line comes first (this spec names no archive).
  expect(repo.pulls[0]!.body).toBe(
    `Apply check: not checked: the spec has no Source0\n\n#${repo.issues[0]!.number}`,
  );
}

function countRuns(databasePath: string, name: string) {
  const db = new Database(databasePath, { readonly: true });
  try {
    return db
      .query<{ state: string; n: number }, [string]>(
        "SELECT state, COUNT(*) AS n FROM publish_run WHERE repo = ? GROUP BY state",
      )
      .all(`src-openeuler/${name}`);
  } finally {
    db.close();
  }
}

function expectNoSecrets(output: string) {
  expect(output).not.toContain(TEST_GITHUB_TOKEN);
  expect(output).not.toContain(TEST_GITEE_TOKEN);
  expect(output).not.toContain("Test@123");
}

describe("SIGKILL between publish steps", () => {
  const steps: [string, string, RegExp][] = [
    // The work branch, its patch files and the spec: one commit.
    ["files commit", "POST", /\/commits$/],
    ["issue", "POST", /^\/repos\/src-openeuler\/issues$/],
    ["pull request", "POST", /\/pulls$/],
  ];
  let index = 0;
  for (const [step, method, path] of steps) {
    test(`killed while the ${step} request is in flight: the restart resumes the same run`, async () => {
      const name = `kill${++index}`;
      downstreamRepo(name);
      const service = await serviceFor(world);
      service.track(name, world.base);
      world.gitee.resetLog();
      // The request arrives, the process dies, and the forge completes the write afterwards.
      world.gitee.fault({ method, path, times: 1 }, { delayMs: 700 });
      await service.start();
      await waitFor(
        () =>
          world.gitee.requests.some(
            (r) => r.method === method && path.test(r.path) && r.status === 0,
          ),
        15_000,
        `${step} request`,
      );
      await service.current!.stop("SIGKILL");
      await waitFor(() => world.gitee.requests.every((r) => r.status !== 0), 5000, "delayed write");
      world.gitee.clearFaults();
      expect(countRuns(service.databasePath, name)).toEqual([{ state: "open", n: 1 }]);

      await service.start();
      await waitFor(() => service.scmCommit(name) === HEAD, 15_000, "scm_commit advanced");
      await service.current!.stop();
      expectExactlyOneProposal(name);
      expect(countRuns(service.databasePath, name)).toEqual([{ state: "done", n: 1 }]);
      expectNoSecrets(service.output());
    });
  }
});

describe("service lifecycle", () => {
  test("SIGTERM during a publish step stops cleanly; the run resumes on the next start", async () => {
    downstreamRepo("term");
    const service = await serviceFor(world);
    service.track("term", world.base);
    world.gitee.resetLog();
    world.gitee.fault(
      { method: "POST", path: /^\/repos\/src-openeuler\/issues$/, times: 1 },
      { delayMs: 500 },
    );
    await service.start();
    await waitFor(() =>
      world.gitee.requests.some((r) => r.path === "/repos/src-openeuler/issues" && r.status === 0),
    );
    const code = await service.current!.stop("SIGTERM");
    expect(code).toBe(0);
    expect(service.output()).toContain('"msg":"stopped"');
    world.gitee.clearFaults();
    expect(countRuns(service.databasePath, "term")).toEqual([{ state: "open", n: 1 }]);
    await service.start();
    await waitFor(() => service.scmCommit("term") === HEAD);
    await service.current!.stop();
    expectExactlyOneProposal("term");
  });

  test("a refused token turns the scanner off; the API keeps serving", async () => {
    const service = await serviceFor(world, { GITEE_ACCESS_TOKEN: '"wrong-token-for-gitee"' });
    await service.start();
    await waitFor(() => service.output().includes("scanner off"), 10_000, "scanner off log line");
    expect((await service.call("/health")).status).toBe(200);
    const scan = await service.call("/tracking/scan?repo=src-openeuler/x", {
      method: "POST",
      auth: true,
    });
    expect(scan.status).toBe(503);
    expect(((await scan.json()) as any).msg).toContain("gitee token refused");
    const status: any = await (await service.call("/tracking/status")).json();
    expect(status.data.scanner).toMatchObject({ enabled: false });
    await service.current!.stop();
    expect(service.output()).not.toContain("wrong-token-for-gitee");
  });

  test("a tracking added through the API without scm_commit starts from the head within seconds", async () => {
    downstreamRepo("added");
    const service = await serviceFor(world);
    await service.start();
    await waitFor(async () => {
      const status: any = await (await service.call("/tracking/status")).json();
      return status.data.scanner.enabled && status.data.scanner.lastScan !== null;
    });
    world.gitee.resetLog();
    const response = await service.call("/tracking", {
      method: "POST",
      auth: true,
      json: {
        version_control: "github",
        scm_repo: "up/stream",
        scm_branch: "main",
        repo: "src-openeuler/added",
        branch: "master",
        enabled: true,
      },
    });
    expect(((await response.json()) as any).code).toBe("2001");
    await waitFor(() => service.scmCommit("added") === HEAD, 5000, "head recorded");
    expect(world.gitee.writes()).toEqual([]);
    const row: any = await (await service.call("/tracking?repo=src-openeuler/added")).json();
    expect(row.data[0].scm_commit).toBe(HEAD);
    await service.current!.stop();
  });

  test("the interval scan picks up new upstream commits without a trigger; status and metrics show it", async () => {
    downstreamRepo("interval");
    const service = await serviceFor(world, { SCAN_DB_INTERVAL: 1 });
    service.track("interval", world.base);
    await service.start();
    await waitFor(() => service.scmCommit("interval") === HEAD, 15_000, "first proposal");
    const status: any = await (
      await service.call("/tracking/status?repo=src-openeuler/interval")
    ).json();
    const item = status.data.trackings[0];
    expect(item.status.lastOutcome).toMatch(/proposed|unchanged/);
    expect(item.lastRun.issueUrl).toContain("/issues/");
    expect(item.lastRun.pullUrl).toContain("/pulls/");
    expect(Object.keys(item.tracking).sort()).toEqual([...TRACKING_FIELDS].sort());
    const metrics = await (await service.call("/metrics")).text();
    expect(metrics).toMatch(/patch_tracking_publish_runs_total\{outcome="done"\} 1/);
    expect(metrics).toMatch(
      /patch_tracking_gitee_requests_total\{method="POST",status="201"\} \d+/,
    );
    expect(metrics).toMatch(
      /patch_tracking_rate_limit_remaining\{[^}]*service="github"[^}]*\} \d+/,
    );
    // Nothing new upstream: later interval scans write nothing.
    world.gitee.resetLog();
    await Bun.sleep(2200);
    expect(world.gitee.writes()).toEqual([]);
    await service.current!.stop();
    expectExactlyOneProposal("interval");
    expectNoSecrets(service.output());
  });
});

describe("logs", () => {
  test("debug logs of a proposal with failures hold no token or password, even with tokens in query strings", async () => {
    downstreamRepo("logs");
    // A one-second interval also bounds the early retry after the failed commit of the files.
    const service = await serviceFor(world, { GITEE_TOKEN_IN_QUERY: "True", SCAN_DB_INTERVAL: 1 });
    service.track("logs", world.base);
    world.gitee.fault({ method: "POST", path: /\/commits$/, times: 1 }, { status: 500 });
    world.gitee.fault({ method: "GET", path: /\/contents\//, times: 2 }, { status: 502 });
    world.github.fault({ path: "/compare/", times: 1 }, { kind: "5xx" });
    await service.start();
    await service.call("/tracking", { method: "POST", auth: "wrong" as never, json: {} });
    await waitFor(() => service.scmCommit("logs") === HEAD, 20_000, "proposal despite faults");
    await service.current!.stop();
    world.gitee.clearFaults();
    world.github.clearFaults();
    expect(world.gitee.requests.some((request) => request.tokenVia === "query")).toBe(true);
    // The faults hit: the logs under test are those of failed requests.
    expect(
      world.gitee.requests.some(
        (request) =>
          request.method === "POST" && /\/commits$/.test(request.path) && request.status === 500,
      ),
    ).toBe(true);
    const output = service.output();
    expect(output).toContain('"level":"debug"');
    expectNoSecrets(output);
    expect(output).not.toMatch(/authorization:\s*(bearer|token|basic)\s+[^[\s]/i);
  });
});

describe("dry run over HTTP", () => {
  test("shows commits, patch files and the spec diff, and writes nothing", async () => {
    downstreamRepo("dry");
    const service = await serviceFor(world);
    service.track("dry", world.base);
    // The boot scan must not publish this tracking: its work branch can never be created.
    world.gitee.fault({ method: "POST", path: /\/commits$/ }, { status: 503 });
    await service.start();
    world.gitee.resetLog();
    const unauthenticated = await service.call(
      "/tracking/plan?repo=src-openeuler/dry&branch=master",
    );
    expect(unauthenticated.status).toBe(401);
    const response = await service.call("/tracking/plan?repo=src-openeuler/dry&branch=master", {
      auth: true,
    });
    const plan: any = ((await response.json()) as any).data;
    world.gitee.clearFaults();
    expect(plan.state).toBe("would-propose");
    expect(plan.commits.map((commit: any) => commit.sha)).toEqual([c1, c2]);
    expect(plan.commits[0]).toMatchObject({
      subject: "Fix a crash",
      patchFile: `${c1}.patch`,
      empty: false,
    });
    expect(plan.commits[0].patchBytes).toBeGreaterThan(100);
    expect(plan.spec.diff).toContain(`+Patch6000:`);
    expect(plan.spec.diff).toContain("-Release: 1");
    expect(plan.issue.title).toMatch(/^\[patch tracking\] master \d{20}$/);
    expect(plan.pull).toMatchObject({ base: "master" });
    expect(world.gitee.writes().filter((r) => !/\/commits$/.test(r.path))).toEqual([]);
    const unknown: any = await (
      await service.call("/tracking/plan?repo=src-openeuler/none&branch=master", { auth: true })
    ).json();
    expect(unknown.code).toBe("4002");
    await service.current!.stop();
  });
});
