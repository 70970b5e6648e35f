/**
 * The apply check on a rolling proposal: commits that join an open proposal are tried on the
 * package's sources with the proposal's own patches applied first, as the maintainer's build
 * will apply them. An upstream revert of a proposed commit therefore "applies" and gets its
 * patch file; tried on the bare package it would look "already applied" and be left out, and
 * the proposal would no longer rebuild the upstream head.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { upsertTracking } from "../src/db/trackings.ts";
import { forgeApplyChecker } from "../src/scan/apply-check.ts";
import { planTracking } from "../src/scan/plan.ts";
import { BlobCache } from "../src/scan/sources/blob-cache.ts";
import { DEFAULT_SOURCE_LIMITS } from "../src/scan/sources/limits.ts";
import { gitArchive } from "./helpers/package-sources.ts";
import { makeWorld, packageSpec, UPSTREAM } from "./helpers/world.ts";

const world = await makeWorld();
// The package's archive is the upstream at the tracked base.
await world.upstream.git(["tag", "v1.2.3", world.base]);
const archive = await gitArchive(world.upstream, "v1.2.3", "rolled-1.2.3/", "tar.gz");
const change = await world.upstream.commit("Set a", { "src/a.c": "int a = 1;\n" });
await world.upstream.branch("only-change", change);
await world.upstream.git(["revert", "--no-edit", change]);
const revert = await world.upstream.head();
const other = await world.upstream.commit("Add b", { "src/b.c": "int b;\n" });

const checker = forgeApplyChecker({
  forge: world.forge,
  cache: new BlobCache(join(world.dir, "source-cache"), 64 * 1024 * 1024),
  limits: DEFAULT_SOURCE_LIMITS,
  workRoot: join(world.dir, "apply-check"),
});
world.gitee.addRepo("src-openeuler/rolled", {
  files: { "rolled.spec": packageSpec("rolled"), "rolled-1.2.3.tar.gz": archive },
});

function track(scmBranch: string, scmCommit: string) {
  upsertTracking(world.db, {
    version_control: "github",
    scm_repo: UPSTREAM,
    scm_branch: scmBranch,
    scm_commit: scmCommit,
    repo: "src-openeuler/rolled",
    branch: "master",
    enabled: true,
  });
}

describe("the apply check of commits joining an open proposal", () => {
  test("a revert of a proposed commit applies on the proposal's tree and joins with its patch", async () => {
    world.deps.applyChecker = checker;
    try {
      track("only-change", world.base);
      expect((await world.scan("rolled")).outcome).toBe("proposed");
      expect(world.gitee.repo("src-openeuler/rolled").issues[0]!.body).toContain(
        "| Set a (applies) |",
      );
      track("main", change);

      const plan = await planTracking(
        { ...world.deps, applyChecker: checker },
        "src-openeuler/rolled",
        "master",
      );
      expect(plan?.proposal?.action).toBe("extend");
      expect(plan?.commits.map((commit) => [commit.sha, commit.verdict, commit.patchFile])).toEqual(
        [
          [revert, "applies", `${revert}.patch`],
          [other, "applies", `${other}.patch`],
        ],
      );
      expect(plan?.applySummary).toBe("Apply check: 2 of 2 apply to rolled-1.2.3.tar.gz");

      expect((await world.scan("rolled")).outcome).toBe("proposed");
    } finally {
      world.deps.applyChecker = null;
    }
    const repo = world.gitee.repo("src-openeuler/rolled");
    expect(repo.pulls).toHaveLength(1);
    const files = repo.branches[repo.pulls[0]!.head]!.files;
    const declared = [...files["rolled.spec"]!.text.matchAll(/^Patch\d+:\s+(\S+)$/gm)].map(
      (match) => match[1],
    );
    expect(declared).toEqual([`${change}.patch`, `${revert}.patch`, `${other}.patch`]);
    expect(files[`${revert}.patch`]).toBeDefined();
    const issue = repo.issues[0]!.body;
    expect(issue).toContain("(applies) |");
    expect(issue).not.toContain("already applied");
    expect(repo.pulls[0]!.comments[0]!.body).toContain(
      "Apply check: 2 of 2 apply to rolled-1.2.3.tar.gz",
    );
  });
});
