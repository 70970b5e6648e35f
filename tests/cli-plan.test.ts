/**
 * `patch-tracking-cli plan`, the dry run, against the real service wired to the GitHub and Gitee
 * emulators: what it shows, that Gitee receives no write, and how refusals are reported.
 */
import { describe, expect, test } from "bun:test";
import { getTracking } from "../src/db/trackings.ts";
import { cli } from "./helpers/cli.ts";
import { startEngineServer } from "./helpers/engine-server.ts";
import { makeWorld } from "./helpers/world.ts";

const world = await makeWorld();
const c1 = await world.upstream.commit("Fix a crash", { "src/a.c": "int a = 3;\n" });
const c2 = await world.upstream.commit("Add feature", { "src/f.c": "int f;\n" });
const service = await startEngineServer(world);
// Its own server: the failed logins below make it throttle this address.
const guarded = await startEngineServer(world);
const credentials = ["--user", "admin", "--password", "Test@123"];
const planArgs = (name: string, extra: string[] = credentials) => [
  "plan",
  ...service.connection,
  ...extra,
  "--repo",
  `src-openeuler/${name}`,
  "--branch",
  "master",
];

describe("plan", () => {
  test("prints the commits, patch files with sizes, spec diff, issue and pull request; Gitee gets no write", async () => {
    service.track("dry", world.base);
    world.gitee.resetLog();
    const result = await cli(planArgs("dry"));
    expect(result.err).toBe("");
    expect(result.code).toBe(0);
    const out = result.out;
    expect(out).toStartWith(
      "dry run for src-openeuler/dry@master (upstream up/stream@main, github)\n" +
        `upstream head: ${c2}; last handled: ${world.base}\n` +
        "state: a scan would propose 2 patches from 2 commits\n\ncommits (oldest first):\n",
    );
    // The apply check's verdict follows in brackets (here: the test package has no archive).
    expect(out).toMatch(
      new RegExp(
        `^ {2}${c1.slice(0, 12)} {2}\\S+ {2}Fix a crash {2}\\[not checked: no archive found`,
        "m",
      ),
    );
    expect(out).toMatch(new RegExp(`^ {2}${c2.slice(0, 12)} {2}\\S+ {2}Add feature {2}\\[`, "m"));
    expect(out.indexOf("Fix a crash")).toBeLessThan(out.indexOf("Add feature"));
    expect(out).toMatch(new RegExp(`^ {2}\\d+ B {2}${c1}\\.patch$`, "m"));
    expect(out).toMatch(new RegExp(`^ {2}\\d+ B {2}${c2}\\.patch$`, "m"));
    expect(out).toMatch(/^work branch: patch-tracking\/\d{20}$/m);
    expect(out).toContain("\nspec dry.spec:\n");
    expect(out).toMatch(/\n-Release: +1\n\+Release: +2\n/);
    expect(out).toMatch(
      new RegExp(`\\n\\+Patch6000: +${c1}\\.patch\\n\\+Patch6001: +${c2}\\.patch\\n`),
    );
    expect(out).toMatch(/^issue: \[patch tracking\] master \d{20}$/m);
    expect(out).toContain("\n  | Commit | Datetime | Message |\n");
    expect(out).toMatch(
      new RegExp(
        `^ {2}\\| \\[${c1.slice(0, 7)}\\]\\(.*\\| Fix a crash \\(not checked: .*\\) \\|$`,
        "m",
      ),
    );
    expect(out).toContain(
      "\nApply check: not checked: no archive found (dry-1.2.3.tar.gz is not in the repository)\n",
    );
    expect(out).toMatch(
      /^pull request: \[patch tracking\] \d{20} \(patch-tracking\/\d{20} into master\)$/m,
    );
    expect(out).toEndWith("\ndry run: nothing was written to Gitee or the database\n");

    // Read only: the forge saw reads, and nothing changed here or there.
    expect(world.gitee.requests.length).toBeGreaterThan(0);
    expect(world.gitee.writes()).toEqual([]);
    const repo = world.gitee.repo("src-openeuler/dry");
    expect(Object.keys(repo.branches)).toEqual(["master"]);
    expect(repo.issues).toHaveLength(0);
    expect(getTracking(service.db, "src-openeuler/dry", "master")?.scm_commit).toBe(world.base);
  });

  test("--json prints the plan for scripts; the text shows the same sizes", async () => {
    service.track("json", world.base);
    const result = await cli([...planArgs("json"), "--json"]);
    expect(result.code).toBe(0);
    const plan = JSON.parse(result.out);
    expect(plan.state).toBe("would-propose");
    expect(plan.commits.map((commit: { sha: string }) => commit.sha)).toEqual([c1, c2]);
    expect(plan.spec.diff).toMatch(new RegExp(`\\+Patch6000: +${c1}\\.patch`));
    const text = await cli(planArgs("json"));
    for (const commit of plan.commits) {
      expect(commit.patchBytes).toBeGreaterThan(100);
      expect(text.out).toContain(`  ${commit.patchBytes} B  ${commit.sha}.patch\n`);
    }
  });

  test("an up-to-date tracking and one not started yet say so, with nothing to list", async () => {
    service.track("current", c2);
    let result = await cli(planArgs("current"));
    expect(result.code).toBe(0);
    expect(result.out).toContain("\nstate: up to date: nothing would be proposed\n");
    expect(result.out).not.toContain("commits (oldest first)");
    expect(result.out).not.toContain("spec ");

    service.track("unstarted", null);
    result = await cli(planArgs("unstarted"));
    expect(result.code).toBe(0);
    expect(result.out).toContain(
      "\nstate: not started: the first scan records the upstream head\n",
    );
    expect(getTracking(service.db, "src-openeuler/unstarted", "master")?.scm_commit).toBeNull();
  });

  test("an unknown tracking is named, exit 1", async () => {
    const result = await cli(planArgs("none"));
    expect(result.code).toBe(1);
    expect(result.out).toBe("");
    expect(result.err).toContain(
      "patch-tracking-cli plan: error: no tracking for src-openeuler/none@master",
    );
  });

  test("missing options are all named at once", async () => {
    const result = await cli(["plan", ...service.connection, "--repo", "src-openeuler/x"]);
    expect(result.code).toBe(1);
    expect(result.err).toContain("  --user\n  --password (or PATCH_TRACKING_PASSWORD");
    expect(result.err).toContain("  --branch\n");
    expect(result.err).not.toContain("  --repo\n");
    expect(result.err).toContain("see: patch-tracking-cli plan --help");
  });
});

