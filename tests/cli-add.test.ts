/**
 * `patch-tracking-cli add` against a real server over HTTPS (openssl self-signed certificate,
 * pinned with --ca): the three styles, the pre-add checks, and every refusal leaving the server
 * unchanged.
 */
import { beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  cli,
  GUIDE_TRACKING_FLAGS,
  guideAddArgs,
  startForges,
  startHttpsServer,
} from "./helpers/cli.ts";
import { GitRepo } from "./helpers/git-repo.ts";
import { tempDir } from "./helpers/temp.ts";

const server = startHttpsServer();
const forges = startForges();
const CA = server.cert.cert;
const auth = ["--server", server.hostPort, "--ca", CA, "--user", "admin", "--password", "Test@123"];

const GOOD_YAML = `version_control: github
scm_repo: BJMX/testPatch01
scm_branch: test
repo: testPatchTrack/testPatch1
branch: master
enabled: true
`;

/** The guide's tracking flags (no connection or credentials), with `changes` applied. */
function trackingFlags(changes: Record<string, string> = {}): string[] {
  const flags = [...GUIDE_TRACKING_FLAGS];
  for (const [flag, value] of Object.entries(changes)) flags[flags.indexOf(flag) + 1] = value;
  return flags;
}

function yamlFile(name: string, text: string, dir = tempDir()): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function add(args: string[], env: Record<string, string> = {}) {
  return cli(["add", ...auth, ...args], { env: { ...forges.env, ...env } });
}

beforeEach(() => {
  server.db.run("DELETE FROM tracking");
  forges.github.requests.length = 0;
  forges.gitee.requests.length = 0;
});

describe("add, flag style", () => {
  test("the user guide's command line saves the tracking and exits 0", async () => {
    const result = await cli(guideAddArgs(server.hostPort, CA), { env: forges.env });
    expect(result.err).toBe("");
    expect(result.code).toBe(0);
    expect(result.out).toContain("saved tracking testPatchTrack/testPatch1 master");
    expect(server.trackings()).toEqual([
      {
        version_control: "github",
        scm_repo: "BJMX/testPatch01",
        scm_branch: "test",
        scm_commit: null,
        repo: "testPatchTrack/testPatch1",
        branch: "master",
        enabled: true,
      },
    ]);
    // The checks asked both forges about exactly these branches.
    expect(forges.github.requests.map((r) => r.path)).toEqual([
      "/repos/BJMX/testPatch01/branches/test",
    ]);
    expect(forges.gitee.requests.map((r) => r.path)).toEqual([
      "/api/v5/repos/testPatchTrack/testPatch1/branches/master",
    ]);
  });

  test("--scm_commit and --enabled False are stored; an update keeps one row", async () => {
    const sha = "a".repeat(40);
    const disabled = trackingFlags({ "--enabled": "False" });
    expect((await add([...disabled, "--scm_commit", sha])).code).toBe(0);
    expect(server.trackings()).toMatchObject([{ scm_commit: sha, enabled: false }]);
    expect((await add(trackingFlags({ "--enabled": "True" }))).code).toBe(0);
    expect(server.trackings()).toMatchObject([{ scm_commit: sha, enabled: true }]);
  });

  test("the password may come from PATCH_TRACKING_PASSWORD", async () => {
    const args = guideAddArgs(server.hostPort, CA).filter(
      (a) => a !== "--password" && a !== "Test@123",
    );
    const result = await cli(args, { env: { ...forges.env, PATCH_TRACKING_PASSWORD: "Test@123" } });
    expect(result.code).toBe(0);
    expect(server.trackings()).toHaveLength(1);
  });

  test("without --password or the variable, a terminal is asked (and the answer checked)", async () => {
    const args = guideAddArgs(server.hostPort, CA).filter(
      (a) => a !== "--password" && a !== "Test@123",
    );
    const result = await cli(args, { env: forges.env, answers: ["Test@123"] });
    expect(result.code).toBe(0);
    expect(result.err).toContain(`Password for admin at https://${server.hostPort}: `);
    expect(server.trackings()).toHaveLength(1);
  });

  test("GITHUB_TOKEN and GITEE_ACCESS_TOKEN travel to the checks", async () => {
    const result = await cli(guideAddArgs(server.hostPort, CA), {
      env: { ...forges.env, GITHUB_TOKEN: "gh-token-1", GITEE_ACCESS_TOKEN: "gitee-token-2" },
    });
    expect(result.code).toBe(0);
    expect(forges.github.requests[0]?.authorization).toBe("Bearer gh-token-1");
    expect(forges.gitee.requests[0]?.authorization).toBe("Bearer gitee-token-2");
  });
});

