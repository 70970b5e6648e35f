/**
 * `patch-tracking-cli` as a real process from source: exit codes (0 on success, unlike the
 * original), help and version, and the password prompt on a real terminal (a pty from `script`).
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { upsertTracking } from "../src/db/trackings.ts";
import { VERSION } from "../src/version.ts";
import { GUIDE_TRACKING_FLAGS, startHttpsServer } from "./helpers/cli.ts";
import { PROJECT_ROOT, runCommand } from "./helpers/server-process.ts";

const ENTRY = join(PROJECT_ROOT, "cli", "patch-tracking-cli.ts");
const server = startHttpsServer();
const connection = ["--server", server.hostPort, "--ca", server.cert.cert];
const TRACKING = [...GUIDE_TRACKING_FLAGS, "--no-check"];
// Whatever the developer's shell holds must not answer for the test.
const ENV = { PATCH_TRACKING_PASSWORD: "" };

function run(args: string[], env: Record<string, string> = {}) {
  return runCommand([process.execPath, ENTRY, ...args], { env: { ...ENV, ...env } });
}

describe("patch-tracking-cli as a process", () => {
  test("success exits 0, a refusal exits 1", async () => {
    const added = await run([
      "add",
      ...connection,
      "--user",
      "admin",
      "--password",
      "Test@123",
      ...TRACKING,
    ]);
    expect(added.stderr).toBe("");
    expect(added.code).toBe(0);
    const listed = await run(["query", ...connection, "--table", "tracking"]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain("1  github");
    const refused = await run(["add", ...connection, "--user", "admin", ...TRACKING]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      "--password (or PATCH_TRACKING_PASSWORD, or run it in a terminal",
    );
  });

  test("--version and --help on the program and each command", async () => {
    const version = await run(["--version"]);
    expect(version).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: "" });
    for (const command of [[], ["add"], ["query"], ["delete"]]) {
      const help = await run([...command, "--help"]);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain(`Usage: patch-tracking-cli ${command[0] ?? ""}`.trimEnd());
    }
    const unknown = await run(["add", "--bogus"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("error: unknown option '--bogus'");
  });

  test.skipIf(!Bun.which("script"))(
    "on a terminal the password is asked for and never echoed",
    async () => {
      upsertTracking(server.db, {
        version_control: "github",
        scm_repo: "BJMX/testPatch01",
        scm_branch: "test",
        repo: "testPatchTrack/promptTest",
        branch: "master",
        enabled: true,
      });
      const command = [process.execPath, ENTRY, "delete", ...connection, "--user", "admin"]
        .concat(["--repo", "testPatchTrack/promptTest"])
        .map((arg) => `'${arg}'`)
        .join(" ");
      const proc = Bun.spawn(["script", "-qec", command, "/dev/null"], {
        stdin: "pipe",
        stdout: "pipe",
        stderr: "pipe",
        env: { ...process.env, ...ENV },
      });
      const reader = proc.stdout.getReader();
      const decoder = new TextDecoder();
      let output = "";
      while (!output.includes("Password for admin at ")) {
        const { value, done } = await reader.read();
        if (done) break;
        output += decoder.decode(value);
      }
      // Typed only once the prompt is up, so raw mode is already on when it arrives.
      proc.stdin.write("Test@123\r");
      await proc.stdin.end();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        output += decoder.decode(value);
      }
      expect(await proc.exited).toBe(0);
      expect(output).toContain("deleted 1 tracking:");
      expect(output).not.toContain("Test@123");
    },
  );
});
