/**
 * What one proposal costs on the downstream forge: the Gitee requests of a scan that opens a new
 * proposal of 1, 5 and 20 commits, and of one that adds 2 commits to an open proposal, counted
 * from the emulator's request log. Targets (issue 16): at most 8 per new proposal and at most 5
 * per extension, whatever the number of commits, on a forge that takes several files in one commit
 * (Gitee). A forge without it (GitCode, `multiFileCommit` false) writes file by file: one request
 * per patch file more, and no read of what the run already knows. The figures are printed for the
 * README's performance table. Also run as ./proposal-requests-gitcode.test.ts.
 */
import { describe, expect, test } from "bun:test";
import { FORGE_PROFILES } from "../src/forge/profiles.ts";
import type { RequestRecord } from "./emulators/gitee.ts";
import { forgeModeOf } from "./helpers/forge-modes.ts";
import { makeWorld, packageSpec, trackPackage } from "./helpers/world.ts";

const mode = forgeModeOf(import.meta.url);
const world = await makeWorld({ forge: mode });
const oneCommit = FORGE_PROFILES[mode.profile].multiFileCommit;
let fileCounter = 0;

async function upstreamCommits(count: number): Promise<string[]> {
  const shas: string[] = [];
  for (let i = 0; i < count; i++) {
    fileCounter++;
    shas.push(
      await world.upstream.commit(`Change ${fileCounter}`, {
        [`src/r${fileCounter}.c`]: `int r${fileCounter};\n`,
      }),
    );
  }
  return shas;
}

function describeLog(log: readonly RequestRecord[]): string {
  return log.map((request) => `${request.method} ${request.path} → ${request.status}`).join("\n  ");
}

/** The requests of one scan of `name`, which must end with `outcome`. */
async function requestsOfScan(name: string): Promise<RequestRecord[]> {
  world.gitee.resetLog();
  expect((await world.scan(name)).outcome).toBe("proposed");
  return [...world.gitee.requests];
}

const figures: string[] = [];

describe(`Gitee requests per proposal (${mode.name})`, () => {
  for (const count of [1, 5, 20]) {
    const limit = oneCommit ? 8 : 5 + count;
    test(`a new proposal of ${count} commit(s) costs at most ${limit} requests`, async () => {
      const head = await world.upstream.head();
      const name = `new${count}`;
      world.addPackage(name, head);
      const commits = await upstreamCommits(count);
      const log = await requestsOfScan(name);
      figures.push(`new proposal, ${count} commit(s): ${log.length} requests`);
      console.log(`${name}: ${log.length} requests\n  ${describeLog(log)}`);
      const repo = world.gitee.repo(`src-openeuler/${name}`);
      const work = repo.pulls[0]!.head;
      const files = repo.branches[work]!.files;
      for (const sha of commits) expect(files[`${sha}.patch`]).toBeDefined();
      expect(log.length).toBeLessThanOrEqual(limit);
    });
  }

  test(`adding 2 commits to an open proposal costs at most ${oneCommit ? 5 : 8} requests`, async () => {
    const head = await world.upstream.head();
    world.addPackage("extend", head);
    await upstreamCommits(3);
    expect((await world.scan("extend")).outcome).toBe("proposed");
    const added = await upstreamCommits(2);
    const log = await requestsOfScan("extend");
    figures.push(`extension, 2 commits: ${log.length} requests`);
    console.log(`extend: ${log.length} requests\n  ${describeLog(log)}`);
    const repo = world.gitee.repo("src-openeuler/extend");
    expect(repo.pulls).toHaveLength(1);
    const files = repo.branches[repo.pulls[0]!.head]!.files;
    for (const sha of added) expect(files[`${sha}.patch`]).toBeDefined();
    expect(log.length).toBeLessThanOrEqual(oneCommit ? 5 : 8);
  });

  test("a package that already carries patches: one root listing more per scan", async () => {
    // The already-carried check needs the blob shas of the declared patch files (its patch ids
    // are cached by blob sha): one listing of the root, exact whatever changed in the package.
    const head = await world.upstream.head();
    const spec = packageSpec("carrying").replace(
      "Source0:        %{name}-%{version}.tar.gz\n",
      "Source0:        %{name}-%{version}.tar.gz\nPatch0001:      backport-old-fix.patch\n",
    );
    world.gitee.addRepo("src-openeuler/carrying", {
      files: {
        "carrying.spec": spec,
        "backport-old-fix.patch": "From: M <m@example.org>\nSubject: [PATCH] old\n\n---\n",
      },
    });
    trackPackage(world.db, "carrying", head);
    await upstreamCommits(3);
    const opened = await requestsOfScan("carrying");
    await upstreamCommits(2);
    const extended = await requestsOfScan("carrying");
    figures.push(
      `with a carried patch: new proposal ${opened.length} requests (first read of the carried file included), extension ${extended.length}`,
    );
    console.log(`carrying, extension:\n  ${describeLog(extended)}`);
    expect(extended.filter((request) => /\/contents$/.test(request.path))).toHaveLength(1);
    expect(extended.length).toBe(oneCommit ? 6 : 9);
    expect(opened.length).toBe(oneCommit ? 6 : 10);
  });

  test("figures", () => {
    console.log(`Gitee requests per proposal (${mode.name}):\n  ${figures.join("\n  ")}`);
    expect(figures).toHaveLength(5);
  });
});
