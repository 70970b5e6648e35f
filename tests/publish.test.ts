import { describe, expect, test } from "bun:test";
import { listIssues } from "../src/db/issues.ts";
import { openRunFor, runCommits, runsFor, setStep } from "../src/db/runs.ts";
import { getStatus } from "../src/db/status.ts";
import { FORGE_PROFILES } from "../src/forge/profiles.ts";
import { parseWorkBranch } from "../src/scan/branch-name.ts";
import { scanTracking } from "../src/scan/scan-tracking.ts";
import {
  type FaultStep,
  faultMatrixTests,
  GITEE_FAULTS,
  instrumentedForge,
} from "./helpers/fault-matrix.ts";
import { forgeModeOf } from "./helpers/forge-modes.ts";
import { makeWorld, UPSTREAM } from "./helpers/world.ts";

// Also run as ./publish-gitcode.test.ts and ./publish-404.test.ts, against the other forges.
const mode = forgeModeOf(import.meta.url);
const world = await makeWorld({ giteeTimeoutMs: 400, forge: mode });
// Three upstream commits after the tracked base: a fix, a message with `|` and markup, a rename.
const fix = await world.upstream.commit(
  "Fix overflow in parser\n\nSigned-off-by: Ada <ada@example.com>",
  {
    "src/a.c": "int a = 1;\n",
  },
);
const pipe = await world.upstream.commit("Use a|b in the table | check <b>bold</b>", {
  "src/b.c": "int b;\n",
});
const moved = await world.upstream.rename("src/b.c", "src/c.c", "Rename b to c");
const NEW_COMMITS = [fix, pipe, moved];

/** Asserts the downstream repository holds exactly one complete proposal of NEW_COMMITS. */
function expectOneProposal(name: string) {
  const repo = world.gitee.repo(`src-openeuler/${name}`);
  const workBranches = Object.keys(repo.branches).filter((branch) =>
    branch.startsWith("patch-tracking/"),
  );
  expect(workBranches).toHaveLength(1);
  const workBranch = workBranches[0]!;
  const timestamp = parseWorkBranch(workBranch);
  expect(timestamp).toMatch(/^\d{20}$/);
  const files = repo.branches[workBranch]!.files;
  for (const sha of NEW_COMMITS) {
    const patch = files[`${sha}.patch`];
    expect(patch?.text).toStartWith(`From ${sha} Mon Sep 17 00:00:00 2001\n`);
  }
  expect(Object.keys(files).filter((path) => path.endsWith(".patch"))).toHaveLength(3);
  const spec = files[`${name}.spec`]!.text;
  expect(spec).toContain("Release:        2\n");
  NEW_COMMITS.forEach((sha, index) => {
    expect(spec).toMatch(new RegExp(`^Patch${6000 + index}:\\s+${sha}\\.patch$`, "m"));
  });
  expect(spec.match(/^Patch6\d{3}:/gm)).toHaveLength(3);
  expect(spec).toContain(`- append patch file of upstream repository from <${fix}> to <${moved}>`);
  // The tracked branch itself is untouched.
  expect(repo.branches.master!.files[`${name}.spec`]!.text).toContain("Release:        1\n");

  expect(repo.issues).toHaveLength(1);
  const issue = repo.issues[0]!;
  expect(issue.title).toBe(`[patch tracking] master ${timestamp}`);
  expect(issue.body).toStartWith("| Commit | Datetime | Message |\n| ------ | ------ | ------ |\n");
  // Commit links point at the upstream's web host (the emulator's own address here).
  const web = world.github.url.replace(/\/+$/, "");
  expect(issue.body).toContain(
    `| [${fix.slice(0, 7)}](${web}/${UPSTREAM}/commit/${fix}) | 2024-01-01T00:02:00Z |`,
  );
  expect(issue.body).toContain("Use a\\|b in the table \\| check &lt;b&gt;bold&lt;/b&gt;");
  expect(issue.body).toContain(
    "Fix overflow in parser<br><br>Signed-off-by: Ada &lt;ada@example.com&gt;",
  );

  expect(repo.pulls).toHaveLength(1);
  const pull = repo.pulls[0]!;
  expect(pull).toMatchObject({
    title: `[patch tracking] ${timestamp}`,
    head: workBranch,
    base: "master",
  });
  expect(pull.body).toBe(`#${issue.number}`);

  const tracking = world.tracking(name)!;
  expect(tracking.scm_commit).toBe(moved);
  expect(listIssues(world.db, { repo: `src-openeuler/${name}` })).toEqual([
    { issue: issue.number, repo: `src-openeuler/${name}`, branch: "master" },
  ]);
  expect(openRunFor(world.db, `src-openeuler/${name}`, "master")).toBeNull();
}

