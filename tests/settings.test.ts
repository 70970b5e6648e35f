import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import {
  DEFAULTS,
  loadSettingsFile,
  parseSettings,
  resolveSettingsPath,
  SettingsError,
} from "../src/settings.ts";
import { PROJECT_ROOT, runCommand } from "./helpers/server-process.ts";
import { settingsText, TEST_PASSWORD_HASH, writeSettings } from "./helpers/settings.ts";
import { tempDir } from "./helpers/temp.ts";

const dir = tempDir();

function errorOf(text: string): SettingsError {
  try {
    parseSettings(text);
  } catch (error) {
    if (error instanceof SettingsError) return error;
    throw error;
  }
  throw new Error("expected a SettingsError");
}

describe("parseSettings", () => {
  test("reads the original's file format with defaults for every optional key", () => {
    const text = `# patch-tracking settings
LISTEN = "127.0.0.1:5001"
GITHUB_ACCESS_TOKEN = 'gh-token'   # single quotes work too
GITEE_ACCESS_TOKEN = "  gitee-token  "
SCAN_DB_INTERVAL = 3600
USER = "admin"
PASSWORD = "${TEST_PASSWORD_HASH}"
`;
    const { settings, warnings } = parseSettings(text);
    expect(warnings).toEqual([]);
    expect(settings.listen).toEqual({ host: "127.0.0.1", port: 5001 });
    expect(settings.githubAccessToken).toBe("gh-token");
    expect(settings.giteeAccessToken).toBe("gitee-token");
    expect(settings.scanDbInterval).toBe(3600);
    expect(settings.user).toBe("admin");
    expect(settings.githubApiUrl).toBe("https://api.github.com");
    expect(settings.giteeApiUrl).toBe("https://gitee.com/api/v5");
    expect(settings.databasePath).toBe("/var/patch-tracking/db.sqlite");
    expect(settings.gitBasePath).toBe("/var/patch-tracking/git");
    expect(settings.certFile).toBe("/etc/patch-tracking/self-signed.crt");
    expect(settings.keyFile).toBe("/etc/patch-tracking/self-signed.key");
    expect(settings.scanConcurrency).toBe(DEFAULTS.SCAN_CONCURRENCY);
    expect(settings.plainHttp).toBe(false);
    expect(settings.applyCheck).toBe(true);
    expect([
      settings.applyCheckMaxArchiveMb,
      settings.applyCheckMaxUnpackedMb,
      settings.applyCheckMaxFiles,
      settings.applyCheckTimeout,
      settings.sourceCacheMb,
    ]).toEqual([500, 4096, 300_000, 300, 2048]);
    expect(settings.proposals).toBe("rolling");
    expect(Object.isFrozen(settings)).toBe(true);
  });

  test("optional keys override defaults; an unknown key is a warning", () => {
    const { settings, warnings } = parseSettings(
      settingsText(dir, {
        GITHUB_API_URL: '"https://ghe.example.com/api/v3/"',
        GITEE_API_URL: '"http://127.0.0.1:9999/api/v5"',
        SCAN_CONCURRENCY: 8,
        CERT_FILE: '"/tmp/a.crt"',
        KEY_FILE: '"/tmp/a.key"',
        PLAIN_HTTP: "True",
        LOG_LEVEL: '"debug"',
        APPLY_CHECK: "False",
        APPLY_CHECK_MAX_ARCHIVE_MB: 50,
        SOURCE_CACHE_MB: 100,
        PROPOSALS: '"per-batch"',
        SOMETHING_ELSE: '"x"',
      }),
    );
    expect(settings.applyCheck).toBe(false);
    expect(settings.applyCheckMaxArchiveMb).toBe(50);
    expect(settings.sourceCacheMb).toBe(100);
    expect(settings.githubApiUrl).toBe("https://ghe.example.com/api/v3");
    expect(settings.giteeApiUrl).toBe("http://127.0.0.1:9999/api/v5");
    expect(settings.scanConcurrency).toBe(8);
    expect(settings.certFile).toBe("/tmp/a.crt");
    expect(settings.plainHttp).toBe(true);
    expect(settings.logLevel).toBe("debug");
    expect(settings.proposals).toBe("per-batch");
    expect(warnings).toEqual(["unknown key SOMETHING_ELSE ignored"]);
  });

  const invalid: [string, Record<string, string | number>, string, RegExp][] = [
    ["missing LISTEN", { LISTEN: "" }, "LISTEN", /missing/],
    ["empty token", { GITEE_ACCESS_TOKEN: '""' }, "GITEE_ACCESS_TOKEN", /empty/],
    ["missing GitHub token", { GITHUB_ACCESS_TOKEN: "" }, "GITHUB_ACCESS_TOKEN", /missing/],
    ["LISTEN without port", { LISTEN: '"127.0.0.1"' }, "LISTEN", /host:port/],
    ["LISTEN host not IPv4", { LISTEN: '"example.com:5001"' }, "LISTEN", /IPv4/],
    ["LISTEN octet too big", { LISTEN: '"127.0.0.256:5001"' }, "LISTEN", /IPv4/],
    ["LISTEN port 0", { LISTEN: '"127.0.0.1:0"' }, "LISTEN", /1-65535/],
    ["LISTEN port too big", { LISTEN: '"127.0.0.1:70000"' }, "LISTEN", /1-65535/],
    ["LISTEN port not a number", { LISTEN: '"127.0.0.1:http"' }, "LISTEN", /1-65535/],
    ["SCAN_DB_INTERVAL zero", { SCAN_DB_INTERVAL: 0 }, "SCAN_DB_INTERVAL", /greater than zero/],
    [
      "SCAN_DB_INTERVAL negative",
      { SCAN_DB_INTERVAL: -5 },
      "SCAN_DB_INTERVAL",
      /greater than zero/,
    ],
    ["SCAN_DB_INTERVAL text", { SCAN_DB_INTERVAL: '"soon"' }, "SCAN_DB_INTERVAL", /number/],
    ["missing SCAN_DB_INTERVAL", { SCAN_DB_INTERVAL: "" }, "SCAN_DB_INTERVAL", /missing/],
    ["USER too long", { USER: `"${"u".repeat(33)}"` }, "USER", /33 characters/],
    ["empty USER", { USER: '""' }, "USER", /empty/],
    ["missing PASSWORD", { PASSWORD: "" }, "PASSWORD", /missing/],
    ["PASSWORD not a hash", { PASSWORD: '"Test@123"' }, "PASSWORD", /not a password hash/],
    ["bad API URL", { GITEE_API_URL: '"not a url"' }, "GITEE_API_URL", /not a URL/],
    ["SCAN_CONCURRENCY fraction", { SCAN_CONCURRENCY: 1.5 }, "SCAN_CONCURRENCY", /whole number/],
    [
      "plain HTTP off loopback",
      { LISTEN: '"0.0.0.0:5001"', PLAIN_HTTP: "True" },
      "PLAIN_HTTP",
      /loopback/,
    ],
    [
      "git ext transport",
      { GIT_ALLOW_PROTOCOL: '"https:ext"' },
      "GIT_ALLOW_PROTOCOL",
      /not allowed/,
    ],
    ["APPLY_CHECK not a flag", { APPLY_CHECK: '"maybe"' }, "APPLY_CHECK", /True or False/],
    [
      "APPLY_CHECK_MAX_FILES fraction",
      { APPLY_CHECK_MAX_FILES: 2.5 },
      "APPLY_CHECK_MAX_FILES",
      /whole number/,
    ],
    ["APPLY_CHECK_TIMEOUT zero", { APPLY_CHECK_TIMEOUT: 0 }, "APPLY_CHECK_TIMEOUT", /greater/],
    ["SOURCE_CACHE_MB text", { SOURCE_CACHE_MB: '"big"' }, "SOURCE_CACHE_MB", /number/],
    ["PROPOSALS unknown", { PROPOSALS: '"weekly"' }, "PROPOSALS", /"rolling".*"per-batch"/],
    ["unterminated string", { USER: '"admin' }, "USER", /syntax error on line/],
    ["bare word value", { USER: "admin" }, "USER", /syntax error on line/],
  ];

  for (const [name, change, key, problem] of invalid) {
    test(`rejects ${name}, naming ${key}`, () => {
      const text = settingsText(dir, change)
        .split("\n")
        .filter((line) => !line.endsWith(" = "))
        .join("\n");
      const error = errorOf(text);
      expect(error.key).toBe(key);
      expect(error.problem).toMatch(problem);
      expect(error.message.split("\n")).toHaveLength(1);
    });
  }

  test("a line that is not an assignment is a syntax error with its line number", () => {
    const text = settingsText(dir);
    const line = text.split("\n").length;
    const error = errorOf(`${text}this is not python\n`);
    expect(error.message).toContain(`syntax error on line ${line}`);
  });
});

