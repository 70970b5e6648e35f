/**
 * `--dev`: a settings file for trying the service on a workstation, made on first use under
 * `./.patch-tracking/` — loopback, plain HTTP, local state, a generated admin password. The
 * server then starts from that file exactly as it would from /etc/patch-tracking/settings.conf.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { hashPassword } from "./password/rules.ts";

export const DEV_DIR = ".patch-tracking";
export const DEV_USER = "admin";

export interface DevSetup {
  settingsPath: string;
  passwordFile: string;
  password: string;
  created: boolean;
}

function randomPassword(): string {
  // Satisfies the password rules: upper, lower, digit and a special character.
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  const body = Buffer.from(bytes).toString("base64url").replace(/[-_]/g, "x");
  return `Pt-${body}9a`;
}

export async function ensureDevSettings(baseDir = process.cwd()): Promise<DevSetup> {
  const dir = resolve(baseDir, DEV_DIR);
  const settingsPath = join(dir, "settings.conf");
  const passwordFile = join(dir, "admin-password");
  if (existsSync(settingsPath) && existsSync(passwordFile)) {
    return {
      settingsPath,
      passwordFile,
      password: readFileSync(passwordFile, "utf8").trim(),
      created: false,
    };
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const password = randomPassword();
  const hash = await hashPassword(password);
  const text = `# Development settings made by \`patch-tracking --dev\`; edit freely.
# Put real tokens here to let the scanner talk to GitHub and Gitee.
LISTEN = "127.0.0.1:5001"
PLAIN_HTTP = True
GITHUB_ACCESS_TOKEN = "not-set"
GITEE_ACCESS_TOKEN = "not-set"
SCAN_DB_INTERVAL = 3600
USER = "${DEV_USER}"
PASSWORD = "${hash}"
DATABASE_PATH = "${join(dir, "db.sqlite")}"
GIT_BASE_PATH = "${join(dir, "git")}"
`;
  writeFileSync(settingsPath, text, { mode: 0o600 });
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  chmodSync(settingsPath, 0o600);
  return { settingsPath, passwordFile, password, created: true };
}