describe(`publishing (${mode.name})`, () => {
  test("proposes new upstream commits as a branch, patches, spec, issue and pull request", async () => {
    world.addPackage("happy");
    world.gitee.resetLog();
    const result = await world.scan("happy");
    expect(result).toMatchObject({ outcome: "proposed", runs: 1 });
    expectOneProposal("happy");
    const status = getStatus(world.db, "src-openeuler/happy", "master");
    expect(status).toMatchObject({ lastOutcome: "proposed", lastError: null, upstreamHead: moved });
    // The token travels in a header, never in a URL.
    expect(world.gitee.requests.every((request) => request.tokenVia === mode.tokenVia)).toBe(true);
    // Nothing is read that the run already knows: the work branch is new, so it holds no patch
    // file, and the spec was read once, from the tracked branch.
    const repoPath = "/repos/src-openeuler/happy";
    const files: [string, string][] = FORGE_PROFILES[mode.profile].multiFileCommit
      ? [["POST", `${repoPath}/commits`]]
      : [
          ["POST", `${repoPath}/branches`],
          ...NEW_COMMITS.map((sha): [string, string] => [
            "POST",
            `${repoPath}/contents/${sha}.patch`,
          ]),
          ["PUT", `${repoPath}/contents/happy.spec`],
        ];
    world.gitee.expectRequests([
      ["GET", `${repoPath}/contents/happy.spec`],
      ...files,
      ["POST", "/repos/src-openeuler/issues"],
      ["POST", `${repoPath}/pulls`],
    ]);
  });

  test("a second scan with nothing new writes nothing", async () => {
    world.gitee.resetLog();
    const result = await world.scan("happy");
    expect(result.outcome).toBe("unchanged");
    expect(world.gitee.writes()).toEqual([]);
  });

  test("a tracking without scm_commit records the upstream head and proposes nothing", async () => {
    world.addPackage("fresh", null);
    world.gitee.resetLog();
    expect((await world.scan("fresh")).outcome).toBe("started");
    expect(world.tracking("fresh")!.scm_commit).toBe(moved);
    expect(world.gitee.writes()).toEqual([]);
  });

  test("a spec the editor cannot bump still gets its patches proposed, with a note", async () => {
    world.addPackage(
      "macro",
      world.base,
      "Name: macro\nVersion: 1\nRelease: %autorelease\nSummary: x\nLicense: MIT\n%description\nx\n%changelog\n%autochangelog\n",
    );
    expect((await world.scan("macro")).outcome).toBe("proposed");
    const repo = world.gitee.repo("src-openeuler/macro");
    expect(repo.issues[0]!.body).toContain("macro.spec was not updated automatically");
    expect(repo.pulls).toHaveLength(1);
  });

  test("a missing downstream repository fails that tracking only, with the reason kept", async () => {
    world.addPackage("healthy2");
    world.gitee.addRepo("src-openeuler/placeholder");
    const { upsertTracking } = await import("../src/db/trackings.ts");
    upsertTracking(world.db, {
      version_control: "github",
      scm_repo: UPSTREAM,
      scm_branch: "main",
      scm_commit: world.base,
      repo: "src-openeuler/absent",
      branch: "master",
      enabled: true,
    });
    const [bad, good] = await Promise.all([world.scan("absent"), world.scan("healthy2")]);
    expect(bad.outcome).toBe("failed");
    expect(bad.error).toContain("Not Found Project");
    expect(good.outcome).toBe("proposed");
    const run = openRunFor(world.db, "src-openeuler/absent", "master");
    expect(run?.attempts).toBe(1);
    expect(run?.lastError).toContain("404");
  });
});