describe("add, refusals: exit 1, nothing sent", () => {
  async function refused(args: string[], expected: (string | RegExp)[], env = {}) {
    const result = await add(args, env);
    expect(result.code).toBe(1);
    for (const text of expected) expect(result.err).toMatch(text);
    expect(result.out).toBe("");
    expect(server.trackings()).toEqual([]);
    return result;
  }

  test("missing flags are all named at once", async () => {
    const result = await cli(["add", "--repo", "a/b", "--enabled", "true"], { env: forges.env });
    expect(result.code).toBe(1);
    expect(result.err).toContain(
      "the following options are required:\n  --server\n  --user\n  --password (or PATCH_TRACKING_PASSWORD",
    );
    expect(result.err).toContain("  --version_control\n  --scm_repo\n  --scm_branch\n  --branch\n");
    expect(forges.github.requests).toEqual([]);
  });

  test("mixing add styles is an error", async () => {
    const file = yamlFile("t.yaml", GOOD_YAML);
    await refused(["--file", file, "--repo", "x/y"], ["mixed add styles", "--file"]);
    await refused(["--file", file, "--dir", tempDir()], ["mixed add styles: --file and --dir"]);
  });

  test("bad --enabled and --version_control values are named with the choices", async () => {
    await refused(trackingFlags({ "--enabled": "yes", "--version_control": "svn" }), [
      '--enabled: invalid value "yes" (choose from True, true, False, false)',
      '--version_control: invalid value "svn" (choose from github, git)',
    ]);
  });

  test("a tracking the server would refuse is refused locally with the server's words", async () => {
    await refused(trackingFlags({ "--branch": "patch-tracking/20240101" }), ["own work branches"]);
  });

  test("passwords outside 6-32 characters and non-latin1 user or password", async () => {
    const run = (user: string, password: string) =>
      cli(
        [
          "add",
          "--server",
          server.hostPort,
          "--ca",
          CA,
          "--user",
          user,
          "--password",
          password,
          ...trackingFlags(),
        ],
        {
          env: forges.env,
        },
      );
    for (const password of ["Ab@1", "Ab@1".repeat(9)]) {
      const result = await run("admin", password);
      expect(result.code).toBe(1);
      expect(result.err).toContain("--password: the length must be between 6 and 32 characters");
    }
    const result = await run("管理员", "Test@123€");
    expect(result.code).toBe(1);
    expect(result.err).toContain("--user: only latin1 characters are allowed");
    expect(result.err).toContain("--password: only latin1 characters are allowed");
    expect(server.trackings()).toEqual([]);
  });

  test("a short password from the environment is refused too", async () => {
    const result = await cli(
      guideAddArgs(server.hostPort, CA).filter((a) => a !== "--password" && a !== "Test@123"),
      { env: { ...forges.env, PATCH_TRACKING_PASSWORD: "abc" } },
    );
    expect(result.code).toBe(1);
    expect(result.err).toContain("PATCH_TRACKING_PASSWORD: the length must be between 6 and 32");
  });

  test("--file: not .yaml, unreadable, missing", async () => {
    await refused(["--file", yamlFile("t.yml", GOOD_YAML)], ["t.yml is not a .yaml file"]);
    await refused(
      ["--file", "/nonexistent/t.yaml"],
      ["/nonexistent/t.yaml cannot be read (ENOENT)"],
    );
    const locked = yamlFile("locked.yaml", GOOD_YAML);
    chmodSync(locked, 0o000);
    // root reads anything: only assert the refusal where permissions apply.
    if (process.getuid?.() !== 0) await refused(["--file", locked], ["cannot be read (EACCES)"]);
  });

  test("--file: missing and unknown keys are named with their lines", async () => {
    const file = yamlFile("t.yaml", "scm_repo: BJMX/testPatch01\nbranchh: master\nenabled: true\n");
    const result = await refused(["--file", file], [`${file}:2: unknown key "branchh"`]);
    expect(result.err).toContain(
      `${file}: missing or empty keys: version_control, scm_branch, repo, branch`,
    );
  });

  test("--file: a yaml syntax error names file, line and column", async () => {
    const file = yamlFile("t.yaml", "version_control: github\nscm_repo: [BJMX\nrepo: a/b\n");
    await refused(["--file", file], [new RegExp(`${file}:\\d+:\\d+: yaml syntax error`)]);
    const dup = yamlFile("dup.yaml", `${GOOD_YAML}branch: other\n`);
    await refused(["--file", dup], [`${dup}:7:1: yaml syntax error: Map keys must be unique`]);
  });

  test("--file: bad values inside the file name their line", async () => {
    const file = yamlFile("t.yaml", GOOD_YAML.replace("enabled: true", "enabled: maybe"));
    await refused(["--file", file], [`${file}:6: enabled: invalid value "maybe"`]);
  });

  test("--dir: missing, not a folder, empty, or without .yaml files", async () => {
    await refused(
      ["--dir", "/nonexistent/dir"],
      ["--dir /nonexistent/dir cannot be read (ENOENT)"],
    );
    await refused(["--dir", yamlFile("t.yaml", GOOD_YAML)], ["is not a folder"]);
    await refused(["--dir", tempDir()], ["is empty"]);
    const dir = tempDir();
    writeFileSync(join(dir, "notes.txt"), "x");
    await refused(["--dir", dir], ["holds no .yaml files (1 other entries)"]);
  });

  test("a server that is not running", async () => {
    const args = guideAddArgs(server.hostPort, CA);
    args[args.indexOf("--server") + 1] = "127.0.0.1:9";
    const result = await cli(args, { env: forges.env });
    expect(result.code).toBe(1);
    expect(result.err).toContain("cannot connect to https://127.0.0.1:9 (");
    expect(result.err).toContain("is the service running?");
    expect(forges.github.requests).toEqual([]);
    // On a terminal, no password is asked for a service that is not there.
    const withoutPassword = args.filter((a) => a !== "--password" && a !== "Test@123");
    const asked = await cli(withoutPassword, { env: forges.env, answers: [] });
    expect(asked.code).toBe(1);
    expect(asked.err).not.toContain("Password for");
    expect(asked.err).toContain("is the service running?");
  });

  test("upstream and downstream checks name what is missing", async () => {
    const set = (flag: string, value: string) => trackingFlags({ [flag]: value });
    let result = await refused(set("--scm_branch", "nope"), [
      "upstream GitHub repository BJMX/testPatch01 has no branch nope",
      "nothing was sent (use --no-check to skip these checks)",
    ]);
    result = await refused(set("--scm_repo", "BJMX/gone"), [
      "upstream GitHub repository BJMX/gone does not exist",
    ]);
    result = await refused(set("--repo", "testPatchTrack/gone"), [
      "downstream Gitee repository testPatchTrack/gone does not exist",
    ]);
    result = await refused(set("--branch", "nope"), [
      "downstream Gitee repository testPatchTrack/testPatch1 has no branch nope",
    ]);
    expect(result.err).not.toContain("upstream");
  });

  test("an unreachable forge API is named, and --no-check skips the checks", async () => {
    const args = trackingFlags();
    await refused(args, ["cannot reach the GitHub API at http://127.0.0.1:9"], {
      GITHUB_API_URL: "http://127.0.0.1:9",
    });
    const result = await add([...args, "--no-check"], { GITHUB_API_URL: "http://127.0.0.1:9" });
    expect(result.code).toBe(0);
    expect(forges.gitee.requests).toHaveLength(1); // from the refused run only
  });
});

