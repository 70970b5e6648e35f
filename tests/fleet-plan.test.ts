/**
 * The fleet plan (`GET /plan`, `patch-tracking-cli plan --all`) over a mix of trackings against
 * the emulators: what each would get, a summary line first — and nothing written: the Gitee
 * emulator's write log and every table of the database are the same before and after.
 */
import { describe, expect, test } from "bun:test";
import { itemLine } from "../cli/commands/fleet-plan.ts";
import { setFilters } from "../src/db/filters.ts";
import type { FleetItem, FleetPlan } from "../src/scan/fleet-plan.ts";
import { cli } from "./helpers/cli.ts";
import { databaseSnapshot } from "./helpers/db-snapshot.ts";
import { startEngineServer } from "./helpers/engine-server.ts";
import { gitArchive } from "./helpers/package-sources.ts";
import { basicAuth } from "./helpers/settings.ts";
import { makeWorld, packageSpec, trackPackage } from "./helpers/world.ts";

const world = await makeWorld();
const service = await startEngineServer(world);
const credentials = ["--user", "admin", "--password", "Test@123"];

// checked: its archive is a release made beside main from the base: src/a.c changed (so "Fix
// one" conflicts) and src/b.c added (so "Fix two" is already applied); "Docs" applies.
await world.upstream.git(["checkout", "-b", "release", world.base]);
await world.upstream.commit("release 1.2.3", { "src/a.c": "int a = 2;\n", "src/b.c": "int b;\n" });
const archive = await gitArchive(world.upstream, "HEAD", "checked-1.2.3/", "tar.gz");
await world.upstream.checkout("main");

// extended: proposed once (its pull request stays open), then more commits arrive.
service.track("extended", world.base);
await world.upstream.commit("Fix one", { "src/a.c": "int a = 1;\n" });
const first = await service.scanner.scanOne("src-openeuler/extended", "master");
const c2 = await world.upstream.commit("Fix two\n\nFixes: 2", { "src/b.c": "int b;\n" });
await world.upstream.commit("Docs", { "docs/x.md": "x\n" });
const head = await world.upstream.head();
service.track("fresh", world.base);
service.track("current", head);
service.track("filtered", c2);
setFilters(service.db, "src-openeuler/filtered", "master", { include_paths: ["src/**"] });
service.track("unstarted", null);
service.track("disabled", world.base, { enabled: false });
service.track("rewritten", "0123456789abcdef0123456789abcdef01234567");
world.gitee.addRepo("src-openeuler/checked", {
  files: { "checked.spec": packageSpec("checked"), "checked-1.2.3.tar.gz": archive },
});
trackPackage(service.db, "checked", world.base);
// carried: the package already carries "Fix two", back-ported by hand under another name.
const fixTwo = await world.upstream.git(["format-patch", "-1", "--stdout", c2]);
world.gitee.addRepo("src-openeuler/carried", {
  files: {
    "carried.spec": packageSpec("carried").replace(
      "Source0:",
      "Patch0:         backport-fix-two.patch\nSource0:",
    ),
    "backport-fix-two.patch": fixTwo,
  },
});
trackPackage(service.db, "carried", await world.upstream.head("HEAD~2"));

function snapshot(): string {
  return databaseSnapshot(service.db);
}

