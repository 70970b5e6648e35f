/**
 * Backport filters: each field alone and combined, how paths are read from a patch, the API's
 * refusals, a hostile pattern, scans and dry runs that pass commits over, and the CLI side
 * (`filter`, the `filters:` yaml key, `status`).
 */
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseTrackingFile } from "../cli/yaml-input.ts";
import { getFilters, setFilters } from "../src/db/filters.ts";
import { runCommits, runsFor } from "../src/db/runs.ts";
import { upsertTracking } from "../src/db/trackings.ts";
import {
  compileFilters,
  parseFilters,
  type TrackingFilters,
  touchedPaths,
} from "../src/scan/filters.ts";
import { planTracking } from "../src/scan/plan.ts";
import { cli } from "./helpers/cli.ts";
import { startEngineServer } from "./helpers/engine-server.ts";
import { tempDir } from "./helpers/temp.ts";
import { startTestServer } from "./helpers/test-server.ts";
import { TRACKING_FIELDS } from "./helpers/tracking-fields.ts";
import { makeWorld, packageSpec, UPSTREAM } from "./helpers/world.ts";

const encode = (text: string) => new TextEncoder().encode(text);

/** A patch in format-patch form changing `paths` (message lines before the diff included). */
function patchTouching(paths: string[], message = "Subject"): Uint8Array {
  const diffs = paths.map(
    (path) =>
      `diff --git a/${path} b/${path}\nindex 1..2 100644\n--- a/${path}\n+++ b/${path}\n@@ -1 +1 @@\n-a\n+b\n`,
  );
  return encode(
    `From 0 Mon Sep 17 00:00:00 2001\nSubject: [PATCH] ${message}\n\n---\n stat\n\n${diffs.join("")}-- \n2.0\n`,
  );
}

function verdictOf(filters: TrackingFilters, message: string, paths: string[]) {
  const parsed = parseFilters(filters);
  if ("problem" in parsed) throw new Error(parsed.problem.error);
  return compileFilters(parsed.filters).verdict({ message, patch: patchTouching(paths) });
}

describe("touched paths", () => {
  test("come from the diff headers: edits, renames, additions, deletions, binary and quoted names", () => {
    const patch = encode(
      [
        "From 0 Mon Sep 17 00:00:00 2001",
        "Subject: [PATCH] diff --git a/fake b/fake in a message is not a path",
        "",
        "---",
        "diff --git a/src/a.c b/src/a.c",
        "--- a/src/a.c",
        "+++ b/src/a.c",
        "@@ -1 +1 @@",
        "diff --git a/old/name.c b/new/name.c",
        "similarity index 90%",
        "rename from old/name.c",
        "rename to new/name.c",
        "diff --git a/added.txt b/added.txt",
        "new file mode 100644",
        "--- /dev/null",
        "+++ b/added.txt",
        "diff --git a/gone.txt b/gone.txt",
        "deleted file mode 100644",
        "--- a/gone.txt",
        "+++ /dev/null",
        "diff --git a/img.png b/img.png",
        "Binary files a/img.png and b/img.png differ",
        'diff --git "a/docs/t\\303\\251st file.md" "b/docs/t\\303\\251st file.md"',
        '--- "a/docs/t\\303\\251st file.md"',
        '+++ "b/docs/t\\303\\251st file.md"',
        "",
      ].join("\n"),
    );
    expect(touchedPaths(patch).sort()).toEqual(
      [
        "added.txt",
        "docs/tést file.md",
        "gone.txt",
        "img.png",
        "new/name.c",
        "old/name.c",
        "src/a.c",
      ].sort(),
    );
  });

  test("an empty patch touches nothing", () => {
    expect(touchedPaths(encode("From 0\nSubject: x\n\n"))).toEqual([]);
  });
});