describe("add with a git upstream", () => {
  const upstream = tempDir("pt-upstream-");
  // Local paths use git's 'file' transport, which the service allows only when told to.
  const withFile = "https:http:git:ssh:file";
  const fileServer = startHttpsServer(2048, { GIT_ALLOW_PROTOCOL: `"${withFile}"` });
  const addLocal = (args: string[]) =>
    cli(
      [
        "add",
        "--server",
        fileServer.hostPort,
        "--ca",
        fileServer.cert.cert,
        ...auth.slice(4),
        ...args,
      ],
      {
        env: { ...forges.env, GIT_ALLOW_PROTOCOL: withFile },
      },
    );
  const gitFlags = [
    "--version_control",
    "git",
    "--repo",
    "testPatchTrack/testPatch2",
    "--branch",
    "master",
    "--enabled",
    "true",
  ];

  test("a transport GIT_ALLOW_PROTOCOL refuses is refused before and by the service", async () => {
    await (await GitRepo.init(upstream)).emptyCommit("one");
    const flags = [...gitFlags, "--scm_repo", upstream, "--scm_branch", "main"];
    const checked = await add(flags);
    expect(checked.code).toBe(1);
    expect(checked.err).toContain(
      `upstream git repository ${upstream} uses the 'file' transport, which GIT_ALLOW_PROTOCOL ("https:http:git:ssh") does not allow`,
    );
    const unchecked = await add([...flags, "--no-check"]);
    expect(unchecked.code).toBe(1);
    expect(unchecked.err).toContain("4001");
    expect(unchecked.err).toContain("'file' transport");
    expect(server.trackings()).toHaveLength(0);
  });

  test("git ls-remote decides: branch present, branch missing, repository missing", async () => {
    const base = gitFlags;
    const ok = await addLocal([...base, "--scm_repo", upstream, "--scm_branch", "main"]);
    expect(ok.err).toBe("");
    expect(ok.code).toBe(0);
    const missingBranch = await addLocal([...base, "--scm_repo", upstream, "--scm_branch", "dev"]);
    expect(missingBranch.code).toBe(1);
    expect(missingBranch.err).toContain(`upstream git repository ${upstream} has no branch dev`);
    const missingRepo = await addLocal([
      ...base,
      "--scm_repo",
      join(upstream, "nope"),
      "--scm_branch",
      "main",
    ]);
    expect(missingRepo.code).toBe(1);
    expect(missingRepo.err).toContain(
      `upstream git repository ${join(upstream, "nope")} cannot be read`,
    );
    expect(fileServer.trackings()).toHaveLength(1);
  });
});

