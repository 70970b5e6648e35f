/**
 * The dry run's view of Gitee (scan/plan-reads.ts) against the Gitee emulator: each listing once
 * per view, top-level files by blob sha through the on-disk source cache, sub-folder files asked
 * for directly, and every write refused before a request leaves. A run's view (runReads) reads the
 * same way, sends writes on and then reads afresh, and asks again what it read too long ago.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import {
  DryRunWriteError,
  planReads,
  RUN_READS_FRESH_MS,
  runReads,
} from "../src/scan/plan-reads.ts";
import { BlobCache } from "../src/scan/sources/blob-cache.ts";
import { makeWorld, packageSpec } from "./helpers/world.ts";

const world = await makeWorld();
const repo = { owner: "src-openeuler", name: "viewed" };
const spec = packageSpec("viewed");
world.gitee.addRepo("src-openeuler/viewed", {
  files: { "viewed.spec": spec, "fix.patch": "a patch\n", "sub/deep.txt": "deep\n" },
});
const cache = new BlobCache(join(world.dir, "source-cache"), 1024 * 1024);
const requests = () => world.gitee.requests.map((request) => `${request.method} ${request.path}`);

describe("the dry run's reads", () => {
  test("top-level files: one listing per view, each content downloaded once, then the cache", async () => {
    world.gitee.resetLog();
    const view = planReads(world.forge, cache);
    const first = await view.readFile(repo, "master", "viewed.spec");
    expect(new TextDecoder().decode(first?.content)).toBe(spec);
    expect((await view.readFile(repo, "master", "viewed.spec"))?.sha).toBe(first?.sha ?? "");
    expect(await view.readFile(repo, "master", "fix.patch")).not.toBeNull();
    // A file the listing does not hold does not exist: no request for it.
    expect(await view.readFile(repo, "master", "missing.patch")).toBeNull();
    expect(requests()).toEqual([
      "GET /repos/src-openeuler/viewed/contents",
      `GET /repos/src-openeuler/viewed/git/blobs/${first?.sha}`,
      expect.stringMatching(/^GET \/repos\/src-openeuler\/viewed\/git\/blobs\/[0-9a-f]{40}$/),
    ]);

    world.gitee.resetLog();
    const next = planReads(world.forge, cache);
    expect(
      new TextDecoder().decode((await next.readFile(repo, "master", "viewed.spec"))?.content),
    ).toBe(spec);
    expect(requests()).toEqual(["GET /repos/src-openeuler/viewed/contents"]);
  });

  test("a file in a sub-folder is read directly; a missing branch is still an error", async () => {
    world.gitee.resetLog();
    const view = planReads(world.forge, null);
    const deep = await view.readFile(repo, "master", "sub/deep.txt");
    expect(new TextDecoder().decode(deep?.content)).toBe("deep\n");
    expect(requests()).toEqual(["GET /repos/src-openeuler/viewed/contents/sub/deep.txt"]);
    await expect(view.readFile(repo, "no-such-branch", "viewed.spec")).rejects.toThrow(
      /no-such-branch/,
    );
  });

  test("every write is refused before a request leaves", async () => {
    world.gitee.resetLog();
    const view = planReads(world.forge, cache);
    const bytes = new TextEncoder().encode("x");
    const attempts: (() => Promise<unknown>)[] = [
      () => view.ensureBranch(repo, "b", "master"),
      () => view.writeFile(repo, "master", "a", bytes, "m", null),
      () => view.ensureFile(repo, "master", "a", bytes, "m"),
      () =>
        view.commitFiles(repo, { branch: "b", startBranch: "master", message: "m", changes: [] }),
      () => view.ensureIssue(repo, "t", "b"),
      () => view.ensurePull(repo, { head: "b", base: "master", title: "t", body: "b" }),
      () => view.updateIssue(repo, "I1", "b"),
      () => view.ensurePullComment(repo, 1, "b", false),
      () => view.ensureIssueComment(repo, "I1", "b", false),
      () => view.closeIssue(repo, "I1"),
      () => view.closePull(repo, 1),
    ];
    for (const attempt of attempts) {
      expect(attempt).toThrow(DryRunWriteError);
    }
    expect(world.gitee.requests).toEqual([]);
  });
});

describe("a run's reads", () => {
  test("a write goes to the forge, and what was listed or asked is asked again after it", async () => {
    world.gitee.resetLog();
    const view = runReads(world.forge, cache);
    await view.listFiles(repo, "master");
    await view.listFiles(repo, "master");
    await view.commitFiles(repo, {
      branch: "run-view",
      startBranch: "master",
      message: "m",
      changes: [{ action: "create", path: "new.patch", content: new TextEncoder().encode("n\n") }],
    });
    expect((await view.listFiles(repo, "run-view")).map((entry) => entry.path)).toContain(
      "new.patch",
    );
    await view.listFiles(repo, "master");
    expect(requests()).toEqual([
      "GET /repos/src-openeuler/viewed/contents",
      "POST /repos/src-openeuler/viewed/commits",
      "GET /repos/src-openeuler/viewed/contents",
      "GET /repos/src-openeuler/viewed/contents",
    ]);
  });

  test("a listing older than RUN_READS_FRESH_MS is asked again; without a cache a file is read by path", async () => {
    world.gitee.resetLog();
    let now = 0;
    const view = runReads(world.forge, null, () => now);
    const spec = await view.readFile(repo, "master", "viewed.spec");
    await view.listFiles(repo, "master");
    // Listed now: the same blob is served from memory.
    expect((await view.readFile(repo, "master", "viewed.spec"))?.sha).toBe(spec?.sha ?? "");
    now += RUN_READS_FRESH_MS + 1;
    await view.listFiles(repo, "master");
    expect(requests()).toEqual([
      "GET /repos/src-openeuler/viewed/contents/viewed.spec",
      "GET /repos/src-openeuler/viewed/contents",
      "GET /repos/src-openeuler/viewed/contents",
    ]);
  });
});