describe("each filter", () => {
  test("message_pattern: matched against the whole message, ^ and $ at each line", () => {
    const filters = { message_pattern: "^Fixes: [0-9a-f]+$|CVE-\\d{4}-\\d+" };
    expect(verdictOf(filters, "Fix a crash\n\nFixes: abc123\nSigned-off-by: A", ["a.c"])).toBe(
      null,
    );
    expect(verdictOf(filters, "Harden parser (CVE-2024-1234)", ["a.c"])).toBe(null);
    expect(verdictOf(filters, "Refactor\n\nNo Fixes: here", ["a.c"])).toBe(
      "passed over: message_pattern",
    );
  });

  test("include_paths: at least one touched path must match a glob", () => {
    const filters = { include_paths: ["src/**", "*.spec"] };
    expect(verdictOf(filters, "m", ["docs/a.md", "src/deep/x.c"])).toBe(null);
    expect(verdictOf(filters, "m", ["pkg.spec"])).toBe(null);
    expect(verdictOf(filters, "m", ["docs/a.md", "sub/pkg.spec"])).toBe(
      "passed over: include_paths",
    );
  });

  test("exclude_paths: at least one touched path must match none of the globs", () => {
    const filters = { exclude_paths: ["docs/**", "**/*.md"] };
    expect(verdictOf(filters, "m", ["docs/a.txt", "README.md", "src/x.c"])).toBe(null);
    expect(verdictOf(filters, "m", ["docs/a.txt", "sub/README.md"])).toBe(
      "passed over: exclude_paths",
    );
  });

  test("combined: every filter must let the commit through; the first refusal is named", () => {
    const filters = {
      message_pattern: "^Fixes:",
      include_paths: ["src/**"],
      exclude_paths: ["src/tests/**"],
    };
    expect(verdictOf(filters, "x\n\nFixes: 1", ["src/a.c"])).toBe(null);
    expect(verdictOf(filters, "x", ["src/a.c"])).toBe("passed over: message_pattern");
    expect(verdictOf(filters, "x\n\nFixes: 1", ["lib/a.c"])).toBe("passed over: include_paths");
    expect(verdictOf(filters, "x\n\nFixes: 1", ["src/tests/t.c"])).toBe(
      "passed over: exclude_paths",
    );
    expect(verdictOf(filters, "x\n\nFixes: 1", ["src/tests/t.c", "src/a.c"])).toBe(null);
  });

  test("no filters: every commit is proposed", () => {
    expect(verdictOf({}, "anything", ["docs/a.md"])).toBe(null);
  });
});

describe("refused filters", () => {
  const problem = (input: unknown) => {
    const parsed = parseFilters(input);
    return "problem" in parsed ? parsed.problem : null;
  };
  test("name the field and the reason", () => {
    expect(problem({ message_pattern: "(unclosed" })).toMatchObject({ field: "message_pattern" });
    expect(problem({ message_pattern: "(?=look)ahead" })?.error).toContain("RE2 syntax");
    expect(problem({ message_pattern: "(a)\\1" })?.field).toBe("message_pattern");
    expect(problem({ message_pattern: "a".repeat(513) })?.error).toContain("longer than 512");
    expect(problem({ include_paths: ["src/[ab"] })?.error).toBe(
      'include_paths: glob "src/[ab" has a [ without ]',
    );
    expect(problem({ exclude_paths: ["/abs/**"] })?.field).toBe("exclude_paths");
    expect(problem({ exclude_paths: [""] })?.error).toContain("is empty");
    expect(problem({ include_paths: [3] })?.field).toBe("include_paths");
    expect(problem({ include_paths: Array(65).fill("a") })?.error).toContain("more than 64");
    expect(problem({ message: "x" })?.error).toContain("unknown filter message");
    expect(problem(["x"])?.field).toBe("filters");
  });
});

describe("a hostile pattern", () => {
  test("(a+)+$ on a long message finishes: the RE2 engine never backtracks", () => {
    // A backtracking engine needs about 2^n steps for this pair; n = 40 000 would never end,
    // and bun test's timeout would fail this test.
    const filter = compileFilters({ message_pattern: "(a+)+$" });
    const message = `${"a".repeat(40_000)}!`;
    expect(filter.verdict({ message, patch: patchTouching(["a.c"]) })).toBe(
      "passed over: message_pattern",
    );
    expect(
      compileFilters({ message_pattern: "^(a|aa)+b" }).verdict({
        message: `${"a".repeat(40_000)}c`,
        patch: patchTouching(["a.c"]),
      }),
    ).toBe("passed over: message_pattern");
  });
});

