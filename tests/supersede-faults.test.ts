/**
 * Exactly once when a proposal is replaced: the tracked branch's spec changed under an open
 * proposal, so the next commits open a successor holding every commit, and the old pull request
 * and its issue each get one comment linking the successor and are closed. Each request of the
 * closing step fails (or loses its answer) twice, or the process dies after any forge call of
 * the replacing scan; whatever happens, there is one successor, one comment on each old item,
 * and both old items end closed.
 */
import { describe, expect, test } from "bun:test";
import { proposalsFor } from "../src/db/proposals.ts";
import { openRunFor } from "../src/db/runs.ts";
import {
  crashAtEveryForgeCall,
  type FaultStep,
  faultMatrixTests,
  GITEE_FAULTS,
} from "./helpers/fault-matrix.ts";
import { makeWorld, packageSpec, trackPackage } from "./helpers/world.ts";

const world = await makeWorld({ giteeTimeoutMs: 400 });
let fileCounter = 0;

function upstreamCommit(subject: string): Promise<string> {
  fileCounter++;
  return world.upstream.commit(subject, { [`src/s${fileCounter}.c`]: `int s${fileCounter};\n` });
}

/**
 * A package whose open proposal holds one commit, whose tracked spec a maintainer has bumped
 * since, and one more upstream commit to propose: the next scan replaces the proposal.
 */
async function readyToReplace(name: string): Promise<{ first: string; next: string }> {
  world.gitee.addRepo(`src-openeuler/${name}`, {
    files: { [`${name}.spec`]: packageSpec(name) },
  });
  trackPackage(world.db, name, await world.upstream.head());
  const first = await upstreamCommit(`First fix for ${name}`);
  const opened = await world.scan(name);
  if (opened.outcome !== "proposed") throw new Error(`${name}: first proposal ${opened.outcome}`);
  world.gitee.setFile(`src-openeuler/${name}`, "master", `${name}.spec`, packageSpec(name, "5"));
  const next = await upstreamCommit(`Second fix for ${name}`);
  return { first, next };
}

function expectOneReplacement(name: string, first: string, next: string) {
  const repo = world.gitee.repo(`src-openeuler/${name}`);
  expect(repo.pulls.map((pull) => pull.state)).toEqual(["closed", "open"]);
  expect(repo.issues.map((issue) => issue.state)).toEqual(["closed", "open"]);
  const [old, successor] = repo.pulls;
  const [oldIssue, successorIssue] = repo.issues;
  expect(old!.comments.map((comment) => comment.body.split(" (")[0])).toEqual([
    `[patch tracking] superseded by !${successor!.number}`,
  ]);
  expect(oldIssue!.comments.map((comment) => comment.body.split(" (")[0])).toEqual([
    `[patch tracking] superseded by #${successorIssue!.number} and its pull request !${successor!.number}`,
  ]);
  expect(successor!.comments).toEqual([]);
  const files = repo.branches[successor!.head]!.files;
  expect(Object.keys(files).filter((path) => path.endsWith(".patch"))).toEqual(
    expect.arrayContaining([`${first}.patch`, `${next}.patch`]),
  );
  expect(Object.keys(files).filter((path) => path.endsWith(".patch"))).toHaveLength(2);
  const spec = files[`${name}.spec`]!.text;
  expect([...spec.matchAll(/^Patch\d+:\s+(\S+)$/gm)].map((match) => match[1])).toEqual([
    `${first}.patch`,
    `${next}.patch`,
  ]);
  expect(spec).toContain("Release:        6\n");
  expect(spec.match(/^- append patch file/gm)).toHaveLength(1);
  for (const sha of [first, next]) expect(successorIssue!.body).toContain(sha.slice(0, 7));
  expect(world.tracking(name)!.scm_commit).toBe(next);
  expect(openRunFor(world.db, `src-openeuler/${name}`, "master")).toBeNull();
  expect(proposalsFor(world.db, `src-openeuler/${name}`, "master").map((p) => p.state)).toEqual([
    "open",
    "superseded",
  ]);
}

describe("replacing a proposal", () => {
  test("without faults: the old pull request and issue are closed, each with one comment", async () => {
    const { first, next } = await readyToReplace("replace");
    expect((await world.scan("replace")).outcome).toBe("proposed");
    expectOneReplacement("replace", first, next);
  });
});

describe("exactly once on the closing step under faults", () => {
  const steps: FaultStep[] = [
    ["pull request comment", "POST", /\/pulls\/1\/comments$/],
    ["pull request close", "PATCH", /\/pulls\/1$/],
    ["issue comment", "POST", /\/issues\/[A-Z0-9]+\/comments$/],
    ["issue close", "PATCH", /^\/repos\/src-openeuler\/issues\/[A-Z0-9]+$/],
  ];
  faultMatrixTests({
    world,
    steps,
    faults: GITEE_FAULTS.filter(([fault]) => !["503 HTML", "429 with Retry-After"].includes(fault)),
    prefix: "supersede",
    async setUp(name) {
      const { first, next } = await readyToReplace(name);
      return { target: next, check: () => expectOneReplacement(name, first, next) };
    },
    summary: "every closing-step scenario ended with one successor and both old items closed",
  });
});

describe("a crash after any forge call of a replacing scan", () => {
  test("resuming after a crash at each point repeats nothing", async () => {
    const total = await crashAtEveryForgeCall(world, async (name) => {
      const { first, next } = await readyToReplace(name);
      return { check: () => expectOneReplacement(name, first, next) };
    });
    expect(total).toBeGreaterThan(8);
    console.log(`replacing-scan crash points: ${total}, each resumed to one successor`);
  }, 180_000);
});
