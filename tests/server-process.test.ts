import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensureDevSettings } from "../src/dev-setup.ts";
import { verifyPassword } from "../src/password/verify.ts";
import { parseSettings } from "../src/settings.ts";
import { VERSION } from "../src/version.ts";
import { freePort } from "./helpers/net.ts";
import { PROJECT_ROOT, runCommand, startServerProcess } from "./helpers/server-process.ts";
import { basicAuth, writeSettings } from "./helpers/settings.ts";
import { tempDir } from "./helpers/temp.ts";
import { makeSelfSignedCert } from "./helpers/tls.ts";

const MAIN = join(PROJECT_ROOT, "src", "main.ts");

describe("HTTPS", () => {
  const dir = tempDir();
  const certs = makeSelfSignedCert(dir);
  const pem = readFileSync(certs.cert, "utf8");

  test("serves HTTPS with the configured certificate; plain clients cannot skip verification", async () => {
    const port = await freePort();
    const config = writeSettings(dir, {
      LISTEN: `"127.0.0.1:${port}"`,
      CERT_FILE: `"${certs.cert}"`,
      KEY_FILE: `"${certs.key}"`,
    });
    const server = startServerProcess(["--config", config]);
    const url = await server.ready;
    expect(url).toBe(`https://127.0.0.1:${port}`);
    // The guide's certificate has no subject alternative name: trust it by pinning.
    const tls = { ca: pem, checkServerIdentity: () => undefined };
    const health = await fetch(`${url}/health`, { tls });
    expect(health.status).toBe(200);
    const post = await fetch(`${url}/tracking`, {
      method: "POST",
      tls,
      headers: { authorization: basicAuth(), "content-type": "application/json" },
      body: JSON.stringify({
        version_control: "github",
        scm_repo: "o/u",
        scm_branch: "main",
        repo: "o/d",
        branch: "master",
        enabled: true,
      }),
    });
    expect(((await post.json()) as any).code).toBe("2001");
    // Without trusting the certificate the connection is refused.
    await expect(fetch(`${url}/health`)).rejects.toThrow();
    // Plain HTTP to the TLS port gets nothing useful.
    await expect(fetch(`http://127.0.0.1:${port}/health`).then((r) => r.status)).rejects.toThrow();
    expect(await server.stop()).toBe(0);
  });

  test("a missing certificate is a clear startup error", async () => {
    const config = writeSettings(tempDir(), {
      LISTEN: `"127.0.0.1:${await freePort()}"`,
      CERT_FILE: `"${join(dir, "absent.crt")}"`,
      KEY_FILE: `"${certs.key}"`,
    });
    const result = await runCommand([process.execPath, MAIN, "--config", config]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toMatch(
      /^patch-tracking: CERT_FILE: .*absent\.crt cannot be read \(ENOENT\)/,
    );
  });

  test("plain HTTP is refused off loopback", async () => {
    const config = writeSettings(tempDir(), { LISTEN: '"0.0.0.0:5001"', PLAIN_HTTP: "True" });
    const result = await runCommand([process.execPath, MAIN, "--config", config]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("PLAIN_HTTP: plain HTTP is only allowed on a loopback address");
  });
});

describe("process behaviour", () => {
  test("--version and --help", async () => {
    const version = await runCommand([process.execPath, MAIN, "--version"]);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toBe(VERSION);
    const help = await runCommand([process.execPath, MAIN, "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--config");
  });

  test("logs structured JSON lines, stops cleanly on SIGTERM", async () => {
    const dir = tempDir();
    const config = writeSettings(dir, {
      LISTEN: `"127.0.0.1:${await freePort()}"`,
      PLAIN_HTTP: "True",
      SURPRISE: 1,
    });
    const server = startServerProcess(["--config", config]);
    const url = await server.ready;
    expect((await fetch(`${url}/health`)).status).toBe(200);
    expect(await server.stop("SIGTERM")).toBe(0);
    const lines = server
      .output()
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line));
    expect(lines.find((line) => line.msg === "settings warning")?.warning).toBe(
      "unknown key SURPRISE ignored",
    );
    expect(lines.find((line) => line.msg === "listening")).toMatchObject({ level: "info", url });
    expect(lines.at(-1)?.msg).toBe("stopped");
    for (const line of lines) expect(Date.parse(line.time)).not.toBeNaN();
  });
});

describe("--dev", () => {
  test("makes a local settings file with a working generated password", async () => {
    const dir = tempDir();
    const setup = await ensureDevSettings(dir);
    expect(setup.created).toBe(true);
    const { settings } = parseSettings(readFileSync(setup.settingsPath, "utf8"));
    expect(settings.listen).toEqual({ host: "127.0.0.1", port: 5001 });
    expect(settings.plainHttp).toBe(true);
    expect(settings.databasePath).toBe(join(dir, ".patch-tracking", "db.sqlite"));
    expect(await verifyPassword(setup.password, settings.passwordHash)).toBe(true);
    const again = await ensureDevSettings(dir);
    expect(again).toMatchObject({ created: false, password: setup.password });
  });

  test("starts from ./.patch-tracking and says how to log in", async () => {
    const dir = tempDir();
    const setup = await ensureDevSettings(dir);
    const port = await freePort();
    const text = readFileSync(setup.settingsPath, "utf8").replace(
      "127.0.0.1:5001",
      `127.0.0.1:${port}`,
    );
    writeFileSync(setup.settingsPath, text);
    const env = { ...process.env } as Record<string, string>;
    delete env.PATCH_TRACKING_CONFIG;
    const server = startServerProcess(["--dev"], { cwd: dir, env });
    const url = await server.ready;
    expect(url).toBe(`http://127.0.0.1:${port}`);
    expect(server.output()).toContain(`log in as admin with the password in ${setup.passwordFile}`);
    const response = await fetch(`${url}/tracking?repo=x/y`, {
      method: "DELETE",
      headers: { authorization: basicAuth("admin", setup.password) },
    });
    expect(((await response.json()) as any).code).toBe("6005");
    await server.stop();
    expect(existsSync(join(dir, ".patch-tracking", "db.sqlite"))).toBe(true);
  });

  test("--config wins over --dev", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, "etc"));
    const config = writeSettings(join(dir, "etc"), { SCAN_DB_INTERVAL: 0 });
    const result = await runCommand([process.execPath, MAIN, "--dev", "--config", config], {
      cwd: dir,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("SCAN_DB_INTERVAL");
    expect(existsSync(join(dir, ".patch-tracking"))).toBe(false);
  });
});