describe("PUT and GET /tracking/filters", () => {
  const server = startTestServer();
  upsertTracking(server.db, {
    version_control: "github",
    scm_repo: "up/stream",
    scm_branch: "main",
    repo: "src-openeuler/pkg",
    branch: "master",
    enabled: true,
  });
  const path = "/tracking/filters?repo=src-openeuler/pkg&branch=master";
  const put = async (body: unknown, auth = true, where = path) =>
    (await server.call(where, { method: "PUT", auth, json: body })).json() as Promise<any>;

  test("store, show, replace and remove filters; /tracking rows keep seven fields", async () => {
    expect(await (await server.call(path)).json()).toMatchObject({ code: "2001", data: {} });
    const filters = {
      message_pattern: "^Fixes:",
      include_paths: ["src/**"],
      exclude_paths: ["docs/**"],
    };
    expect(await put(filters)).toEqual({
      code: "2001",
      msg: "Successful Operation!",
      data: filters,
    });
    expect(((await (await server.call(path)).json()) as any).data).toEqual(filters);
    expect(await put({ include_paths: ["lib/**"] })).toMatchObject({
      data: { include_paths: ["lib/**"] },
    });
    const rows = ((await (await server.call("/tracking")).json()) as any).data;
    expect(Object.keys(rows[0]).sort()).toEqual([...TRACKING_FIELDS].sort());
    expect(await put({})).toMatchObject({ code: "2001", data: {} });
    expect(getFilters(server.db, "src-openeuler/pkg", "master")).toEqual({});
  });

  test("refusals: 401 without credentials, 4001 naming the problem, nothing stored", async () => {
    await put({ message_pattern: "^keep" });
    const anonymous = await server.call(path, {
      method: "PUT",
      json: { message_pattern: "x" },
    });
    expect(anonymous.status).toBe(401);
    const unknown = await put(
      { message_pattern: "x" },
      true,
      "/tracking/filters?repo=src-openeuler/none&branch=master",
    );
    expect(unknown).toMatchObject({
      code: "4001",
      data: { error: "no tracking for src-openeuler/none:master" },
    });
    const bad = await put({ message_pattern: "(?<=x)y" });
    expect(bad.code).toBe("4001");
    expect(bad.data.field).toBe("message_pattern");
    expect(bad.data.error).toContain("message_pattern is not a valid regular expression");
    const glob = await put({ exclude_paths: ["{a,b"] });
    expect(glob).toMatchObject({ code: "4001", data: { field: "exclude_paths" } });
    expect(glob.data.error).toContain("{a,b");
    expect((await put({ include_paths: "src/**", extra: 1 })).data.error).toContain("extra");
    expect((await put({ message_pattern: "x".repeat(600) })).code).toBe("4001");
    expect(((await (await server.call(`${path}&x=1`)).json()) as any).code).toBe("4001");
    expect(getFilters(server.db, "src-openeuler/pkg", "master")).toEqual({
      message_pattern: "^keep",
    });
    // Deleting the tracking removes its filters.
    await server.call("/tracking?repo=src-openeuler/pkg&branch=master", {
      method: "DELETE",
      auth: true,
    });
    expect(getFilters(server.db, "src-openeuler/pkg", "master")).toEqual({});
  });
});

