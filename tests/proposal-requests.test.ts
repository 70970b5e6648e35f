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
import { join } from "node:path";
import { FORGE_PROFILES } from "../src/forge/profiles.ts";
import { forgeApplyChecker } from "../src/scan/apply-check.ts";
import { BlobCache } from "../src/scan/sources/blob-cache.ts";
import { DEFAULT_SOURCE_LIMITS } from "../src/scan/sources/limits.ts";
import type { RequestRecord } from "./emulators/gitee.ts";
import { forgeModeOf } from "./helpers/forge-modes.ts";
import { gitArchive } from "./helpers/package-sources.ts";
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

  test("APPLY_CHECK off: the service still reads the spec and carried patches through its source cache", async () => {
    const head = await world.upstream.head();
    const spec = packageSpec("nocheck").replace(
      "Source0:        %{name}-%{version}.tar.gz\n",
      "Source0:        %{name}-%{version}.tar.gz\nPatch0001:      backport-old-fix.patch\n",
    );
    world.gitee.addRepo("src-openeuler/nocheck", {
      files: {
        "nocheck.spec": spec,
        "backport-old-fix.patch": "From: M <m@example.org>\nSubject: [PATCH] other\n\n---\n",
      },
    });
    trackPackage(world.db, "nocheck", head);
    world.deps.sourceCache = new BlobCache(join(world.dir, "source-cache-off"), 1024 * 1024);
    try {
      await upstreamCommits(3);
      const opened = await requestsOfScan("nocheck");
      await upstreamCommits(2);
      const extended = await requestsOfScan("nocheck");
      console.log(`apply check off, extension:\n  ${describeLog(extended)}`);
      figures.push(
        `APPLY_CHECK off, carried patch, source cache: new proposal ${opened.length} requests the first time, extension ${extended.length}`,
      );
      // The spec is read once by blob (then cached): the extension lists the root and asks the
      // pull request's state, nothing else before writing.
      const reads = extended.filter((request) => request.method === "GET");
      expect(reads.map((request) => request.path)).toEqual(
        oneCommit
          ? ["/repos/src-openeuler/nocheck/contents", "/repos/src-openeuler/nocheck/pulls/1"]
          : [
              "/repos/src-openeuler/nocheck/contents",
              "/repos/src-openeuler/nocheck/pulls/1",
              "/repos/src-openeuler/nocheck/contents/nocheck.spec",
            ],
      );
      expect(opened.filter((request) => request.method === "GET")).toHaveLength(3);
      if (oneCommit) expect(extended.length).toBeLessThanOrEqual(5);
    } finally {
      world.deps.sourceCache = null;
    }
  });

  test("default settings: apply check on, a package carrying a patch and holding its archive", async () => {
    // As the service runs by default: the apply check reads the package through the source cache,
    // and every run reads the spec and the carried patches through it too (engine.ts).
    const head = await world.upstream.head();
    await world.upstream.git(["tag", "defaults-base", head]);
    const cache = new BlobCache(join(world.dir, "source-cache"), 64 * 1024 * 1024);
    const files = async (name: string) => ({
      [`${name}.spec`]: packageSpec(name).replace(
        "Source0:        %{name}-%{version}.tar.gz\n",
        "Source0:        %{name}-%{version}.tar.gz\nPatch0001:      backport-old-fix.patch\n",
      ),
      "backport-old-fix.patch":
        "From: M <m@example.org>\nSubject: [PATCH] old\n\n---\n" +
        "diff --git a/old.txt b/old.txt\nnew file mode 100644\n--- /dev/null\n+++ b/old.txt\n" +
        "@@ -0,0 +1 @@\n+old\n",
      [`${name}-1.2.3.tar.gz`]: await gitArchive(
        world.upstream,
        "defaults-base",
        `${name}-1.2.3/`,
        "tar.gz",
      ),
    });
    world.deps.applyChecker = forgeApplyChecker({
      forge: world.forge,
      cache,
      limits: DEFAULT_SOURCE_LIMITS,
      workRoot: join(world.dir, "apply-check"),
    });
    world.deps.sourceCache = cache;
    try {
      world.gitee.addRepo("src-openeuler/p", { files: await files("p") });
      trackPackage(world.db, "p", head);
      await upstreamCommits(3);
      const opened = await requestsOfScan("p");
      console.log(`default settings, new proposal (first time):\n  ${describeLog(opened)}`);
      expect(world.gitee.repo("src-openeuler/p").issues[0]!.body).toContain("(applies) |");
      await upstreamCommits(2);
      const extended = await requestsOfScan("p");
      console.log(`default settings, extension:\n  ${describeLog(extended)}`);
      const issue = world.gitee.repo("src-openeuler/p").issues[0]!.body;
      expect(issue.match(/\(applies\) \|/g)).toHaveLength(5);

      // A repository holding the same spec, patch and archive (as another branch of the package
      // would): its files are in the cache now. And the extension of p once more, all cached.
      const same = await files("p");
      const spec = same["p.spec"]!;
      delete same["p.spec"];
      world.gitee.addRepo("src-openeuler/q", { files: { ...same, "q.spec": spec } });
      trackPackage(world.db, "q", await world.upstream.head());
      await upstreamCommits(1);
      world.gitee.resetLog();
      expect((await world.scan("p")).outcome).toBe("proposed");
      const cachedExtension = [...world.gitee.requests];
      const cachedNew = await requestsOfScan("q");
      console.log(`default settings, new proposal (files cached):\n  ${describeLog(cachedNew)}`);
      figures.push(
        `default settings (apply check, carried patch, archive): new proposal ${opened.length} requests the first time, ${cachedNew.length} with the package's files cached; extension ${extended.length}`,
      );
      const listings = (log: RequestRecord[]) =>
        log.filter((request) => /\/contents$/.test(request.path));
      const pullReads = (log: RequestRecord[]) =>
        log.filter((request) => request.method === "GET" && /\/pulls\/\d+$/.test(request.path));
      const reads = (log: RequestRecord[]) => log.filter((request) => request.method === "GET");
      // The tracked branch's root is listed once per scan; no file of it is read by path (its
      // blobs come through the cache). GitCode writes the spec file by file: an extension reads
      // the proposal branch's spec for its sha first.
      for (const log of [opened, extended, cachedExtension, cachedNew]) {
        expect(listings(log)).toHaveLength(1);
        expect(
          reads(log).filter((request) => /\/contents\/.+/.test(request.path)).length,
        ).toBeLessThanOrEqual(oneCommit || log === opened || log === cachedNew ? 0 : 1);
      }
      for (const log of [extended, cachedExtension]) expect(pullReads(log)).toHaveLength(1);
      // First time: the listing and the spec, carried patch and archive blobs.
      expect(reads(opened)).toHaveLength(4);
      expect(reads(cachedNew)).toHaveLength(1);
      expect(reads(extended)).toHaveLength(oneCommit ? 2 : 3);
      if (oneCommit) {
        expect(opened.length).toBeLessThanOrEqual(8);
        expect(extended.length).toBeLessThanOrEqual(5);
        expect(cachedExtension.length).toBeLessThanOrEqual(5);
        expect(cachedNew.length).toBe(4);
      }
    } finally {
      world.deps.applyChecker = null;
      world.deps.sourceCache = null;
    }
  });

  test("figures", () => {
    console.log(`Gitee requests per proposal (${mode.name}):\n  ${figures.join("\n  ")}`);
    expect(figures).toHaveLength(7);
  });
});