describe("plan refused", () => {
  test("a wrong password gets the 401 message; after 10 failures the 429 message", async () => {
    guarded.track("guarded", world.base);
    const args = [
      "plan",
      ...guarded.connection,
      "--user",
      "admin",
      "--password",
      "Wrong@123",
      "--repo",
      "src-openeuler/guarded",
      "--branch",
      "master",
    ];
    const first = await cli(args);
    expect(first.code).toBe(1);
    expect(first.err).toContain('refused the credentials of user "admin" (HTTP 401)');
    for (let attempt = 2; attempt <= 10; attempt++) await cli(args);
    const throttled = await cli(args);
    expect(throttled.code).toBe(1);
    expect(throttled.err).toMatch(
      /refusing logins from this address after too many failures \(HTTP 429\): try again in \d+ seconds/,
    );
  });
});

describe("hostile upstream text", () => {
  // Last in this file: the new upstream commit moves the head the tests above expect.
  test("control characters in an upstream commit message never reach the terminal", async () => {
    await world.upstream.commit("Fix \x1b[2J\x1b]0;owned\x07 title", { "src/h.c": "int h;\n" });
    service.track("hostile", c2);
    const result = await cli(planArgs("hostile"));
    expect(result.code).toBe(0);
    expect(result.out).toMatch(
      /^ {2}[0-9a-f]{12} {2}\S+ {2}Fix {2}\[2J \]0;owned {2}title( {2}\[.*\])?$/m,
    );
    expect(result.out).toContain("| Fix  [2J ]0;owned  title (not checked: no archive found");
    expect(result.out).not.toContain("\x1b");
    expect(result.out).not.toContain("\x07");
  });
});
