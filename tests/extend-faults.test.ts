/**
 * Exactly once on the extend path: a proposal is open, new commits join it, and each request the
 * extension makes fails (or loses its answer) twice. Whatever happens, the proposal ends with
 * every patch file once, one Patch line per commit, Release bumped once, one changelog entry,
 * one issue listing all commits, one pull request and one comment about the addition.
 * Also run as ./extend-faults-gitcode.test.ts and ./extend-faults-404.test.ts, against the other
 * forges (GitCode writes the files one by one).
 */
import { describe, expect, test } from "bun:test";
import { proposalsFor } from "../src/db/proposals.ts";
import { openRunFor, runsFor } from "../src/db/runs.ts";
import { upsertTracking } from "../src/db/trackings.ts";
import { FORGE_PROFILES } from "../src/forge/profiles.ts";
import type { ExpectedRequest } from "./emulators/gitee.ts";
import {
  crashAtEveryForgeCall,
  type FaultStep,
  faultMatrixTests,
  GITEE_FAULTS,
} from "./helpers/fault-matrix.ts";
import { forgeModeOf } from "./helpers/forge-modes.ts";
import { makeWorld, UPSTREAM } from "./helpers/world.ts";

const mode = forgeModeOf(import.meta.url);
const profile = FORGE_PROFILES[mode.profile];
const world = await makeWorld({ giteeTimeoutMs: 400, forge: mode });
// The first proposal holds `first`; the upstream branch `main` then brings two more commits.
const first = await world.upstream.commit("Fix parser", { "src/a.c": "int a = 1;\n" });
await world.upstream.branch("first", first);
const second = await world.upstream.commit("Add b | c", { "src/b.c": "int b;\n" });
const third = await world.upstream.commit("Fix <b>", { "src/a.c": "int a = 2;\n" });
const ALL = [first, second, third];

function track(name: string, scmBranch: string, scmCommit: string) {
  upsertTracking(world.db, {
    version_control: "github",
    scm_repo: UPSTREAM,
    scm_branch: scmBranch,
    scm_commit: scmCommit,
    repo: `src-openeuler/${name}`,
    branch: "master",
    enabled: true,
  });
}

/** A package with an open proposal of `first`, now tracking `main` from there. */
async function withOpenProposal(name: string) {
  world.addPackage(name);
  track(name, "first", world.base);
  const result = await world.scan(name);
  if (result.outcome !== "proposed") throw new Error(`${name}: first proposal ${result.outcome}`);
  track(name, "main", first);
}

