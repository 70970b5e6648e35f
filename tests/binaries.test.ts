/**
 * The compiled binaries, as a user runs them: `npm run build`'s script makes one multi-call
 * executable with two links (once per test run), then `generate_password` makes the hash for
 * settings.conf, `patch-tracking` serves HTTPS with an openssl certificate, and
 * `patch-tracking-cli` runs the user guide's command lines against it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { lstatSync, mkdirSync, readlinkSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { VERSION } from "../src/version.ts";
import { startForges } from "./helpers/cli.ts";
import { freePort } from "./helpers/net.ts";
import {
  PROJECT_ROOT,
  runCommand,
  type ServerProcess,
  startServerProcess,
} from "./helpers/server-process.ts";
import { writeSettings } from "./helpers/settings.ts";
import { tempDir } from "./helpers/temp.ts";
import { makeSelfSignedCert } from "./helpers/tls.ts";

const out = tempDir("pt-dist-");
const bin = (name: string) => join(out, name);
// Nothing from the developer's shell may answer for the test.
const ENV = {
  PATCH_TRACKING_PASSWORD: "",
  GITHUB_TOKEN: "",
  GITHUB_ACCESS_TOKEN: "",
  GITEE_ACCESS_TOKEN: "",
};

function run(name: string, args: string[], env: Record<string, string> = {}, cwd = out) {
  return runCommand([bin(name), ...args], { env: { ...ENV, ...env }, cwd });
}

beforeAll(async () => {
  const started = performance.now();
  const build = await runCommand([
    process.execPath,
    join(PROJECT_ROOT, "scripts", "build.ts"),
    "--outdir",
    out,
  ]);
  if (build.code !== 0) throw new Error(`build failed:\n${build.stdout}${build.stderr}`);
  console.error(`binaries.test: build took ${((performance.now() - started) / 1000).toFixed(1)} s`);
}, 180_000);

describe("the build", () => {
  test("one executable and two symbolic links to it", () => {
    const binary = lstatSync(bin("patch-tracking"));
    expect(binary.isFile()).toBe(true);
    expect(binary.size).toBeGreaterThan(50e6);
    expect(binary.mode & 0o111).not.toBe(0);
    for (const name of ["patch-tracking-cli", "generate_password"]) {
      expect(lstatSync(bin(name)).isSymbolicLink()).toBe(true);
      expect(readlinkSync(bin(name))).toBe("patch-tracking");
      expect(statSync(bin(name)).ino).toBe(binary.ino);
    }
  });

  test("--version and --help under each name", async () => {
    const usage: Record<string, string> = {
      "patch-tracking": "Usage: patch-tracking [options]",
      "patch-tracking-cli": "Usage: patch-tracking-cli [options] [command]",
      generate_password: "Usage: generate_password PASSWORD",
    };
    for (const [name, line] of Object.entries(usage)) {
      expect(await run(name, ["--version"])).toEqual({
        code: 0,
        stdout: `${VERSION}\n`,
        stderr: "",
      });
      const help = await run(name, ["--help"]);
      expect(help.code).toBe(0);
      expect(help.stdout).toStartWith(line);
    }
    for (const command of ["add", "query", "delete"]) {
      const help = await run("patch-tracking-cli", [command, "--help"]);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain(`Usage: patch-tracking-cli ${command}`);
    }
  });

  test("under an unknown name it says which names it answers to", async () => {
    const copy = join(tempDir(), "pt");
    symlinkSync(bin("patch-tracking"), copy);
    const result = await runCommand([copy, "--help"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      "run it as patch-tracking, patch-tracking-cli, generate_password",
    );
  });
});

describe("end to end over HTTPS", () => {
  const forges = startForges();
  const work = tempDir("pt-e2e-");
  const cert = makeSelfSignedCert(work);
  let server: ServerProcess;
  let hostPort = "";
  const cliEnv = forges.env;

  afterAll(async () => {
    if (server && server.proc.exitCode === null) await server.stop();
  });

  test("generate_password's hash configures the compiled server, which serves HTTPS", async () => {
    const hash = await run("generate_password", ["Test@123"]);
    expect(hash.code).toBe(0);
    const port = await freePort();
    hostPort = `127.0.0.1:${port}`;
    const config = writeSettings(work, {
      LISTEN: `"${hostPort}"`,
      PASSWORD: `"${hash.stdout.trim()}"`,
      CERT_FILE: `"${cert.cert}"`,
      KEY_FILE: `"${cert.key}"`,
      GITHUB_API_URL: `"${forges.github.url}"`,
      GITEE_API_URL: `"${forges.gitee.url}"`,
    });
    server = startServerProcess(["--config", config], {
      command: [bin("patch-tracking")],
      cwd: work,
    });
    expect(await server.ready).toBe(`https://${hostPort}`);
  });

  test("the user guide's add, query and delete command lines", async () => {
    const ca = ["--ca", cert.cert];
    const login = ["--server", hostPort, "--user", "admin", "--password", "Test@123"];
    const added = await run(
      "patch-tracking-cli",
      ["add", ...login, "--version_control", "github", "--repo", "testPatchTrack/testPatch1"]
        .concat(["--branch", "master", "--scm_repo", "BJMX/testPatch01", "--scm_branch", "test"])
        .concat(["--enabled", "true", ...ca]),
      cliEnv,
    );
    expect(added.stderr).toBe("");
    expect(added.code).toBe(0);

    const yaml = (repo: string) =>
      `version_control: github\nscm_repo: BJMX/testPatch01\nscm_branch: test\nrepo: ${repo}\nbranch: master\nenabled: true\n`;
    writeFileSync(join(work, "tracking.yaml"), yaml("testPatchTrack/testPatch2"));
    const fromFile = await run(
      "patch-tracking-cli",
      ["add", ...login, "--file", "tracking.yaml", ...ca],
      cliEnv,
      work,
    );
    expect(fromFile.code).toBe(0);
    expect(fromFile.stdout).toStartWith(
      "tracking.yaml: saved tracking testPatchTrack/testPatch2 master",
    );

    const dir = join(work, "test_yaml");
    mkdirSync(dir);
    writeFileSync(
      join(dir, "one.yaml"),
      yaml("testPatchTrack/testPatch1").replace("master", "openEuler-20.03-LTS"),
    );
    writeFileSync(join(dir, "notes.txt"), "skipped");
    const fromDir = await run(
      "patch-tracking-cli",
      ["add", ...login, "--dir", `${dir}/`, ...ca],
      cliEnv,
    );
    expect(fromDir.code).toBe(0);
    expect(fromDir.stdout).toContain(
      "summary: 1 .yaml files: 1 saved, 0 failed, 1 other entries skipped",
    );

    const query = await run("patch-tracking-cli", [
      "query",
      "--server",
      hostPort,
      "--table",
      "tracking",
      ...ca,
    ]);
    expect(query.code).toBe(0);
    const rows = query.stdout.trimEnd().split("\n").slice(1);
    expect(
      rows.map((row) => row.split(/\s+/).slice(0, 1).concat(row.split(/\s+/).slice(5, 7))),
    ).toEqual([
      ["1", "testPatchTrack/testPatch1", "master"],
      ["2", "testPatchTrack/testPatch2", "master"],
      ["3", "testPatchTrack/testPatch1", "openEuler-20.03-LTS"],
    ]);
    const issues = await run("patch-tracking-cli", [
      "query",
      "--server",
      hostPort,
      "--table",
      "issue",
      ...ca,
    ]);
    expect(issues.stdout).toBe("no rows: table issue is empty\n");

    const deleted = await run("patch-tracking-cli", [
      "delete",
      ...login,
      "--repo",
      "testPatchTrack/testPatch1",
      "--branch",
      "master",
      ...ca,
    ]);
    expect(deleted.code).toBe(0);
    expect(deleted.stdout).toBe("deleted 1 tracking:\n  testPatchTrack/testPatch1 master\n");
  });

  test("refusals from the compiled CLI: wrong certificate, wrong password, stopped server", async () => {
    const other = makeSelfSignedCert(tempDir(), 2048, "other");
    const query = ["query", "--server", hostPort, "--table", "tracking"];
    const wrongCert = await run("patch-tracking-cli", [...query, "--ca", other.cert]);
    expect(wrongCert.code).toBe(1);
    expect(wrongCert.stderr).toContain("is not trusted");
    const wrongPassword = await run("patch-tracking-cli", [
      "delete",
      "--server",
      hostPort,
      "--ca",
      cert.cert,
      "--user",
      "admin",
      "--password",
      "Wrong@123",
      "--repo",
      "testPatchTrack/testPatch2",
    ]);
    expect(wrongPassword.code).toBe(1);
    expect(wrongPassword.stderr).toContain("(HTTP 401)");
    expect(await server.stop()).toBe(0);
    const stopped = await run("patch-tracking-cli", [...query, "--ca", cert.cert]);
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toContain("is the service running?");
  });
});
