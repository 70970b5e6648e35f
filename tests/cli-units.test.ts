/** The CLI's pure parts: --server values, yaml files, the table, and the multi-call name. */
import { describe, expect, test } from "bun:test";
import { pickCommand } from "../cli/command-name.ts";
import { CliError } from "../cli/errors.ts";
import { serverBaseUrl } from "../cli/server-url.ts";
import { renderTable } from "../cli/table.ts";
import { parseTrackingYaml } from "../cli/yaml-input.ts";

function errorOf(run: () => unknown): CliError {
  try {
    run();
  } catch (error) {
    if (error instanceof CliError) return error;
    throw error;
  }
  throw new Error("expected a CliError");
}

describe("--server", () => {
  test("host:port means HTTPS; a full URL is taken as written", () => {
    expect(serverBaseUrl("127.0.0.1:5001")).toBe("https://127.0.0.1:5001");
    expect(serverBaseUrl("tracker.example.org")).toBe("https://tracker.example.org");
    expect(serverBaseUrl("[::1]:5001")).toBe("https://[::1]:5001");
    expect(serverBaseUrl("https://h:5001/")).toBe("https://h:5001");
    expect(serverBaseUrl("https://h/patch-tracking/")).toBe("https://h/patch-tracking");
    expect(serverBaseUrl("http://127.0.0.1:5001")).toBe("http://127.0.0.1:5001");
  });

  test("anything else is refused with an example", () => {
    for (const bad of [
      "",
      "5001",
      "ftp://h:21",
      "https://u:p@h:1",
      "https://h:1/?x=1",
      "h:99999",
    ]) {
      expect(errorOf(() => serverBaseUrl(bad)).message).toStartWith(`--server ${bad}`);
    }
  });
});

describe("tracking yaml", () => {
  const good = [
    "# a comment",
    "version_control: GitHub",
    "scm_repo: BJMX/testPatch01",
    "scm_branch: 2020",
    "repo: 'testPatchTrack/testPatch1'",
    "branch: master",
    "enabled: TRUE",
    "scm_commit:",
  ].join("\n");

  test("keys of the API body; values as text; case of enabled/version_control ignored", () => {
    expect(parseTrackingYaml(good, "t.yaml")).toEqual({
      version_control: "github",
      scm_repo: "BJMX/testPatch01",
      scm_branch: "2020",
      repo: "testPatchTrack/testPatch1",
      branch: "master",
      enabled: true,
    });
  });

  test("every problem is reported, each with its line", () => {
    const error = errorOf(() =>
      parseTrackingYaml("enabled: perhaps\nrepo: a/b\nextra: 1\nscm_repo:\n  - x\n", "t.yaml"),
    );
    expect([error.message, ...error.details]).toEqual([
      't.yaml:3: unknown key "extra" (allowed: version_control, scm_repo, scm_branch, repo, branch, enabled, scm_commit, filters)',
      "t.yaml:4: scm_repo must be a single value, not a list or mapping",
      "t.yaml: missing or empty keys: version_control, scm_repo, scm_branch, branch",
      't.yaml:1: enabled: invalid value "perhaps" (choose from True, true, False, false)',
    ]);
  });

  test("an empty file, a list, two documents", () => {
    expect(errorOf(() => parseTrackingYaml("", "e.yaml")).message).toContain("found an empty file");
    expect(errorOf(() => parseTrackingYaml("- a\n", "l.yaml")).message).toContain(
      'l.yaml: expected "key: value" lines',
    );
    expect(errorOf(() => parseTrackingYaml("a: b\n---\nc: d\n", "d.yaml")).message).toMatch(
      /^d\.yaml:2:1: yaml syntax error: /,
    );
  });
});

describe("the query table", () => {
  test("numbered from 1, aligned by display width, None/True/False as pandas showed them", () => {
    const text = renderTable([
      { repo: "a/宽字符", enabled: true, scm_commit: null },
      { repo: "b/x", enabled: false, scm_commit: "abc" },
    ]);
    expect(text).toBe(
      [
        "   repo      enabled  scm_commit",
        "1  a/宽字符  True     None",
        "2  b/x       False    abc",
        "",
      ].join("\n"),
    );
  });

  test("ten rows widen the number column; control characters cannot break a line", () => {
    const rows = Array.from({ length: 10 }, (_, i) => ({ v: i === 0 ? "x\ny" : "v" }));
    const lines = renderTable(rows).trimEnd().split("\n");
    expect(lines).toHaveLength(11);
    expect(lines[1]).toBe(" 1  x y");
    expect(lines[10]).toBe("10  v");
    expect(renderTable([])).toBe("");
  });
});

describe("the multi-call binary's name", () => {
  test("the name it was started by, with any directory", () => {
    expect(pickCommand("/usr/bin/patch-tracking-cli", ["query"])).toEqual({
      command: "patch-tracking-cli",
      args: ["query"],
    });
    expect(pickCommand("generate_password", ["x"])?.command).toBe("generate_password");
    expect(pickCommand("./patch-tracking", ["--config", "c"])?.command).toBe("patch-tracking");
  });

  test("under another name, the first argument may name the command", () => {
    expect(pickCommand("bun", ["generate_password", "Test@123"])).toEqual({
      command: "generate_password",
      args: ["Test@123"],
    });
    expect(pickCommand("pt-copy", ["--help"])).toBeNull();
  });
});
