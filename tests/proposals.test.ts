/**
 * Rolling proposals against the Gitee emulator and a real upstream repository: new commits join
 * the tracking's open pull request; a merged or closed one makes the next commits start afresh;
 * a spec changed under an open proposal replaces it; "per-batch" keeps one proposal per scan.
 */
import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { renderPlan } from "../cli/commands/plan.ts";
import { statusTable } from "../cli/commands/status.ts";
import { listIssues } from "../src/db/issues.ts";
import { openProposalFor, proposalsFor } from "../src/db/proposals.ts";
import { listOverview } from "../src/db/status.ts";
import { upsertTracking } from "../src/db/trackings.ts";
import { FORGE_PROFILES } from "../src/forge/profiles.ts";
import { planTracking } from "../src/scan/plan.ts";
import { declaredPatchFiles } from "../src/scan/proposal/carried.ts";
import { gitBlobSha } from "../src/scan/sources/blob-cache.ts";
import { forgeModeOf } from "./helpers/forge-modes.ts";
import { GitRepo } from "./helpers/git-repo.ts";
import { rpmspecParse } from "./helpers/rpmspec.ts";
import { makeWorld, packageSpec, trackPackage, UPSTREAM } from "./helpers/world.ts";

// Also run as ./proposals-gitcode.test.ts, against the emulator's GitCode mode.
const mode = forgeModeOf(import.meta.url);
const world = await makeWorld({ forge: mode });
let fileCounter = 0;

/** A new upstream commit touching a file of its own (so every patch applies in any order). */
function upstreamCommit(subject: string): Promise<string> {
  fileCounter++;
  return world.upstream.commit(subject, { [`src/f${fileCounter}.c`]: `int f${fileCounter};\n` });
}

/** `src-openeuler/<name>`, tracked from the current upstream head. */
async function newPackage(name: string, spec = packageSpec(name)): Promise<string> {
  const head = await world.upstream.head();
  world.gitee.addRepo(`src-openeuler/${name}`, { files: { [`${name}.spec`]: spec } });
  trackPackage(world.db, name, head);
  return head;
}

function planDeps() {
  return { db: world.db, forge: world.forge, upstreams: world.deps.upstreams };
}

function repoOf(name: string) {
  return world.gitee.repo(`src-openeuler/${name}`);
}

/** The patch files the spec declares, in declaration order. */
function declaredPatches(spec: string): string[] {
  return [...spec.matchAll(/^Patch\d+:\s+(\S+)$/gm)].map((match) => match[1] ?? "");
}

/** Applies the work branch's patches in spec order onto `base`; returns the resulting tree. */
async function rebuiltTree(name: string, workBranch: string, base: string): Promise<string> {
  const files = repoOf(name).branches[workBranch]!.files;
  const clone = await GitRepo.clone(
    world.upstream.dir,
    join(world.dir, `rebuild-${name}-${++fileCounter}`),
  );
  await clone.git(["checkout", "-q", base]);
  const patches = declaredPatches(files[`${name}.spec`]!.text).map((file) => {
    const patch = files[file];
    if (!patch) throw new Error(`${file} is declared but not on ${workBranch}`);
    return patch.bytes;
  });
  await clone.am(patches);
  return clone.tree();
}