describe("scans and dry runs with filters", async () => {
  const world = await makeWorld();
  const FILTERS = {
    message_pattern: "^Fixes:",
    include_paths: ["src/**"],
    exclude_paths: ["src/tests/**"],
  };

  test("passed-over commits get no patch file, are counted in the issue, scm_commit advances", async () => {
    world.addPackage("filtered");
    const parsed = parseFilters(FILTERS);
    if ("problem" in parsed) throw new Error("bad filters");
    setFilters(world.db, "src-openeuler/filtered", "master", parsed.filters);
    const fix = await world.upstream.commit("Fix crash\n\nFixes: 123", {
      "src/a.c": "int a = 2;\n",
    });
    const refactor = await world.upstream.commit("Refactor", { "src/a.c": "int a = 3;\n" });
    const docs = await world.upstream.commit("Doc fix\n\nFixes: 9", { README: "hi\n" });
    const testOnly = await world.upstream.commit("Test fix\n\nFixes: 7", {
      "src/tests/t.c": "t\n",
    });

    const plan = await planTracking(world.deps, "src-openeuler/filtered", "master");
    expect(plan?.state).toBe("would-propose");
    expect(plan?.passedOver).toBe(3);
    expect(plan?.filters).toEqual(FILTERS);
    expect(plan?.commits.map((commit) => [commit.sha, commit.verdict, commit.patchFile])).toEqual([
      [fix, null, `${fix}.patch`],
      [refactor, "passed over: message_pattern", null],
      [docs, "passed over: include_paths", null],
      [testOnly, "passed over: exclude_paths", null],
    ]);
    expect(plan?.issue?.body).toContain(
      "3 of 4 commits passed over by the filters (message_pattern: 1, include_paths: 1, exclude_paths: 1)",
    );
    expect(world.gitee.writes()).toEqual([]);

    const result = await world.scan("filtered");
    expect(result.outcome).toBe("proposed");
    expect(world.tracking("filtered")?.scm_commit).toBe(testOnly);
    const repo = world.gitee.repo("src-openeuler/filtered");
    const work = Object.keys(repo.branches).find((name) => name.startsWith("patch-tracking/"))!;
    const patches = Object.keys(repo.branches[work]!.files).filter((path) =>
      path.endsWith(".patch"),
    );
    expect(patches).toEqual([`${fix}.patch`]);
    const spec = repo.branches[work]!.files["filtered.spec"]!.text;
    expect(spec.match(/^Patch\d+:/gm)).toEqual(["Patch6000:"]);
    const body = repo.issues[0]!.body;
    expect(body).toContain(`| [${refactor.slice(0, 7)}](`);
    expect(body).toContain("Refactor (passed over: message_pattern: no patch file) |");
    expect(body).toContain("3 of 4 commits passed over by the filters");
    const [run] = runsFor(world.db, "src-openeuler/filtered", "master");
    expect(runCommits(world.db, run!.id).map((commit) => commit.verdict)).toEqual([
      null,
      "passed over: message_pattern",
      "passed over: include_paths",
      "passed over: exclude_paths",
    ]);
  });

  test("a batch of only passed-over commits proposes nothing and moves past them", async () => {
    world.addPackage("quiet", await world.upstream.head());
    setFilters(world.db, "src-openeuler/quiet", "master", { include_paths: ["src/**"] });
    await world.upstream.commit("Docs", { README: "docs\n" });
    const last = await world.upstream.commit("More docs", { "docs/x.md": "x\n" });
    const plan = await planTracking(world.deps, "src-openeuler/quiet", "master");
    expect(plan?.state).toBe("passed-over");
    expect(plan?.passedOver).toBe(2);
    const writesBefore = world.gitee.writes().length;
    const result = await world.scan("quiet");
    expect(result.outcome).toBe("passed-over");
    expect(world.tracking("quiet")?.scm_commit).toBe(last);
    expect(world.gitee.writes().length).toBe(writesBefore);
    expect(world.gitee.repo("src-openeuler/quiet").issues).toHaveLength(0);
  });
});

describe("the filters: key of a tracking file", () => {
  const tracking = `version_control: github
scm_repo: up/stream
scm_branch: main
repo: src-openeuler/pkg
branch: master
enabled: true
`;
  test("is read with the API's field names; absent leaves the filters alone", () => {
    expect(parseTrackingFile(tracking, "t.yaml").filters).toBeUndefined();
    const file = parseTrackingFile(
      `${tracking}filters:\n  message_pattern: "^Fixes:"\n  include_paths:\n    - src/**\n  exclude_paths: [docs/**]\n`,
      "t.yaml",
    );
    expect(file.filters).toEqual({
      message_pattern: "^Fixes:",
      include_paths: ["src/**"],
      exclude_paths: ["docs/**"],
    });
    expect(parseTrackingFile(`${tracking}filters: {}\n`, "t.yaml").filters).toEqual({});
  });

  test("a bad filter names the file and line", () => {
    expect(() =>
      parseTrackingFile(`${tracking}filters:\n  message_pattern: "(x"\n`, "t.yaml"),
    ).toThrow(/^t\.yaml:7: filters: message_pattern is not a valid regular expression/);
    expect(() => parseTrackingFile(`${tracking}filters:\n  paths: [a]\n`, "t.yaml")).toThrow(
      /unknown filter paths/,
    );
  });
});

