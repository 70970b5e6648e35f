/**
 * `patch-tracking-cli doctor` and `patch-tracking --check-config` against a good installation
 * (real certificate, database, git, the GitHub and Gitee emulators) and broken ones: every
 * problem is a `fail` line naming the key, the exit code is 1, and no token is ever printed.
 */
import { describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openDatabase } from "../src/db/database.ts";
import { MIGRATIONS } from "../src/db/migrations.ts";
import { runDoctor } from "../src/doctor/checks.ts";
import { startGiteeEmulator } from "./emulators/gitee.ts";
import { startGithubEmulator } from "./emulators/github.ts";
import { cli } from "./helpers/cli.ts";
import { TEST_GITEE_TOKEN, TEST_GITHUB_TOKEN, writeSettings } from "./helpers/settings.ts";
import { tempDir } from "./helpers/temp.ts";
import { makeSelfSignedCert } from "./helpers/tls.ts";

const github = startGithubEmulator({ token: TEST_GITHUB_TOKEN, limit: 5000 });
const gitee = startGiteeEmulator();
const LATEST = MIGRATIONS.at(-1)?.version;

/** A complete, healthy installation in a fresh folder; `extra` replaces settings keys. */
function installation(extra: Record<string, string | number> = {}) {
  const dir = tempDir();
  const cert = makeSelfSignedCert(dir);
  openDatabase(join(dir, "db.sqlite")).close();
  mkdirSync(join(dir, "git"));
  const path = writeSettings(dir, {
    CERT_FILE: `"${cert.cert}"`,
    KEY_FILE: `"${cert.key}"`,
    GITHUB_API_URL: `"${github.url}"`,
    GITEE_API_URL: `"${gitee.url}"`,
    ...extra,
  });
  return { dir, cert, path };
}

function levels(out: string): Record<string, string[]> {
  const found: Record<string, string[]> = {};
  for (const line of out.trimEnd().split("\n").slice(0, -1)) {
    const match = /^(ok|warn|fail) +([^:]+): /.exec(line);
    if (!match) throw new Error(`not a check line: ${line}`);
    const subject = match[2] as string;
    found[subject] = [...(found[subject] ?? []), match[1] as string];
  }
  return found;
}

function expectNoToken(text: string) {
  expect(text).not.toContain(TEST_GITHUB_TOKEN);
  expect(text).not.toContain(TEST_GITEE_TOKEN);
}

describe("a good installation", () => {
  test("every check is ok, one line each, exit 0, and no token is printed", async () => {
    const { path } = installation();
    const result = await cli(["doctor", "--config", path]);
    expectNoToken(result.out + result.err);
    expect(result.err).toBe("");
    expect(result.code).toBe(0);
    const lines = result.out.trimEnd().split("\n");
    expect(lines.at(-1)).toMatch(/^\d+ ok, 0 warnings, 0 failures$/);
    const found = levels(result.out);
    for (const key of [
      "LISTEN",
      "GITHUB_ACCESS_TOKEN",
      "GITEE_ACCESS_TOKEN",
      "SCAN_DB_INTERVAL",
      "USER",
      "PASSWORD",
      "DATABASE_PATH",
      "GIT_BASE_PATH",
      "CERT_FILE",
      "KEY_FILE",
      "GIT_ALLOW_PROTOCOL",
      "database",
      "git",
      "clock",
    ]) {
      expect(found[key]?.every((level) => level === "ok")).toBe(true);
    }
    expect(result.out).toContain(
      `ok   GITHUB_ACCESS_TOKEN: set (${TEST_GITHUB_TOKEN.length} characters, not shown)`,
    );
    expect(result.out).toContain("ok   PASSWORD: a werkzeug pbkdf2 hash (not shown)");
    expect(result.out).toContain("ok   SCAN_CONCURRENCY: 4 (default)");
    // Every key shows the value the service uses, defaults of the newer keys too.
    expect(result.out).toContain("ok   DOWNSTREAM_FORGE: gitee (default)");
    expect(result.out).toContain("ok   APPLY_CHECK: True (default)");
    expect(result.out).toContain("ok   SOURCE_CACHE_MB: 2048 MB (default)");
    expect(result.out).toContain("ok   PROXY: none (default)");
    expect(result.out).not.toContain("not set");
    expect(result.out).toMatch(/ok {3}CERT_FILE: CN=self-signed: valid until \d{4}-/);
    expect(result.out).toContain("ok   KEY_FILE: readable, and the certificate's key");
    expect(result.out).toContain(
      `ok   database: ${join(path, "..", "db.sqlite")}: schema version ${LATEST}`,
    );
    expect(result.out).toMatch(/ok {3}GITHUB_ACCESS_TOKEN: accepted by GitHub as \S+; scopes: /);
    expect(result.out).toMatch(/ok {3}GITHUB_ACCESS_TOKEN: \d+ of 5000 requests left this hour/);
    expect(result.out).toContain(
      "ok   GITEE_ACCESS_TOKEN: accepted by Gitee as patch-tracking-bot",
    );
    expect(result.out).toMatch(/ok {3}git: git version \d/);
    expect(result.out).toMatch(/ok {3}clock: [+-]\d+ s against GitHub, [+-]\d+ s against Gitee/);
  });

  test("patch-tracking --check-config runs the same checks as a process", async () => {
    const { path } = installation();
    // Asynchronously: the emulators answering it live in this process.
    const child = Bun.spawn([process.execPath, "src/main.ts", "--check-config", "--config", path], {
      stdout: "pipe",
      stderr: "pipe",
    });
    const out = await new Response(child.stdout).text();
    expect(await child.exited).toBe(0);
    expectNoToken(out);
    expect(out).toMatch(/0 failures\n$/);
    expect(out).toContain("ok   GITEE_ACCESS_TOKEN: accepted by Gitee");
  });
});

