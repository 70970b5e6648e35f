import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { forgeApplyChecker } from "../src/scan/apply-check.ts";
import { planTracking } from "../src/scan/plan.ts";
import { BlobCache } from "../src/scan/sources/blob-cache.ts";
import { DEFAULT_SOURCE_LIMITS } from "../src/scan/sources/limits.ts";
import { gitArchive } from "./helpers/package-sources.ts";
import { makeWorld, packageSpec } from "./helpers/world.ts";

// The package's archive is the upstream's release: a side branch from the tracked base that adds
// src/new.c and shouts README, tagged and archived with `git archive`.
const world = await makeWorld();
await world.upstream.checkout("release", { create: true });
await world.upstream.commit("release 1.2.3", { "src/new.c": "int n;\n", README: "HELLO\n" });
await world.upstream.git(["tag", "v1.2.3"]);
const archive = await gitArchive(world.upstream, "v1.2.3", "applied-1.2.3/", "tar.gz");
await world.upstream.checkout("main");
const applies = await world.upstream.commit("Set a", { "src/a.c": "int a = 1;\n" });
const already = await world.upstream.commit("Add new.c", { "src/new.c": "int n;\n" });
const conflict = await world.upstream.commit("Greet", { README: "hi\n" });

const cacheDir = join(world.dir, "source-cache");
const checker = forgeApplyChecker({
  forge: world.forge,
  cache: new BlobCache(cacheDir, 64 * 1024 * 1024),
  limits: DEFAULT_SOURCE_LIMITS,
  workRoot: join(world.dir, "apply-check"),
});
world.gitee.addRepo("src-openeuler/applied", {
  files: { "applied.spec": packageSpec("applied"), "applied-1.2.3.tar.gz": archive },
});
world.gitee.addRepo("src-openeuler/unchecked", {
  files: { "unchecked.spec": packageSpec("unchecked") },
});
const { trackPackage } = await import("./helpers/world.ts");
trackPackage(world.db, "applied", world.base);
trackPackage(world.db, "unchecked", world.base);
const blobReads = () =>
  world.gitee.requests.filter((request) => /\/git\/blobs\//.test(request.path)).length;

const SUMMARY =
  "Apply check: 1 of 3 apply to applied-1.2.3.tar.gz; 1 conflict (README); 1 already applied";

describe("the apply check in the dry run and the proposal", () => {
  test("plan shows each commit's verdict and the summary line; Gitee gets no write", async () => {
    world.gitee.resetLog();
    const plan = await planTracking(
      { ...world.deps, applyChecker: checker },
      "src-openeuler/applied",
      "master",
    );
    expect(plan?.commits.map((commit) => [commit.sha, commit.verdict, commit.patchFile])).toEqual([
      [applies, "applies", `${applies}.patch`],
      [already, "already applied", null],
      [conflict, "conflict (README)", `${conflict}.patch`],
    ]);
    expect(plan?.applySummary).toBe(SUMMARY);
    expect(plan?.pull?.body).toStartWith(`${SUMMARY}\n\n#`);
    expect(plan?.spec?.diff).not.toContain(already);
    expect(world.gitee.writes()).toEqual([]);
    // Spec and archive came through the blob endpoint once each.
    expect(blobReads()).toBe(2);
  });

  test("a second check of the unchanged package downloads nothing: the cache answers", async () => {
    world.gitee.resetLog();
    await planTracking({ ...world.deps, applyChecker: checker }, "src-openeuler/applied", "master");
    expect(blobReads()).toBe(0);
  });

  test("the proposal: verdict per row, no patch file or Patch line when already applied, summary first in the pull request", async () => {
    world.deps.applyChecker = checker;
    try {
      expect(await world.scan("applied")).toMatchObject({ outcome: "proposed" });
    } finally {
      world.deps.applyChecker = null;
    }
    const repo = world.gitee.repo("src-openeuler/applied");
    const work = Object.keys(repo.branches).find((name) => name.startsWith("patch-tracking/"));
    const files = repo.branches[work ?? ""]?.files ?? {};
    expect(
      Object.keys(files)
        .filter((path) => path.endsWith(".patch"))
        .sort(),
    ).toEqual([`${applies}.patch`, `${conflict}.patch`].sort());
    const spec = files["applied.spec"]?.text ?? "";
    expect(spec).toContain(`${applies}.patch`);
    expect(spec).toContain(`${conflict}.patch`);
    expect(spec).not.toContain(`${already}.patch`);
    const issue = repo.issues[0];
    expect(issue?.body).toContain("| Set a (applies) |");
    expect(issue?.body).toContain("| Add new.c (already applied: no patch file) |");
    expect(issue?.body).toContain("| Greet (conflict (README)) |");
    expect(repo.pulls[0]?.body).toBe(`${SUMMARY}\n\n#${issue?.number}`);
  });

  test("a package without its archive still gets its proposal, each commit 'not checked' with the reason", async () => {
    world.deps.applyChecker = checker;
    try {
      expect(await world.scan("unchecked")).toMatchObject({ outcome: "proposed" });
    } finally {
      world.deps.applyChecker = null;
    }
    const repo = world.gitee.repo("src-openeuler/unchecked");
    const reason =
      "not checked: no archive found (unchecked-1.2.3.tar.gz is not in the repository)";
    expect(repo.issues[0]?.body).toContain(`| Set a (${reason}) |`);
    expect(repo.pulls[0]?.body).toBe(`Apply check: ${reason}\n\n#${repo.issues[0]?.number}`);
  });
});