describe("settings file location", () => {
  test("--config beats the environment, which beats the default", () => {
    expect(resolveSettingsPath("/a.conf", { PATCH_TRACKING_CONFIG: "/b.conf" })).toBe("/a.conf");
    expect(resolveSettingsPath(undefined, { PATCH_TRACKING_CONFIG: "/b.conf" })).toBe("/b.conf");
    expect(resolveSettingsPath(undefined, {})).toBe("/etc/patch-tracking/settings.conf");
  });

  test("a missing file is an error naming the file", async () => {
    await expect(loadSettingsFile(join(dir, "nope.conf"))).rejects.toThrow(
      /nope\.conf does not exist/,
    );
  });
});

describe("the server process refuses bad settings", () => {
  const cases: [string, Record<string, string | number>, RegExp][] = [
    ["bad port", { LISTEN: '"127.0.0.1:99999"' }, /^patch-tracking: LISTEN: port must be 1-65535/],
    [
      "zero interval",
      { SCAN_DB_INTERVAL: 0 },
      /^patch-tracking: SCAN_DB_INTERVAL: must be greater than zero/,
    ],
    ["long user", { USER: `"${"x".repeat(40)}"` }, /^patch-tracking: USER: is 40 characters long/],
    [
      "syntax error",
      { GITEE_ACCESS_TOKEN: "'abc" },
      /^patch-tracking: GITEE_ACCESS_TOKEN: syntax error on line 3/,
    ],
    [
      "empty token",
      { GITHUB_ACCESS_TOKEN: '""' },
      /^patch-tracking: GITHUB_ACCESS_TOKEN: is empty/,
    ],
  ];
  for (const [name, change, expected] of cases) {
    test(`${name}: exit 1 with one line`, async () => {
      const caseDir = tempDir();
      const path = writeSettings(caseDir, change);
      const result = await runCommand([
        process.execPath,
        join(PROJECT_ROOT, "src/main.ts"),
        "--config",
        path,
      ]);
      expect(result.code).toBe(1);
      const lines = result.stderr.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(expected);
      expect(result.stdout).not.toContain("listening");
    });
  }

  test("the environment variable names the file when --config is absent", async () => {
    const caseDir = tempDir();
    const path = writeSettings(caseDir, { SCAN_DB_INTERVAL: -1 });
    const result = await runCommand([process.execPath, join(PROJECT_ROOT, "src/main.ts")], {
      env: { PATCH_TRACKING_CONFIG: path },
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `SCAN_DB_INTERVAL: must be greater than zero, got -1 (in ${path})`,
    );
  });

  test("without any settings file the default path is named", async () => {
    const env = { ...process.env } as Record<string, string>;
    delete env.PATCH_TRACKING_CONFIG;
    const result = await runCommand([process.execPath, join(PROJECT_ROOT, "src/main.ts")], { env });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toMatch(
      /\/etc\/patch-tracking\/settings\.conf (does not exist|cannot be read)/,
    );
  });
});