describe("the fleet plan", () => {
  test("the fixture: the first proposal of 'extended' is open", () => {
    expect(first.outcome).toBe("proposed");
  });

  test("GET /plan: each enabled tracking's state, and nothing written anywhere", async () => {
    world.gitee.resetLog();
    const writes = world.gitee.writes().length;
    const before = snapshot();
    const url = service.connection[1];
    const response = await fetch(`https://${url}/plan`, {
      headers: { authorization: basicAuth() },
      tls: { rejectUnauthorized: false },
    });
    const body = (await response.json()) as { code: string; data: FleetPlan };
    expect(body.code).toBe("2001");
    const plan = body.data;
    expect(plan.total).toBe(8);
    const byRepo = Object.fromEntries(plan.items.map((item) => [item.repo.split("/")[1], item]));
    expect(Object.keys(byRepo).sort()).toEqual(
      [
        "carried",
        "checked",
        "current",
        "extended",
        "filtered",
        "fresh",
        "rewritten",
        "unstarted",
      ].sort(),
    );
    const openPull = world.gitee.repo("src-openeuler/extended").pulls[0]?.number;
    expect(byRepo.extended).toMatchObject({
      state: "would-propose",
      newCommits: 2,
      proposed: 2,
      proposal: "extend",
      openProposal: { pull: openPull, action: "extend" },
    });
    // No archive in the package: the apply check says so for each commit it tried.
    expect(byRepo.fresh).toMatchObject({
      state: "would-propose",
      newCommits: 3,
      proposed: 3,
      carried: 0,
      applyCheck: { applies: 0, alreadyApplied: 0, conflicts: 0, notChecked: 3 },
      proposal: "new",
      openProposal: null,
    });
    expect(byRepo.checked).toMatchObject({
      state: "would-propose",
      newCommits: 3,
      proposed: 2,
      applyCheck: { applies: 1, alreadyApplied: 1, conflicts: 1, notChecked: 0 },
      proposal: "new",
    });
    expect(byRepo.carried).toMatchObject({
      state: "would-propose",
      newCommits: 2,
      carried: 1,
      proposed: 1,
      applyCheck: { applies: 0, alreadyApplied: 0, conflicts: 0, notChecked: 1 },
      proposal: "new",
    });
    expect(byRepo.current).toMatchObject({ state: "up-to-date", newCommits: 0, proposal: null });
    expect(byRepo.filtered).toMatchObject({
      state: "passed-over",
      newCommits: 1,
      passedOver: 1,
      proposal: null,
      applyCheck: null,
    });
    expect(byRepo.unstarted?.state).toBe("not-started");
    expect(byRepo.rewritten?.state).toBe("failed");
    expect(plan.summary).toEqual({
      trackings: 8,
      commits: 8,
      proposals: 4,
      extending: 1,
      passedOver: 1,
      carried: 1,
      alreadyApplied: 1,
      conflicts: 1,
      failures: 1,
      notChecked: 0,
    });
    expect(world.gitee.writes().length).toBe(writes);
    expect(snapshot()).toBe(before);
    // The package files came by blob sha (into the source cache): specs, archive, carried patch.
    const blobs = world.gitee.requests.filter((request) => request.path.includes("/git/blobs/"));
    expect(blobs.length).toBeGreaterThanOrEqual(6);
  }, 60_000);

  test("a second plan reads Gitee as a scan would: one root listing per package with commits to propose, no file downloaded again", async () => {
    world.gitee.resetLog();
    const before = snapshot();
    const response = await fetch(`https://${service.connection[1]}/plan`, {
      headers: { authorization: basicAuth() },
      tls: { rejectUnauthorized: false },
    });
    expect(((await response.json()) as { code: string }).code).toBe("2001");
    const requests = world.gitee.requests.map((request) => `${request.method} ${request.path}`);
    expect(requests.filter((request) => !request.startsWith("GET "))).toEqual([]);
    expect(requests.filter((request) => request.includes("/git/blobs/"))).toEqual([]);
    // Packages with commits left to propose: extended, fresh, checked, carried.
    // extended also asks for its open pull request's state and lists its work branch (the spec
    // the new commits would be added to).
    expect(requests.sort()).toEqual(
      [
        "GET /repos/src-openeuler/carried/contents",
        "GET /repos/src-openeuler/checked/contents",
        "GET /repos/src-openeuler/extended/contents",
        "GET /repos/src-openeuler/extended/contents",
        `GET /repos/src-openeuler/extended/pulls/${world.gitee.repo("src-openeuler/extended").pulls[0]?.number}`,
        "GET /repos/src-openeuler/fresh/contents",
      ].sort(),
    );
    expect(snapshot()).toBe(before);
  }, 60_000);

  test("pages: offset and limit; bad values answer 4001; credentials are required", async () => {
    const url = `https://${service.connection[1]}`;
    const get = async (path: string, auth = true) =>
      fetch(`${url}${path}`, {
        headers: auth ? { authorization: basicAuth() } : {},
        tls: { rejectUnauthorized: false },
      });
    const page = (await (await get("/plan?offset=2&limit=2")).json()) as { data: FleetPlan };
    expect(page.data).toMatchObject({ total: 8, offset: 2 });
    expect(page.data.items).toHaveLength(2);
    expect(((await (await get("/plan?limit=abc")).json()) as { code: string }).code).toBe("4001");
    expect(((await (await get("/plan?limit=5000")).json()) as { code: string }).code).toBe("4001");
    expect((await get("/plan", false)).status).toBe(401);
  });

  test("plan --all: the summary line first, one line per tracking with something to do", async () => {
    const writes = world.gitee.writes().length;
    const before = snapshot();
    const result = await cli(["plan", ...service.connection, ...credentials, "--all"]);
    expect(result.code).toBe(0);
    const lines = result.out.trimEnd().split("\n");
    expect(lines[0]).toBe(
      "8 enabled trackings: would propose 8 commits in 4 proposals (1 joining open ones), 1 already carried, 1 passed over by filters, 1 already applied, 1 conflict, 1 failure",
    );
    const openPull = world.gitee.repo("src-openeuler/extended").pulls[0]?.number;
    expect(lines).toContain(
      `src-openeuler/extended@master: 2 new commits: 2 to propose (joining the open pull request !${openPull}); apply check: 2 not checked`,
    );
    expect(lines).toContain(
      "src-openeuler/fresh@master: 3 new commits: 3 to propose (new proposal); apply check: 3 not checked",
    );
    expect(lines).toContain(
      "src-openeuler/checked@master: 3 new commits: 2 to propose (new proposal), 1 already applied; apply check: 1 applies, 1 conflict",
    );
    expect(lines).toContain(
      "src-openeuler/carried@master: 2 new commits: 1 to propose (new proposal), 1 already carried; apply check: 1 not checked",
    );
    expect(lines).toContain(
      "src-openeuler/filtered@master: 1 new commit, all passed over by filters",
    );
    expect(lines.some((line) => line.startsWith("src-openeuler/rewritten@master: failed: "))).toBe(
      true,
    );
    expect(lines.some((line) => line.includes("current@"))).toBe(false);
    expect(lines.at(-1)).toBe("dry run: nothing was written to Gitee or the database");
    // Progress went to stderr, off a terminal as plain lines.
    expect(result.err).toContain("planning");
    expect(world.gitee.writes().length).toBe(writes);
    expect(snapshot()).toBe(before);

    const json = await cli(["plan", ...service.connection, ...credentials, "--all", "--json"]);
    const parsed = JSON.parse(json.out) as Omit<FleetPlan, "offset">;
    // Written item by item from a temporary file: still exactly JSON.stringify's bytes.
    expect(json.out).toBe(`${JSON.stringify(parsed, null, 2)}\n`);
    expect(Object.keys(parsed)).toEqual(["total", "summary", "items"]);
    expect(parsed.total).toBe(8);
    expect(parsed.summary).toMatchObject({ commits: 8, carried: 1, conflicts: 1, failures: 1 });
    expect(parsed.items.find((item) => item.repo === "src-openeuler/checked")?.applyCheck).toEqual({
      applies: 1,
      alreadyApplied: 1,
      conflicts: 1,
      notChecked: 0,
    });

    const mixed = await cli([
      "plan",
      ...service.connection,
      ...credentials,
      "--all",
      "--repo",
      "x",
    ]);
    expect(mixed.code).toBe(1);
    expect(mixed.err).toContain("--all plans every enabled tracking");
  }, 30_000);
});

