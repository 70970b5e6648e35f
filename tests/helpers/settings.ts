import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseSettings, type Settings } from "../../src/settings.ts";

/** The documented werkzeug hash of `Test@123`, as existing installations have it. */
export const TEST_PASSWORD = "Test@123";
export const TEST_PASSWORD_HASH =
  "pbkdf2:sha256:150000$w38eLeRm$ebb5069ba3b4dda39a698bd1d9d7f5f848af3bd93b11e0cde2b28e9e34bfbbae";
/** Recognisable fake tokens: a test greps logs for them. */
export const TEST_GITHUB_TOKEN = "test-github-token-0123456789abcdefXYZ";
export const TEST_GITEE_TOKEN = "gitee-test-token-0123456789abcdef";

/** settings.conf text with every required key; `extra` adds or replaces keys (raw values). */
export function settingsText(dir: string, extra: Record<string, string | number> = {}): string {
  const values: Record<string, string | number> = {
    LISTEN: '"127.0.0.1:5001"',
    GITHUB_ACCESS_TOKEN: `"${TEST_GITHUB_TOKEN}"`,
    GITEE_ACCESS_TOKEN: `"${TEST_GITEE_TOKEN}"`,
    SCAN_DB_INTERVAL: 3600,
    USER: '"admin"',
    PASSWORD: `"${TEST_PASSWORD_HASH}"`,
    // Nothing in the tests may reach the real forges: port 9 on loopback refuses at once.
    GITHUB_API_URL: '"http://127.0.0.1:9"',
    GITEE_API_URL: '"http://127.0.0.1:9/api/v5"',
    DATABASE_PATH: `"${join(dir, "db.sqlite")}"`,
    GIT_BASE_PATH: `"${join(dir, "git")}"`,
    ...extra,
  };
  return Object.entries(values)
    .map(([key, value]) => `${key} = ${value}`)
    .join("\n")
    .concat("\n");
}

export function writeSettings(dir: string, extra: Record<string, string | number> = {}): string {
  const path = join(dir, "settings.conf");
  writeFileSync(path, settingsText(dir, extra));
  return path;
}

/** Parsed settings for in-process servers; port 0 picks a free port. */
export function testSettings(dir: string, extra: Record<string, string | number> = {}): Settings {
  const parsed = parseSettings(settingsText(dir, { PLAIN_HTTP: "True", ...extra })).settings;
  return { ...parsed, listen: { host: "127.0.0.1", port: 0 } };
}

export function basicAuth(user = "admin", password = TEST_PASSWORD): string {
  return `Basic ${Buffer.from(`${user}:${password}`, "latin1").toString("base64")}`;
}