describe(`exactly once under faults (${mode.name})`, () => {
  // Gitee writes the work branch, patch files and spec as one commit; GitCode file by file.
  const fileSteps: FaultStep[] = FORGE_PROFILES[mode.profile].multiFileCommit
    ? [["files commit", "POST", /^\/repos\/src-openeuler\/[a-z0-9-]+\/commits$/]]
    : [
        ["branch", "POST", /\/branches$/],
        ["patch file", "POST", /\/contents\/[0-9a-f]{40}\.patch$/],
        ["spec", "PUT", /\/contents\/[a-z0-9-]+\.spec$/],
      ];
  const steps: FaultStep[] = [
    ...fileSteps,
    ["issue", "POST", /^\/repos\/src-openeuler\/issues$/],
    ["pull request", "POST", /\/pulls$/],
  ];
  faultMatrixTests({
    world,
    steps,
    faults: GITEE_FAULTS,
    prefix: "fault",
    setUp(name) {
      world.addPackage(name);
      return {
        target: moved,
        check() {
          expectOneProposal(name);
          expect(runsFor(world.db, `src-openeuler/${name}`, "master")).toHaveLength(1);
        },
      };
    },
    summary: "every scenario ended with exactly one proposal",
  });
});

describe(`a run journaled before the files were one commit (${mode.name})`, () => {
  test("its branch and first patch file, written one by one, are completed without a duplicate", async () => {
    world.addPackage("legacy");
    // The first scan journals the run and stops before any write (its spec read fails).
    world.gitee.fault({ method: "GET", path: /\/contents\/legacy\.spec$/ }, { status: 500 });
    expect((await world.scan("legacy")).outcome).toBe("failed");
    world.gitee.clearFaults();
    const run = openRunFor(world.db, "src-openeuler/legacy", "master")!;
    // What the previous version had done when it stopped: the branch and one patch file.
    const [first] = runCommits(world.db, run.id);
    world.gitee.addBranch("src-openeuler/legacy", run.workBranch, "master");
    world.gitee.setFile(
      "src-openeuler/legacy",
      run.workBranch,
      `${first!.sha}.patch`,
      first!.patch!,
    );
    setStep(world.db, run.id, "patches");
    world.gitee.resetLog();
    expect((await world.scan("legacy")).outcome).toBe("proposed");
    expectOneProposal("legacy");
    // Only what was missing was written.
    const created = world.gitee
      .writes()
      .filter((request) => /\/(commits|contents\/.*)$/.test(request.path))
      .flatMap((request) => {
        const body = request.body as { actions?: { path: string }[] } | null;
        return body?.actions?.map((action) => action.path) ?? [request.path.split("/").pop()];
      });
    expect(created).not.toContain(`${first!.sha}.patch`);
    expect(created).toContain(`${NEW_COMMITS[1]}.patch`);
  });
});

describe(`a crash after any forge call of a new proposal (${mode.name})`, () => {
  test("resuming after a crash at each point repeats nothing", async () => {
    world.addPackage("crashcount");
    const counting = instrumentedForge(world.forge, null);
    await scanTracking(
      { ...world.deps, forge: counting.forge },
      "src-openeuler/crashcount",
      "master",
    );
    expectOneProposal("crashcount");
    const total = counting.calls();
    // The spec read, the files commit, the issue, the pull request.
    expect(total).toBe(4);
    for (let crashAfter = 1; crashAfter <= total; crashAfter++) {
      const name = `crash${crashAfter}`;
      world.addPackage(name);
      const crashing = instrumentedForge(world.forge, crashAfter);
      const crashed = await scanTracking(
        { ...world.deps, forge: crashing.forge },
        `src-openeuler/${name}`,
        "master",
      );
      expect(crashed.outcome).toBe("failed");
      world.gitee.resetLog();
      expect((await world.scan(name)).outcome).toBe("proposed");
      expectOneProposal(name);
      // Whatever had landed was read back, not written again.
      const fileWrites = world.gitee
        .writes()
        .filter((request) => /\/(commits|branches|contents\/.*)$/.test(request.path));
      if (crashAfter >= 2) expect(fileWrites).toEqual([]);
      else expect(fileWrites.length).toBeGreaterThan(0);
    }
    console.log(`new proposal crash points (${mode.name}): ${total}, each resumed to one proposal`);
  }, 120_000);
});