describe("plan --all lines", () => {
  const item = (fields: Partial<FleetItem>): FleetItem => ({
    repo: "src-openeuler/x",
    branch: "master",
    upstream: "up/stream@main",
    state: "would-propose",
    newCommits: 2,
    passedOver: 0,
    empty: 0,
    carried: 0,
    applyCheck: null,
    proposed: 2,
    remaining: 0,
    proposal: "new",
    openProposal: null,
    ...fields,
  });

  test("what happens to the open proposal: replaced, or a new one after a merge or a close", () => {
    expect(
      itemLine(item({ proposal: "replace", openProposal: { pull: 7, action: "replace" } })),
    ).toBe(
      "src-openeuler/x@master: 2 new commits: 2 to propose (replacing the open pull request !7: the tracked spec changed under it)",
    );
    expect(itemLine(item({ openProposal: { pull: 7, action: "merged" } }))).toBe(
      "src-openeuler/x@master: 2 new commits: 2 to propose (new proposal: !7 was merged)",
    );
    expect(itemLine(item({ openProposal: { pull: 7, action: "closed" } }))).toBe(
      "src-openeuler/x@master: 2 new commits: 2 to propose (new proposal: !7 was closed without merging)",
    );
  });

  test("nothing to propose: why, commit by commit; a spec that cannot be edited; more to come", () => {
    expect(
      itemLine(
        item({
          state: "passed-over",
          newCommits: 3,
          carried: 1,
          passedOver: 1,
          applyCheck: { applies: 0, alreadyApplied: 1, conflicts: 0, notChecked: 0 },
          proposed: 0,
          proposal: null,
        }),
      ),
    ).toBe(
      "src-openeuler/x@master: 3 new commits, none to propose: 1 already carried, 1 passed over by filters, 1 already applied",
    );
    expect(
      itemLine(
        item({
          newCommits: 100,
          proposed: 100,
          remaining: 40,
          specError: "no Release tag",
          applyCheck: { applies: 98, alreadyApplied: 0, conflicts: 2, notChecked: 0 },
        }),
      ),
    ).toBe(
      "src-openeuler/x@master: 100 new commits: 100 to propose (new proposal); apply check: 98 apply, 2 conflicts; spec cannot be edited: no Release tag, 40 more for the following run",
    );
    expect(itemLine(item({ state: "up-to-date", newCommits: 0, proposed: 0 }))).toBeNull();
  });
});