describe("add --file and --dir", () => {
  test("--file saves the tracking of one yaml file", async () => {
    const file = yamlFile("tracking.yaml", GOOD_YAML.replace("enabled: true", "enabled: True"));
    const result = await add(["--file", file]);
    expect(result.code).toBe(0);
    expect(result.out).toBe(
      `${file}: saved tracking testPatchTrack/testPatch1 master (upstream BJMX/testPatch01 test)\n`,
    );
    expect(server.trackings()).toMatchObject([
      { repo: "testPatchTrack/testPatch1", enabled: true },
    ]);
  });

  test("yaml values are read as written: digits stay text, quotes are removed", async () => {
    const file = yamlFile(
      "t.yaml",
      `${GOOD_YAML.replace("branch: master", 'branch: "master"')}scm_commit: 1234567\n`,
    );
    expect((await add(["--file", file])).code).toBe(0);
    expect(server.trackings()).toMatchObject([{ branch: "master", scm_commit: "1234567" }]);
  });

  test("--dir processes every .yaml file, skips the rest, reports each and a summary", async () => {
    const dir = tempDir("test_yaml-");
    yamlFile("a.yaml", GOOD_YAML, dir);
    yamlFile("b.yaml", GOOD_YAML.replace("testPatch1", "testPatch2"), dir);
    yamlFile("c.yaml", GOOD_YAML.replace("scm_branch: test", "scm_branch: gone"), dir);
    yamlFile("d.yaml", "version_control: github\n", dir);
    yamlFile("README.md", "not a tracking", dir);
    mkdirSync(join(dir, "sub.yaml"));
    const result = await add(["--dir", `${dir}/`]);
    expect(result.code).toBe(1);
    const lines = result.out.trimEnd().split("\n");
    expect(lines[0]).toBe("README.md: skipped (not a .yaml file)");
    expect(lines[1]).toBe("sub.yaml: skipped (not a .yaml file)");
    expect(result.out).toContain(
      `${join(dir, "a.yaml")}: saved tracking testPatchTrack/testPatch1 master`,
    );
    expect(result.out).toContain(
      `${join(dir, "b.yaml")}: saved tracking testPatchTrack/testPatch2 master`,
    );
    expect(result.out).toContain(
      `${join(dir, "c.yaml")}: failed: upstream GitHub repository BJMX/testPatch01 has no branch gone`,
    );
    expect(result.out).toContain(
      `${join(dir, "d.yaml")}: failed: ${join(dir, "d.yaml")}: missing or empty keys`,
    );
    expect(lines.at(-1)).toBe("summary: 4 .yaml files: 2 saved, 2 failed, 2 other entries skipped");
    expect(server.trackings().map((t: any) => t.repo)).toEqual([
      "testPatchTrack/testPatch1",
      "testPatchTrack/testPatch2",
    ]);
  });

  test("--dir with only good files exits 0", async () => {
    const dir = tempDir("test_yaml-");
    yamlFile("one.yaml", GOOD_YAML, dir);
    const result = await add(["--dir", dir]);
    expect(result.code).toBe(0);
    expect(result.out).toEndWith("summary: 1 .yaml files: 1 saved, 0 failed\n");
  });

  test("--dir stops at the first credential failure instead of repeating it", async () => {
    const dir = tempDir("test_yaml-");
    yamlFile("a.yaml", GOOD_YAML, dir);
    yamlFile("b.yaml", GOOD_YAML.replace("testPatch1", "testPatch2"), dir);
    const result = await cli(
      [
        "add",
        "--server",
        server.hostPort,
        "--ca",
        CA,
        "--user",
        "admin",
        "--password",
        "Wrong@123",
        "--dir",
        dir,
      ],
      { env: forges.env },
    );
    expect(result.code).toBe(1);
    expect(result.out).toContain("a.yaml: failed: ");
    expect(result.out).toContain("HTTP 401");
    expect(result.out).toContain("summary: 2 .yaml files: 0 saved, 1 failed, 1 not sent");
    expect(result.err).toContain("stopped after: ");
    expect(server.trackings()).toEqual([]);
  });
});