describe(`rolling proposals (the default; ${mode.name})`, () => {
  test("a second batch while the pull request is open joins it", async () => {
    const base = await newPackage("roll");
    const first = [await upstreamCommit("Fix one"), await upstreamCommit("Fix two")];
    expect((await world.scan("roll")).outcome).toBe("proposed");
    const second = [await upstreamCommit("Fix three"), await upstreamCommit("Fix four | pipe")];
    world.gitee.resetLog();
    expect((await world.scan("roll")).outcome).toBe("proposed");
    const all = [...first, ...second];

    const repo = repoOf("roll");
    expect(repo.pulls).toHaveLength(1);
    expect(repo.issues).toHaveLength(1);
    const pull = repo.pulls[0]!;
    expect(pull.state).toBe("open");
    const files = repo.branches[pull.head]!.files;
    const spec = files["roll.spec"]!.text;
    // Release bumped once relative to the tracked branch; Patch lines continue in order.
    expect(spec).toContain("Release:        2\n");
    expect(declaredPatches(spec)).toEqual(all.map((sha) => `${sha}.patch`));
    all.forEach((sha, index) => {
      expect(spec).toMatch(new RegExp(`^Patch${6000 + index}:\\s+${sha}\\.patch$`, "m"));
    });
    // One changelog entry covering the whole proposal.
    expect(spec.match(/^\* /gm)).toHaveLength(2);
    expect(spec).toContain(
      `- append patch file of upstream repository from <${all[0]}> to <${all[3]}>`,
    );
    const parsed = rpmspecParse(spec, { sources: all.map((sha) => `${sha}.patch`) });
    expect(parsed.errors).toEqual([]);
    expect(parsed.ok).toBe(true);
    expect(await rebuiltTree("roll", pull.head, base)).toBe(await world.upstream.tree());

    // The issue lists every commit; the pull request got one comment naming the added ones.
    const issue = repo.issues[0]!;
    for (const sha of all) expect(issue.body).toContain(`| [${sha.slice(0, 7)}](`);
    expect(issue.body).toContain("Fix four \\| pipe");
    expect(pull.comments).toHaveLength(1);
    expect(pull.comments[0]!.body).toStartWith(
      `[patch tracking] added ${second[0]!.slice(0, 7)}..${second[1]!.slice(0, 7)}: 2 upstream commits`,
    );
    expect(pull.comments[0]!.body).toContain(`#${issue.number}`);
    // The extension wrote patches, the spec, the issue and a comment — no branch, issue or pull.
    const writes = world.gitee.writes().map((request) => `${request.method} ${request.path}`);
    expect(writes.filter((write) => /\/branches$|\/pulls$|\/issues$/.test(write))).toEqual([]);
    // The issue is edited with the forge's own verb: PATCH on Gitee, POST on GitCode.
    const edit = FORGE_PROFILES[mode.profile].updateIssueMethod;
    const editsAndPatches = writes.filter(
      (write) =>
        write.startsWith("PATCH") || write.startsWith(`${edit} /repos/src-openeuler/issues/`),
    );
    expect(editsAndPatches).toEqual([`${edit} /repos/src-openeuler/issues/${issue.number}`]);
    expect(world.tracking("roll")!.scm_commit).toBe(all[3]!);
    expect(listIssues(world.db, { repo: "src-openeuler/roll" })).toHaveLength(1);
    expect(openProposalFor(world.db, "src-openeuler/roll", "master")?.pullNumber).toBe(pull.number);
  });

  test("the status and the dry run show the open proposal and what would join it", async () => {
    const [overview] = listOverview(world.db, { repo: "src-openeuler/roll" });
    expect(overview?.proposal).toMatchObject({ pullNumber: 1, issueNumber: expect.any(String) });
    expect(overview?.proposal?.commits).toHaveLength(4);
    expect(overview?.passedOver).toEqual({ count: 0, latest: [] });
    expect(statusTable(overview ? [overview] : [], undefined)).toContain("!1 (4 commits)");

    const next = await upstreamCommit("Fix five");
    const plan = await planTracking(planDeps(), "src-openeuler/roll", "master");
    expect(plan?.state).toBe("would-propose");
    expect(plan?.proposal).toMatchObject({ action: "extend", pullNumber: 1 });
    expect(plan?.pull?.number).toBe(1);
    expect(plan?.workBranch).toBe(repoOf("roll").pulls[0]!.head);
    // Against the proposal's spec only the new Patch line (and the changelog range) change.
    const added = plan!.spec!.diff.split("\n").filter((line) => /^\+[^+]/.test(line));
    expect(added).toEqual([
      expect.stringMatching(new RegExp(`^\\+Patch6004:\\s+${next}\\.patch$`)),
      expect.stringContaining(`to <${next}>`),
    ]);
    expect(plan?.issue?.body.match(/^\| \[/gm)).toHaveLength(5);
    const text = renderPlan(plan!);
    expect(text).toContain("proposal: they would join the open pull request !1 (4 commits)");
    expect(text).toContain("pull request !1: [patch tracking]");
  });

  test("where %prep applies patches one by one, each joining commit gets one %patch line", async () => {
    const spec = packageSpec("explicit")
      .replace(
        "Source0:        %{name}-%{version}.tar.gz\n",
        "Source0:        %{name}-%{version}.tar.gz\nPatch1:         0001-local.patch\n",
      )
      .replace(
        "%autosetup -n %{name}-%{version} -p1\n",
        "%setup -q -n %{name}-%{version}\n%patch -P 1 -p1\n",
      );
    await newPackage("explicit", spec);
    const first = [await upstreamCommit("Explicit one"), await upstreamCommit("Explicit two")];
    expect((await world.scan("explicit")).outcome).toBe("proposed");
    const second = await upstreamCommit("Explicit three");
    expect((await world.scan("explicit")).outcome).toBe("proposed");
    const all = [...first, second];

    const repo = repoOf("explicit");
    expect(repo.pulls).toHaveLength(1);
    const text = repo.branches[repo.pulls[0]!.head]!.files["explicit.spec"]!.text;
    expect(declaredPatches(text)).toEqual([
      "0001-local.patch",
      ...all.map((sha) => `${sha}.patch`),
    ]);
    expect(text).toContain(
      "%patch -P 1 -p1\n%patch -P 6000 -p1\n%patch -P 6001 -p1\n%patch -P 6002 -p1\n",
    );
    expect(text.match(/^%patch /gm)).toHaveLength(4);
    expect(text).toContain("Release:        2\n");
    expect(text.match(/^- append patch file/gm)).toHaveLength(1);
    const parsed = rpmspecParse(text, {
      sources: ["0001-local.patch", ...all.map((sha) => `${sha}.patch`)],
    });
    expect(parsed.errors).toEqual([]);
    expect(parsed.ok).toBe(true);
  });

  test("after a merge the next commits open a new proposal from the tracked branch", async () => {
    await newPackage("merged");
    const first = await upstreamCommit("Merged fix");
    await world.scan("merged");
    world.gitee.mergePull("src-openeuler/merged", 1);
    const next = await upstreamCommit("Later fix");
    expect((await world.scan("merged")).outcome).toBe("proposed");

    const repo = repoOf("merged");
    expect(repo.pulls.map((pull) => pull.state)).toEqual(["merged", "open"]);
    // The merged proposal's issue is closed (merged-faults.test.ts has the details).
    expect(repo.issues.map((issue) => issue.state)).toEqual(["closed", "open"]);
    const fresh = repo.pulls[1]!;
    const spec = repo.branches[fresh.head]!.files["merged.spec"]!.text;
    // Built on the merged spec: the merged patch stays, the new one follows, Release once more.
    expect(declaredPatches(spec)).toEqual([`${first}.patch`, `${next}.patch`]);
    expect(spec).toContain("Release:        3\n");
    expect(repo.pulls[0]!.comments).toEqual([]);
    expect(proposalsFor(world.db, "src-openeuler/merged", "master").map((p) => p.state)).toEqual([
      "open",
      "merged",
    ]);
  });

  test("a pull request closed without merging declines its commits for good", async () => {
    await newPackage("declined");
    const declined = await upstreamCommit("Unwanted change");
    await world.scan("declined");
    world.gitee.setPullState("src-openeuler/declined", 1, "closed");
    const before = structuredClone(repoOf("declined").pulls[0]!);
    const issueBefore = structuredClone(repoOf("declined").issues[0]!);
    const next = await upstreamCommit("Wanted change");
    expect((await world.scan("declined")).outcome).toBe("proposed");

    const repo = repoOf("declined");
    expect(repo.pulls).toHaveLength(2);
    // The closed one is left exactly as it was, and so is its issue.
    expect(repo.pulls[0]).toEqual(before);
    expect(repo.issues[0]).toEqual(issueBefore);
    expect(repo.branches[before.head]!.files[`${next}.patch`]).toBeUndefined();
    const fresh = repo.pulls[1]!;
    expect(fresh.state).toBe("open");
    const files = repo.branches[fresh.head]!.files;
    expect(declaredPatches(files["declined.spec"]!.text)).toEqual([`${next}.patch`]);
    expect(files[`${declined}.patch`]).toBeUndefined();
    expect(repo.issues[1]!.body).not.toContain(declined.slice(0, 7));
    expect(proposalsFor(world.db, "src-openeuler/declined", "master")[1]?.state).toBe("declined");
  });

  test("a spec changed under the open proposal replaces it, losing no commit", async () => {
    await newPackage("moved");
    const first = await upstreamCommit("First fix");
    await world.scan("moved");
    // A maintainer bumps the package on the tracked branch meanwhile.
    world.gitee.setFile(
      "src-openeuler/moved",
      "master",
      "moved.spec",
      packageSpec("moved", "5").replace("Version:        1.2.3", "Version:        1.3.0"),
    );
    const next = await upstreamCommit("Second fix");
    const plan = await planTracking(planDeps(), "src-openeuler/moved", "master");
    expect(plan?.proposal).toMatchObject({ action: "replace", pullNumber: 1 });
    expect(plan?.pull?.number).toBeUndefined();
    expect(declaredPatches(plan!.spec!.diff.replace(/^\+/gm, ""))).toEqual([
      `${first}.patch`,
      `${next}.patch`,
    ]);
    expect(renderPlan(plan!)).toContain(
      `a new one would hold its commits and these, and !1 and its issue #${repoOf("moved").issues[0]!.number} would be closed`,
    );
    expect((await world.scan("moved")).outcome).toBe("proposed");

    const repo = repoOf("moved");
    expect(repo.pulls.map((pull) => pull.state)).toEqual(["closed", "open"]);
    const successor = repo.pulls[1]!;
    const spec = repo.branches[successor.head]!.files["moved.spec"]!.text;
    expect(spec).toContain("Version:        1.3.0\n");
    expect(spec).toContain("Release:        6\n");
    expect(declaredPatches(spec)).toEqual([`${first}.patch`, `${next}.patch`]);
    const closing = repo.pulls[0]!.comments;
    expect(closing).toHaveLength(1);
    expect(closing[0]!.body).toContain(`superseded by !${successor.number}`);
    // Its issue is closed too, with a comment naming the successor's issue and pull request.
    expect(repo.issues.map((issue) => issue.state)).toEqual(["closed", "open"]);
    const issueComments = repo.issues[0]!.comments;
    expect(issueComments).toHaveLength(1);
    expect(issueComments[0]!.body).toStartWith(
      `[patch tracking] superseded by #${repo.issues[1]!.number} and its pull request !${successor.number} (${openProposalFor(world.db, "src-openeuler/moved", "master")?.pullUrl}): `,
    );
    const states = proposalsFor(world.db, "src-openeuler/moved", "master").map((p) => p.state);
    expect(states).toEqual(["open", "superseded"]);
    expect(repo.issues[1]!.body).toContain(first.slice(0, 7));
  });
});

describe(`per-batch proposals (${mode.name})`, () => {
  test('PROPOSALS = "per-batch" opens one proposal per scan, as before', async () => {
    await newPackage("batches");
    world.deps.proposals = "per-batch";
    try {
      const first = await upstreamCommit("Batch one");
      await world.scan("batches");
      const second = await upstreamCommit("Batch two");
      await world.scan("batches");
      const repo = repoOf("batches");
      expect(repo.pulls.map((pull) => pull.state)).toEqual(["open", "open"]);
      expect(repo.issues).toHaveLength(2);
      const specs = repo.pulls.map((pull) => repo.branches[pull.head]!.files["batches.spec"]!.text);
      // Each made from the tracked branch: same Release, one patch each.
      expect(specs.map((spec) => declaredPatches(spec))).toEqual([
        [`${first}.patch`],
        [`${second}.patch`],
      ]);
      for (const spec of specs) expect(spec).toContain("Release:        2\n");
      // Nothing is added to the first proposal: no comment, its issue lists only its commit.
      expect(repo.pulls[0]!.comments).toEqual([]);
      expect(repo.issues[0]!.body).not.toContain(second.slice(0, 7));
      expect(repo.issues[1]!.body).not.toContain(first.slice(0, 7));
      // The dry run says the same: a third commit would open a third proposal.
      await upstreamCommit("Batch three");
      const plan = await planTracking(
        { ...planDeps(), proposals: "per-batch" },
        "src-openeuler/batches",
        "master",
      );
      expect(plan?.proposal).toBeUndefined();
      expect(plan?.pull?.number).toBeUndefined();
      expect(plan?.spec?.diff).toContain("+Release:        2");
    } finally {
      world.deps.proposals = undefined;
    }
  });
});

describe(`already carried patches (${mode.name})`, () => {
  /** The upstream change of `sha` re-written as a maintainer's back-port: other header and name. */
  async function backport(sha: string): Promise<string> {
    const diff = await world.upstream.git(["diff", `${sha}~1`, sha]);
    return `From: Maintainer <m@example.org>\nSubject: [PATCH] backport: fix null crash\n\nReworded by hand.\n---\n${diff}`;
  }

  test("a commit the package carries under another name is not proposed; the issue names it", async () => {
    const carried = await upstreamCommit("Fix null crash");
    const fresh = await upstreamCommit("Another fix");
    const spec = packageSpec("carrier").replace(
      "Source0:        %{name}-%{version}.tar.gz\n",
      "Source0:        %{name}-%{version}.tar.gz\nPatch0001:      backport-fix-null-crash.patch\n",
    );
    world.gitee.addRepo("src-openeuler/carrier", {
      files: {
        "carrier.spec": spec,
        "backport-fix-null-crash.patch": await backport(carried),
      },
    });
    trackPackage(world.db, "carrier", await parentOf(carried));
    expect((await world.scan("carrier")).outcome).toBe("proposed");
    const repo = repoOf("carrier");
    const pull = repo.pulls[0]!;
    const files = repo.branches[pull.head]!.files;
    expect(files[`${carried}.patch`]).toBeUndefined();
    expect(files[`${fresh}.patch`]).toBeDefined();
    expect(declaredPatches(files["carrier.spec"]!.text)).toEqual([
      "backport-fix-null-crash.patch",
      `${fresh}.patch`,
    ]);
    expect(repo.issues[0]!.body).toContain(`| [${carried.slice(0, 7)}](`);
    expect(repo.issues[0]!.body).toContain(
      "Fix null crash (already carried as backport-fix-null-crash.patch: no patch file)",
    );
  });

  test("Patch lines with macros name their files after expansion; %(...) is never run", async () => {
    const crash = await upstreamCommit("Fix crash on start");
    const leak = await upstreamCommit("Fix leak on exit");
    const fresh = await upstreamCommit("Yet another fix");
    const marker = join(world.dir, "macro-shell-ran");
    const spec = `%global fixtag leak-fix\n${packageSpec("macros")}`.replace(
      "Source0:        %{name}-%{version}.tar.gz\n",
      [
        "Source0:        %{name}-%{version}.tar.gz",
        "Patch1:         %{name}-fix-crash.patch",
        "Patch2:         backport-%{fixtag}-%{version}.patch",
        `Patch3:         %(touch ${marker} && echo x)-never.patch`,
        "",
      ].join("\n"),
    );
    expect(declaredPatchFiles(spec)).toEqual([
      "macros-fix-crash.patch",
      "backport-leak-fix-1.2.3.patch",
    ]);
    world.gitee.addRepo("src-openeuler/macros", {
      files: {
        "macros.spec": spec,
        "macros-fix-crash.patch": await backport(crash),
        "backport-leak-fix-1.2.3.patch": await backport(leak),
      },
    });
    trackPackage(world.db, "macros", await parentOf(crash));
    const plan = await planTracking(planDeps(), "src-openeuler/macros", "master");
    expect(plan?.commits.map((commit) => commit.verdict)).toEqual([
      "already carried as macros-fix-crash.patch",
      "already carried as backport-leak-fix-1.2.3.patch",
      null,
    ]);
    expect((await world.scan("macros")).outcome).toBe("proposed");
    const repo = repoOf("macros");
    const files = repo.branches[repo.pulls[0]!.head]!.files;
    expect(Object.keys(files).filter((file) => /^[0-9a-f]{40}\.patch$/.test(file))).toEqual([
      `${fresh}.patch`,
    ]);
    expect(declaredPatches(files["macros.spec"]!.text).at(-1)).toBe(`${fresh}.patch`);
    expect(repo.issues[0]!.body).toContain(
      "Fix crash on start (already carried as macros-fix-crash.patch: no patch file)",
    );
    expect(repo.issues[0]!.body).toContain(
      "Fix leak on exit (already carried as backport-leak-fix-1.2.3.patch: no patch file)",
    );
    expect(existsSync(marker)).toBe(false);
  });

  test("while a proposal is open, a carried commit leaves it alone and a later one joins it", async () => {
    const base = await world.upstream.head();
    const opening = await upstreamCommit("Opening fix");
    await world.upstream.branch("ahead-opening", opening);
    // The maintainers back-ported `ahead` before the proposal opened; it comes upstream later.
    const ahead = await upstreamCommit("Fix null crash ahead");
    const spec = packageSpec("aheadpkg").replace(
      "Source0:        %{name}-%{version}.tar.gz\n",
      "Source0:        %{name}-%{version}.tar.gz\nPatch1:         backport-ahead.patch\n",
    );
    world.gitee.addRepo("src-openeuler/aheadpkg", {
      files: { "aheadpkg.spec": spec, "backport-ahead.patch": await backport(ahead) },
    });
    const track = (scmBranch: string, scmCommit: string) =>
      upsertTracking(world.db, {
        version_control: "github",
        scm_repo: UPSTREAM,
        scm_branch: scmBranch,
        scm_commit: scmCommit,
        repo: "src-openeuler/aheadpkg",
        branch: "master",
        enabled: true,
      });
    track("ahead-opening", base);
    expect((await world.scan("aheadpkg")).outcome).toBe("proposed");
    track("main", opening);
    const pullBefore = repoOf("aheadpkg").pulls[0]!;
    const issueBefore = repoOf("aheadpkg").issues[0]!;

    // `ahead` alone: carried, so the open proposal is not touched and the position advances.
    world.gitee.resetLog();
    expect((await world.scan("aheadpkg")).outcome).toBe("passed-over");
    expect(world.gitee.writes()).toEqual([]);
    expect(repoOf("aheadpkg").pulls).toEqual([pullBefore]);
    expect(repoOf("aheadpkg").issues).toEqual([issueBefore]);
    expect(world.tracking("aheadpkg")!.scm_commit).toBe(ahead);
    expect(openProposalFor(world.db, "src-openeuler/aheadpkg", "master")?.pullNumber).toBe(
      pullBefore.number,
    );

    // A later commit joins the same proposal; the carried one is in neither spec nor branch.
    const later = await upstreamCommit("Later fix");
    expect((await world.scan("aheadpkg")).outcome).toBe("proposed");
    const repo = repoOf("aheadpkg");
    expect(repo.pulls).toHaveLength(1);
    const files = repo.branches[repo.pulls[0]!.head]!.files;
    expect(declaredPatches(files["aheadpkg.spec"]!.text)).toEqual([
      "backport-ahead.patch",
      `${opening}.patch`,
      `${later}.patch`,
    ]);
    expect(files[`${ahead}.patch`]).toBeUndefined();
    expect(files["aheadpkg.spec"]!.text).toContain("Release:        2\n");
    expect(repo.pulls[0]!.comments).toHaveLength(1);
    expect(repo.pulls[0]!.comments[0]!.body).toContain(later.slice(0, 7));
  });

  test("when every new commit is carried nothing is proposed and the position advances", async () => {
    const carried = await upstreamCommit("Fix leak");
    const spec = packageSpec("allcarried").replace(
      "Source0:        %{name}-%{version}.tar.gz\n",
      "Source0:        %{name}-%{version}.tar.gz\nPatch1:         0001-fix-leak.patch\n",
    );
    const carriedFile = await backport(carried);
    world.gitee.addRepo("src-openeuler/allcarried", {
      files: { "allcarried.spec": spec, "0001-fix-leak.patch": carriedFile },
    });
    // Read by path, or by its blob sha once the run's view has listed the root.
    const readsOfCarried = () =>
      world.gitee.requests.filter(
        (request) =>
          request.path.endsWith("/0001-fix-leak.patch") ||
          request.path.endsWith(`/git/blobs/${gitBlobSha(new TextEncoder().encode(carriedFile))}`),
      );
    trackPackage(world.db, "allcarried", await parentOf(carried));
    const plan = await planTracking(planDeps(), "src-openeuler/allcarried", "master");
    expect(plan?.state).toBe("passed-over");
    expect(plan?.commits[0]).toMatchObject({
      sha: carried,
      patchFile: null,
      verdict: "already carried as 0001-fix-leak.patch",
    });
    expect(renderPlan(plan!)).toContain("(already carried as 0001-fix-leak.patch: no patch)");
    world.gitee.resetLog();
    expect((await world.scan("allcarried")).outcome).toBe("passed-over");
    const [overview] = listOverview(world.db, { repo: "src-openeuler/allcarried" });
    expect(overview?.passedOver).toEqual({
      count: 1,
      latest: [{ sha: carried, reason: "already carried as 0001-fix-leak.patch" }],
    });
    expect(overview?.proposal).toBeNull();
    expect(statusTable(overview ? [overview] : [], undefined)).toContain(
      `1, newest ${carried.slice(0, 7)} already carried as 0001-fix-leak.patch`,
    );
    expect(world.gitee.writes()).toEqual([]);
    expect(world.tracking("allcarried")!.scm_commit).toBe(carried);
    expect(repoOf("allcarried").pulls).toEqual([]);
    // The carried file was read once; a later scan knows it by its blob sha.
    expect(readsOfCarried()).toHaveLength(1);
    const again = await upstreamCommit("Unrelated");
    world.gitee.resetLog();
    trackPackage(world.db, "allcarried", await parentOf(carried));
    await world.scan("allcarried");
    expect(readsOfCarried()).toEqual([]);
    const pull = repoOf("allcarried").pulls[0]!;
    expect(
      declaredPatches(repoOf("allcarried").branches[pull.head]!.files["allcarried.spec"]!.text),
    ).toEqual(["0001-fix-leak.patch", `${again}.patch`]);
  });
});

async function parentOf(sha: string): Promise<string> {
  return world.upstream.head(`${sha}~1`);
}