describe("broken installations", () => {
  test("refused tokens, a mismatched key, a newer database, an unwritable git folder: fail lines, exit 1", async () => {
    const { dir, path } = installation({
      GITHUB_ACCESS_TOKEN: '"refused-test-github-token-0123"',
      GITEE_ACCESS_TOKEN: '"gitee-wrong-token-0123456789"',
    });
    const other = makeSelfSignedCert(tempDir(), 2048, "other");
    writeSettings(dir, {
      CERT_FILE: `"${join(dir, "self-signed.crt")}"`,
      KEY_FILE: `"${other.key}"`,
      GITHUB_API_URL: `"${github.url}"`,
      GITEE_API_URL: `"${gitee.url}"`,
      GITHUB_ACCESS_TOKEN: '"refused-test-github-token-0123"',
      GITEE_ACCESS_TOKEN: '"gitee-wrong-token-0123456789"',
      GIT_BASE_PATH: `"${join(dir, "settings.conf")}"`,
    });
    const db = openDatabase(join(dir, "db.sqlite"));
    db.run("PRAGMA user_version = 99");
    db.close();
    const result = await cli(["doctor", "--config", path]);
    expect(result.code).toBe(1);
    expect(result.out).not.toContain("refused-test-github-token-0123");
    expect(result.out).not.toContain("gitee-wrong-token-0123456789");
    expect(result.out).toContain(
      "fail GITHUB_ACCESS_TOKEN: refused by GitHub (401 Bad credentials)",
    );
    expect(result.out).toContain("fail GITEE_ACCESS_TOKEN: refused by Gitee (HTTP 401)");
    expect(result.out).toContain(`fail KEY_FILE: ${other.key} is not the key of`);
    expect(result.out).toContain(
      `fail database: schema version 99 is newer than this build's ${LATEST}`,
    );
    expect(result.out).toContain(
      `fail GIT_BASE_PATH: ${join(dir, "settings.conf")} is not a folder`,
    );
    expect(result.out).toMatch(/\d+ ok, \d+ warnings, 5 failures\n$/);
  });

  test("a missing key stops at the settings, naming the key", async () => {
    const dir = tempDir();
    const path = join(dir, "settings.conf");
    writeFileSync(
      path,
      `LISTEN = "127.0.0.1:5001"\nGITHUB_ACCESS_TOKEN = "${TEST_GITHUB_TOKEN}"\n`,
    );
    const result = await cli(["doctor", "--config", path]);
    expect(result.code).toBe(1);
    expect(result.out).toContain("fail GITEE_ACCESS_TOKEN: missing; it is required");
    expectNoToken(result.out);
    const missing = await cli(["doctor", "--config", join(dir, "nope.conf")]);
    expect(missing.code).toBe(1);
    expect(missing.out).toContain(
      `fail settings: ${join(dir, "nope.conf")} cannot be read (ENOENT)`,
    );
  });

  test("an expired or soon expiring certificate, no git, an unreachable forge, a skewed clock", async () => {
    const { dir, path } = installation({ GITEE_API_URL: '"http://127.0.0.1:9/api/v5"' });
    const yearsAhead = () => new Date(Date.now() + 3651 * 86_400_000);
    const lines = await runDoctor({ path, now: yearsAhead, gitCommand: join(dir, "no-git") });
    const text = lines.map((line) => `${line.level} ${line.subject}: ${line.detail}`).join("\n");
    expect(text).toMatch(/fail CERT_FILE: CN=self-signed: expired on /);
    expect(text).toContain("fail git: ");
    expect(text).toContain(
      "fail GITEE_ACCESS_TOKEN: Gitee at http://127.0.0.1:9/api/v5 cannot be reached",
    );
    expect(text).toMatch(/fail clock: \+\d+ s against GitHub: set the time/);
    const soon = await runDoctor({ path, now: () => new Date(Date.now() + 3640 * 86_400_000) });
    expect(soon.find((line) => line.detail.startsWith("CN=self-signed"))).toMatchObject({
      level: "warn",
      detail: expect.stringContaining("expires in"),
    });
    const slightly = await runDoctor({ path, now: () => new Date(Date.now() + 90_000) });
    expect(slightly.find((line) => line.subject === "clock")?.level).toBe("warn");
  });

  test("a database folder that cannot be written and a database that does not exist yet", async () => {
    if (process.getuid?.() === 0) {
      // root writes everywhere: check the missing-database warning only.
      const { path } = installation({ DATABASE_PATH: '"/nonexistent-pt/db.sqlite"' });
      const lines = await runDoctor({ path });
      expect(lines.find((line) => line.subject === "database")?.level).toBe("warn");
      return;
    }
    const { dir, path } = installation();
    chmodSync(join(dir, "git"), 0o500);
    const lines = await runDoctor({ path });
    expect(lines.some((line) => line.subject === "GIT_BASE_PATH" && line.level === "fail")).toBe(
      true,
    );
  });
});
