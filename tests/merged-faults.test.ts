/**
 * A proposal whose pull request a maintainer merged: when the next commits arrive, its issue is
 * closed with one comment naming the merged pull request (unless Gitee closed it at the merge),
 * then the new commits open a fresh proposal. Each request of the closing step fails (or loses its
 * answer, or lands late) twice, or the process dies after any forge call of that scan; whatever
 * happens, the merged proposal's issue ends closed with exactly one comment, and there is one new
 * proposal. Also run as ./merged-faults-gitcode.test.ts (GitCode edits issues with POST).
 */
import { describe, expect, test } from "bun:test";
import { proposalsFor } from "../src/db/proposals.ts";
import { openRunFor, runsFor } from "../src/db/runs.ts";
import { FORGE_PROFILES } from "../src/forge/profiles.ts";
import {
  crashAtEveryForgeCall,
  type FaultStep,
  faultMatrixTests,
  GITEE_FAULTS,
} from "./helpers/fault-matrix.ts";
import { forgeModeOf } from "./helpers/forge-modes.ts";
import { makeWorld, packageSpec, trackPackage } from "./helpers/world.ts";

const mode = forgeModeOf(import.meta.url);
const profile = FORGE_PROFILES[mode.profile];
const world = await makeWorld({ giteeTimeoutMs: 400, forge: mode });
let fileCounter = 0;

function upstreamCommit(subject: string): Promise<string> {
  fileCounter++;
  return world.upstream.commit(subject, { [`src/m${fileCounter}.c`]: `int m${fileCounter};\n` });
}

/**
 * A package whose proposal of one commit a maintainer merged (with Gitee's "close related
 * issue" merge option when `giteeCloses`), and one more upstream commit to propose.
 */
async function mergedWithNext(name: string, giteeCloses = false): Promise<{ next: string }> {
  world.gitee.addRepo(`src-openeuler/${name}`, {
    files: { [`${name}.spec`]: packageSpec(name) },
  });
  trackPackage(world.db, name, await world.upstream.head());
  await upstreamCommit(`First fix for ${name}`);
  const opened = await world.scan(name);
  if (opened.outcome !== "proposed") throw new Error(`${name}: first proposal ${opened.outcome}`);
  world.gitee.mergePull(`src-openeuler/${name}`, 1, { closeRelatedIssues: giteeCloses });
  return { next: await upstreamCommit(`Second fix for ${name}`) };
}

function expectClosedAndFresh(name: string, next: string, comments = 1) {
  const repo = world.gitee.repo(`src-openeuler/${name}`);
  expect(repo.pulls.map((pull) => pull.state)).toEqual(["merged", "open"]);
  expect(repo.issues.map((issue) => issue.state)).toEqual(["closed", "open"]);
  const [merged, fresh] = repo.pulls;
  const [mergedIssue, freshIssue] = repo.issues;
  expect(mergedIssue!.comments.map((comment) => comment.body.split(" (")[0])).toEqual(
    comments === 1 ? [`[patch tracking] !${merged!.number}`] : [],
  );
  expect(merged!.comments).toEqual([]);
  expect(fresh!.comments).toEqual([]);
  expect(freshIssue!.comments).toEqual([]);
  expect(fresh!.body).toContain(`#${freshIssue!.number}`);
  expect(world.tracking(name)!.scm_commit).toBe(next);
  expect(openRunFor(world.db, `src-openeuler/${name}`, "master")).toBeNull();
  expect(proposalsFor(world.db, `src-openeuler/${name}`, "master").map((p) => p.state)).toEqual([
    "open",
    "merged",
  ]);
}

