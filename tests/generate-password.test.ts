/**
 * `generate_password`: the admin password rules with usage and every broken rule on failure, and
 * a bcrypt hash that the real server accepts when it is put in settings.conf.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { runGeneratePassword } from "../cli/generate-password.ts";
import { silentLogger } from "../src/log.ts";
import { verifyPassword } from "../src/password/verify.ts";
import { startServer } from "../src/server.ts";
import { loadSettingsFile } from "../src/settings.ts";
import { VERSION } from "../src/version.ts";
import { runCaptured } from "./helpers/cli.ts";
import { PROJECT_ROOT, runCommand } from "./helpers/server-process.ts";
import { basicAuth, writeSettings } from "./helpers/settings.ts";
import { tempDir } from "./helpers/temp.ts";

const work = tempDir();

function generate(argv: string[], answers?: string[]) {
  return runCaptured(runGeneratePassword, argv, { answers });
}

describe("generate_password", () => {
  test("prints a bcrypt hash of the password and nothing else", async () => {
    const result = await generate(["Test@123"]);
    expect(result.code).toBe(0);
    expect(result.err).toBe("");
    expect(result.out).toMatch(/^\$2b\$12\$[./A-Za-z0-9]{53}\n$/);
    expect(await verifyPassword("Test@123", result.out.trim())).toBe(true);
    expect(await verifyPassword("Test@124", result.out.trim())).toBe(false);
  });

  test("the hash of Test@123 in settings.conf makes the real server accept Test@123", async () => {
    const hash = (await generate(["Test@123"])).out.trim();
    const path = writeSettings(work, { PASSWORD: `"${hash}"`, PLAIN_HTTP: "True" });
    const { settings } = await loadSettingsFile(path);
    expect(settings.passwordHash).toBe(hash);
    const server = startServer(
      { ...settings, listen: { host: "127.0.0.1", port: 0 } },
      { log: silentLogger },
    );
    try {
      const remove = (password: string) =>
        fetch(`${server.url}/tracking?repo=a/b`, {
          method: "DELETE",
          headers: { authorization: basicAuth("admin", password) },
        });
      const accepted = await remove("Test@123");
      expect(accepted.status).toBe(200);
      expect(((await accepted.json()) as { code: string }).code).toBe("6005");
      expect((await remove("Test@1234")).status).toBe(401);
    } finally {
      await server.stop();
    }
  });

  test("a password breaking rules: usage, then every rule it breaks, exit 1", async () => {
    const result = await generate(["abc"]);
    expect(result.code).toBe(1);
    expect(result.out).toBe("");
    expect(result.err).toBe(
      [
        "usage: generate_password PASSWORD",
        "generate_password: error: the password does not meet the rules:",
        "  - the length must be between 6 and 32 characters",
        "  - it must contain at least one digit",
        "  - it must contain at least one upper-case letter",
        "  - it must contain at least one of the special characters ~!@#%^*_+=-",
        "",
      ].join("\n"),
    );
  });

  test("each rule on its own", async () => {
    const cases: [string, string][] = [
      ["Tést@1234€", "only latin1 characters are allowed"],
      [`Aa1@${"x".repeat(29)}`, "the length must be between 6 and 32 characters"],
      ["Abcdef@", "at least one digit"],
      ["ABCDE@1", "at least one lower-case letter"],
      ["abcde@1", "at least one upper-case letter"],
      ["Abcde$1", "at least one of the special characters"],
    ];
    for (const [password, rule] of cases) {
      const result = await generate([password]);
      expect(result.code).toBe(1);
      expect(result.err.match(/^ {2}- /gm)).toHaveLength(1);
      expect(result.err).toContain(rule);
    }
    // Exactly 6 and 32 characters, latin1 beyond ASCII: accepted.
    for (const password of ["Aa1@bc", `Aa1@${"é".repeat(28)}`]) {
      expect((await generate([password])).code).toBe(0);
    }
  });

  test("no argument: usage on a pipe; asked twice on a terminal", async () => {
    const missing = await generate([]);
    expect(missing.code).toBe(1);
    expect(missing.err).toBe(
      "usage: generate_password PASSWORD\ngenerate_password: error: the PASSWORD argument is missing\n",
    );
    const asked = await generate([], ["Test@123", "Test@123"]);
    expect(asked.code).toBe(0);
    expect(await verifyPassword("Test@123", asked.out.trim())).toBe(true);
    const differ = await generate([], ["Test@123", "Test@124"]);
    expect(differ.code).toBe(1);
    expect(differ.err).toContain("the two passwords differ");
  });

  test("--help, --version, and two arguments", async () => {
    const help = await generate(["--help"]);
    expect(help.code).toBe(0);
    expect(help.out).toContain("Usage: generate_password PASSWORD");
    expect(help.out).toContain("one of ~!@#%^*_+=-");
    expect(await generate(["--version"])).toEqual({ code: 0, out: `${VERSION}\n`, err: "" });
    const extra = await generate(["Test@123", "again"]);
    expect(extra.code).toBe(1);
    expect(extra.err).toContain("usage: generate_password PASSWORD");
  });

  test("as a process: the hash on stdout and exit 0; exit 1 on a bad password", async () => {
    const entry = join(PROJECT_ROOT, "cli", "generate-password.ts");
    const ok = await runCommand([process.execPath, entry, "Test@123"]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^\$2b\$/);
    const bad = await runCommand([process.execPath, entry, "test"]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe("");
    expect(bad.stderr).toContain("usage: generate_password PASSWORD");
  });
});