function expectOneExtendedProposal(name: string) {
  const repo = world.gitee.repo(`src-openeuler/${name}`);
  expect(repo.pulls).toHaveLength(1);
  expect(repo.issues).toHaveLength(1);
  const pull = repo.pulls[0]!;
  expect(pull.state).toBe("open");
  const work = Object.keys(repo.branches).filter((branch) => branch.startsWith("patch-tracking/"));
  expect(work).toEqual([pull.head]);
  const files = repo.branches[pull.head]!.files;
  expect(Object.keys(files).filter((path) => path.endsWith(".patch"))).toHaveLength(3);
  const spec = files[`${name}.spec`]!.text;
  expect(spec).toContain("Release:        2\n");
  expect(spec.match(/^Patch\d+:/gm)).toHaveLength(3);
  ALL.forEach((sha, index) => {
    expect(files[`${sha}.patch`]?.text).toStartWith(`From ${sha} `);
    expect(spec).toMatch(new RegExp(`^Patch${6000 + index}:\\s+${sha}\\.patch$`, "m"));
  });
  expect(spec.match(/^\* /gm)).toHaveLength(2);
  expect(spec.match(/^- append patch file/gm)).toHaveLength(1);
  const issue = repo.issues[0]!;
  for (const sha of ALL) expect(issue.body).toContain(`[${sha.slice(0, 7)}](`);
  expect(issue.body.match(/^\| \[/gm)).toHaveLength(3);
  expect(pull.comments).toHaveLength(1);
  expect(pull.comments[0]!.body).toStartWith(
    `[patch tracking] added ${second.slice(0, 7)}..${third.slice(0, 7)}`,
  );
  expect(world.tracking(name)!.scm_commit).toBe(third);
  expect(openRunFor(world.db, `src-openeuler/${name}`, "master")).toBeNull();
  expect(runsFor(world.db, `src-openeuler/${name}`, "master").map((run) => run.kind)).toEqual([
    "extend",
    "new",
  ]);
  expect(proposalsFor(world.db, `src-openeuler/${name}`, "master").map((p) => p.state)).toEqual([
    "open",
  ]);
}

describe(`extending a proposal (${mode.name})`, () => {
  test("without faults: one comment, the issue edited, Release still bumped once", async () => {
    await withOpenProposal("plain");
    world.gitee.resetLog();
    expect((await world.scan("plain")).outcome).toBe("proposed");
    expectOneExtendedProposal("plain");
    // Requests of one extension with two commits (reads and writes).
    const made = world.gitee.requests.map((request) => `${request.method} ${request.path}`);
    const repoPath = "/repos/src-openeuler/plain";
    const files: ExpectedRequest[] = profile.multiFileCommit
      ? [["POST", `${repoPath}/commits`]]
      : [
          ["POST", `${repoPath}/contents/${second}.patch`],
          ["POST", `${repoPath}/contents/${third}.patch`],
          // The work branch's spec sha, for the update (no multi-file commit to lean on).
          ["GET", `${repoPath}/contents/plain.spec`],
          ["PUT", `${repoPath}/contents/plain.spec`],
        ];
    world.gitee.expectRequests([
      ["GET", `${repoPath}/contents/plain.spec`],
      ["GET", `${repoPath}/pulls/1`],
      ...files,
      [profile.updateIssueMethod, "/repos/src-openeuler/issues/*"],
      ["POST", `${repoPath}/pulls/1/comments`],
    ]);
    console.log(`extension of 2 commits: ${made.length} Gitee requests\n  ${made.join("\n  ")}`);
  });
});

describe(`exactly once on the extend path under faults (${mode.name})`, () => {
  // The added patch files and the spec: one commit onto the proposal's branch, or file by file.
  const fileSteps: FaultStep[] = profile.multiFileCommit
    ? [["files commit", "POST", /^\/repos\/src-openeuler\/[a-z0-9-]+\/commits$/]]
    : [
        ["patch file", "POST", /\/contents\/[0-9a-f]{40}\.patch$/],
        ["spec", "PUT", /\/contents\/[a-z0-9-]+\.spec$/],
      ];
  const steps: FaultStep[] = [
    ["pull request state", "GET", /\/pulls\/\d+$/],
    ...fileSteps,
    ["issue edit", profile.updateIssueMethod, /^\/repos\/src-openeuler\/issues\/[A-Z0-9]+$/],
    ["comment", "POST", /\/pulls\/\d+\/comments$/],
  ];
  faultMatrixTests({
    world,
    steps,
    faults: GITEE_FAULTS,
    prefix: "extend",
    async setUp(name) {
      await withOpenProposal(name);
      return { target: third, check: () => expectOneExtendedProposal(name) };
    },
    summary: "every extend scenario ended with exactly one extended proposal",
  });
});

describe(`a crash after any forge call of an extension (${mode.name})`, () => {
  test("resuming after a crash at each point repeats nothing", async () => {
    const total = await crashAtEveryForgeCall(world, async (name) => {
      await withOpenProposal(name);
      return { check: () => expectOneExtendedProposal(name) };
    });
    // The pull request's state, the tracked spec, the files commit, the issue, the comment.
    expect(total).toBe(5);
    console.log(
      `extend crash points (${mode.name}): ${total}, each resumed to one extended proposal`,
    );
  }, 120_000);
});