describe(`a merged proposal's issue (${mode.name})`, () => {
  test("is closed with one comment naming the merged pull request", async () => {
    const { next } = await mergedWithNext("merged");
    world.gitee.resetLog();
    expect((await world.scan("merged")).outcome).toBe("proposed");
    expectClosedAndFresh("merged", next);
    const comment = world.gitee.repo("src-openeuler/merged").issues[0]!.comments[0]!.body;
    expect(comment).toContain("was merged");
    expect(comment).toContain("/pulls/1");
    // Read first, one comment, closed with the profile's verb; then the new proposal.
    const number = world.gitee.repo("src-openeuler/merged").issues[0]!.number;
    const seen = world.gitee.requests
      .filter((request) => /\/issues|\/pulls(\/1)?$/.test(request.path))
      .map((request) => `${request.method} ${request.path}`);
    expect(seen).toEqual([
      "GET /repos/src-openeuler/merged/pulls/1",
      `GET /repos/src-openeuler/merged/issues/${number}`,
      `POST /repos/src-openeuler/merged/issues/${number}/comments`,
      `${profile.updateIssueMethod} /repos/src-openeuler/issues/${number}`,
      "POST /repos/src-openeuler/issues",
      "POST /repos/src-openeuler/merged/pulls",
    ]);
    expect(runsFor(world.db, "src-openeuler/merged", "master").map((run) => run.kind)).toEqual([
      "new",
      "new",
    ]);
  });

  test("closed by Gitee at the merge: left as it is, no comment", async () => {
    const { next } = await mergedWithNext("closed-by-gitee", true);
    expect(world.gitee.repo("src-openeuler/closed-by-gitee").issues[0]!.state).toBe("closed");
    const before = structuredClone(world.gitee.repo("src-openeuler/closed-by-gitee").issues[0]!);
    world.gitee.resetLog();
    expect((await world.scan("closed-by-gitee")).outcome).toBe("proposed");
    expectClosedAndFresh("closed-by-gitee", next, 0);
    expect(world.gitee.repo("src-openeuler/closed-by-gitee").issues[0]).toEqual(before);
    const issueWrites = world.gitee
      .writes()
      .filter((request) => request.path.includes(`/issues/${before.number}`));
    expect(issueWrites).toEqual([]);
  });

  test("closed by a maintainer without a merge: a declined proposal's issue is left alone", async () => {
    world.gitee.addRepo("src-openeuler/declined", {
      files: { "declined.spec": packageSpec("declined") },
    });
    trackPackage(world.db, "declined", await world.upstream.head());
    await upstreamCommit("Unwanted");
    await world.scan("declined");
    world.gitee.setPullState("src-openeuler/declined", 1, "closed");
    await upstreamCommit("Wanted");
    world.gitee.resetLog();
    expect((await world.scan("declined")).outcome).toBe("proposed");
    const repo = world.gitee.repo("src-openeuler/declined");
    expect(repo.issues.map((issue) => issue.state)).toEqual(["open", "open"]);
    expect(repo.issues[0]!.comments).toEqual([]);
  });
});

describe(`exactly once when closing a merged proposal's issue under faults (${mode.name})`, () => {
  const steps: FaultStep[] = [
    ["issue state", "GET", /^\/repos\/src-openeuler\/[a-z0-9-]+\/issues\/[A-Z0-9]+$/],
    ["issue comment", "POST", /\/issues\/[A-Z0-9]+\/comments$/],
    ["issue close", profile.updateIssueMethod, /^\/repos\/src-openeuler\/issues\/[A-Z0-9]+$/],
  ];
  faultMatrixTests({
    world,
    steps,
    faults: GITEE_FAULTS,
    prefix: "mergedfault",
    async setUp(name) {
      const { next } = await mergedWithNext(name);
      return { target: next, check: () => expectClosedAndFresh(name, next) };
    },
    summary: "every merged-issue scenario ended with the issue closed once, with one comment",
  });
});

describe(`a crash after any forge call of the scan after a merge (${mode.name})`, () => {
  test("resuming after a crash at each point repeats nothing", async () => {
    const total = await crashAtEveryForgeCall(world, async (name) => {
      const { next } = await mergedWithNext(name);
      return { check: () => expectClosedAndFresh(name, next) };
    });
    // The pull request's state, the issue's state, comment, close, then the new proposal.
    expect(total).toBeGreaterThanOrEqual(7);
    console.log(`after-merge crash points (${mode.name}): ${total}, each resumed to one close`);
  }, 180_000);
});