describe("the CLI", async () => {
  const world = await makeWorld();
  const service = await startEngineServer(world);
  const connection = service.connection;
  const credentials = ["--user", "admin", "--password", "Test@123"];
  const target = ["--repo", "src-openeuler/clipkg", "--branch", "master"];

  test("add --file with filters:, then filter shows, sets, refuses and clears; status shows them", async () => {
    world.gitee.addRepo("src-openeuler/clipkg", {
      files: { "clipkg.spec": packageSpec("clipkg") },
    });
    const dir = tempDir();
    const file = join(dir, "t.yaml");
    writeFileSync(
      file,
      `version_control: github\nscm_repo: ${UPSTREAM}\nscm_branch: main\nrepo: src-openeuler/clipkg\nbranch: master\nenabled: false\nfilters:\n  include_paths: [src/**]\n`,
    );
    const added = await cli(["add", ...connection, ...credentials, "--no-check", "--file", file]);
    expect(added.err).toBe("");
    expect(added.out).toContain("filters: include_paths src/**");
    expect(getFilters(service.db, "src-openeuler/clipkg", "master")).toEqual({
      include_paths: ["src/**"],
    });

    const shown = await cli(["filter", ...connection, ...target]);
    expect(shown).toMatchObject({ code: 0, err: "" });
    expect(shown.out).toBe("filters of src-openeuler/clipkg@master: include_paths src/**\n");

    const set = await cli([
      "filter",
      ...connection,
      ...credentials,
      ...target,
      "--message",
      "^(Fixes|CVE):",
      "--include-path",
      "src/**",
      "--include-path",
      "lib/**",
      "--exclude-path",
      "src/tests/**",
    ]);
    expect(set.err).toBe("");
    expect(set.out).toContain("filters saved for src-openeuler/clipkg@master");
    expect(getFilters(service.db, "src-openeuler/clipkg", "master")).toEqual({
      message_pattern: "^(Fixes|CVE):",
      include_paths: ["src/**", "lib/**"],
      exclude_paths: ["src/tests/**"],
    });

    const status = await cli(["status", ...connection]);
    expect(status.err).toBe("");
    expect(status.out).toMatch(/ filters +last_error/);
    expect(status.out).toContain("message_pattern /^(Fixes|CVE):/, include_paths src/** lib/**");
    const json = await cli(["filter", ...connection, ...target, "--json"]);
    expect(JSON.parse(json.out)).toEqual(getFilters(service.db, "src-openeuler/clipkg", "master"));

    const bad = await cli([
      "filter",
      ...connection,
      ...credentials,
      ...target,
      "--message",
      "(?!x)",
    ]);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain("--message: message_pattern is not a valid regular expression");
    const mixed = await cli([
      "filter",
      ...connection,
      ...credentials,
      ...target,
      "--clear",
      "--message",
      "x",
    ]);
    expect(mixed.code).toBe(1);
    expect(mixed.err).toContain("--clear removes every filter");
    const unknown = await cli(["filter", ...connection, "--repo", "no/such", "--branch", "master"]);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain("no tracking for no/such:master");
    expect(getFilters(service.db, "src-openeuler/clipkg", "master").message_pattern).toBe(
      "^(Fixes|CVE):",
    );

    const cleared = await cli(["filter", ...connection, ...credentials, ...target, "--clear"]);
    expect(cleared.out).toContain("none (every commit is proposed)");
    expect(getFilters(service.db, "src-openeuler/clipkg", "master")).toEqual({});
  });
});
