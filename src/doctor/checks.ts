/**
 * `patch-tracking-cli doctor` and `patch-tracking --check-config`: every check an operator would
 * otherwise do by reading logs — each key of settings.conf, the certificate and key, the
 * database, the git cache folder, git itself, both tokens (accepted? scopes? budget left?) and
 * the clock. Each check is one line with `ok`, `warn` or `fail`; nothing is written anywhere and
 * no token is ever printed.
 */
import { Database } from "bun:sqlite";
import { createPrivateKey, createPublicKey, X509Certificate } from "node:crypto";
import { accessSync, constants, existsSync, readFileSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { MIGRATIONS } from "../db/migrations.ts";
import { redactText } from "../log.ts";
import {
  describeProxy,
  NO_PROXIES,
  type ProxyConfig,
  ProxySettingError,
  proxiedFetch,
  proxyCredentials,
  proxySummary,
  resolveProxies,
} from "../net/proxy.ts";
import {
  type ParsedSettings,
  parseAssignments,
  parseSettings,
  SETTINGS_KEYS,
  type Settings,
  SettingsError,
  type SettingsKey,
} from "../settings.ts";

export type CheckLevel = "ok" | "warn" | "fail";

export interface CheckLine {
  level: CheckLevel;
  /** What was checked: a settings key, or a topic such as `database`. */
  subject: string;
  detail: string;
}

/** Certificates expiring sooner than this are a warning. */
export const EXPIRY_WARNING_DAYS = 30;
/** Clock differences with the forges beyond these are a warning, then a failure. */
export const SKEW_WARN_SECONDS = 30;
export const SKEW_FAIL_SECONDS = 300;
/** A token with less than this share of its hourly budget left is a warning. */
const LOW_BUDGET_SHARE = 0.1;
/** Longest wait for one forge answer. */
const FORGE_TIMEOUT_MS = 15_000;

/** Keys whose values are never shown, not even their shape (PASSWORD shows its hash kind). */
const SECRET_KEYS = ["GITHUB_ACCESS_TOKEN", "GITEE_ACCESS_TOKEN"] as const;
type SecretKey = (typeof SECRET_KEYS)[number];
const isSecretKey = (key: SettingsKey): key is SecretKey =>
  (SECRET_KEYS as readonly string[]).includes(key);

export interface DoctorOptions {
  /** The settings file to check. */
  path: string;
  /** Injected for tests; the real clock otherwise. */
  now?: () => Date;
  /** Where git is looked for (`git` on PATH by default). */
  gitCommand?: string;
  /** The environment the proxy variables come from; this process's by default. */
  env?: Record<string, string | undefined>;
}

function line(level: CheckLevel, subject: string, detail: string): CheckLine {
  return { level, subject, detail };
}

/** Runs every check; the settings-file checks decide whether the others can run at all. */
export async function runDoctor(options: DoctorOptions): Promise<CheckLine[]> {
  const lines: CheckLine[] = [];
  let text: string;
  try {
    text = readFileSync(options.path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    return [line("fail", "settings", `${options.path} cannot be read (${code})`)];
  }
  let parsed: ParsedSettings;
  try {
    parsed = parseSettings(text);
  } catch (error) {
    if (!(error instanceof SettingsError)) throw error;
    lines.push(line("ok", "settings", `${options.path} read`));
    lines.push(line("fail", error.key ?? "settings", error.problem));
    return lines;
  }
  const { settings, warnings } = parsed;
  const secrets = [settings.githubAccessToken, settings.giteeAccessToken];
  const safe = (value: string) => redactText(value, secrets);
  lines.push(line("ok", "settings", `${options.path} read`));
  lines.push(...keyLines(text, settings));
  for (const warning of warnings) lines.push(line("warn", "settings", warning));
  lines.push(...tlsLines(settings, options.now?.() ?? new Date()));
  lines.push(...databaseLines(settings.databasePath));
  lines.push(gitBaseLine(settings.gitBasePath));
  lines.push(gitLine(options.gitCommand ?? "git"));
  // The forges are asked the way the service asks them: through the same proxy, if any.
  let proxies: ProxyConfig = NO_PROXIES;
  try {
    proxies = resolveProxies(settings, options.env ?? process.env);
    if (proxies.https || proxies.http) {
      const summary = proxySummary(proxies);
      lines.push(
        line(
          "ok",
          "proxy",
          `https ${summary.https}, http ${summary.http}, no proxy for ${summary.noProxy}`,
        ),
      );
    }
  } catch (error) {
    if (!(error instanceof ProxySettingError)) throw error;
    lines.push(line("fail", error.source, error.problem));
  }
  secrets.push(...proxyCredentials(proxies));
  const viaProxy = proxiedFetch(proxies);
  const forges = await Promise.all([
    githubCheck(settings, viaProxy),
    giteeCheck(settings, viaProxy),
  ]);
  for (const forge of forges) {
    lines.push(...forge.lines.map((item) => ({ ...item, detail: safe(item.detail) })));
  }
  lines.push(clockLine(forges, options.now ?? (() => new Date())));
  return lines;
}

/** One line per known key: its value (secrets only by length), or its default. */
/** A budget of downstream requests as doctor shows it. */
function perWindow(limit: number | null): string {
  return limit === null ? "no limit" : String(limit);
}

/**
 * Each key's value as the service uses it (defaults filled in). A `Record` over every key, so a
 * key added to settings.conf cannot be left out here.
 */
function shownValues(settings: Settings): Record<Exclude<SettingsKey, SecretKey>, string> {
  return {
    LISTEN: `${settings.listen.host}:${settings.listen.port}`,
    SCAN_DB_INTERVAL: `${settings.scanDbInterval} s`,
    USER: settings.user,
    PASSWORD: hashKind(settings.passwordHash),
    GITHUB_API_URL: settings.githubApiUrl,
    GITEE_API_URL: settings.giteeApiUrl,
    DATABASE_PATH: settings.databasePath,
    GIT_BASE_PATH: settings.gitBasePath,
    CERT_FILE: settings.certFile,
    KEY_FILE: settings.keyFile,
    SCAN_CONCURRENCY: String(settings.scanConcurrency),
    PLAIN_HTTP: settings.plainHttp ? "True" : "False",
    LOG_LEVEL: settings.logLevel,
    GITEE_TOKEN_IN_QUERY: settings.giteeTokenInQuery ? "True" : "False",
    REQUEST_TIMEOUT: `${settings.requestTimeout} s`,
    GIT_TIMEOUT: `${settings.gitTimeout} s`,
    GIT_ALLOW_PROTOCOL: settings.gitAllowProtocol,
    PROPOSALS: settings.proposals,
    DOWNSTREAM_FORGE: settings.downstreamForge,
    DOWNSTREAM_REQUESTS_PER_MINUTE: perWindow(settings.downstreamRequestsPerMinute),
    DOWNSTREAM_REQUESTS_PER_HOUR: perWindow(settings.downstreamRequestsPerHour),
    APPLY_CHECK: settings.applyCheck ? "True" : "False",
    APPLY_CHECK_MAX_ARCHIVE_MB: `${settings.applyCheckMaxArchiveMb} MB`,
    APPLY_CHECK_MAX_UNPACKED_MB: `${settings.applyCheckMaxUnpackedMb} MB`,
    APPLY_CHECK_MAX_FILES: String(settings.applyCheckMaxFiles),
    APPLY_CHECK_TIMEOUT: `${settings.applyCheckTimeout} s`,
    SOURCE_CACHE_MB: `${settings.sourceCacheMb} MB`,
    PROXY: settings.proxy === null ? "none" : describeProxy(settings.proxy),
    NO_PROXY: settings.noProxy ?? "none",
    GIT_LOOKUP_CONCURRENCY: String(settings.gitLookupConcurrency),
    GIT_HOST_CONCURRENCY: String(settings.gitHostConcurrency),
  };
}

function keyLines(text: string, settings: Settings): CheckLine[] {
  const given = parseAssignments(text);
  const shown = shownValues(settings);
  return (Object.keys(SETTINGS_KEYS) as SettingsKey[]).map((key) => {
    if (isSecretKey(key)) {
      const value = String(given.get(key) ?? "");
      return line("ok", key, `set (${value.length} characters, not shown)`);
    }
    const origin = given.has(key) ? "" : " (default)";
    return line("ok", key, `${shown[key]}${origin}`);
  });
}

function hashKind(hash: string): string {
  if (hash.startsWith("$2")) return "a bcrypt hash (not shown)";
  if (hash.startsWith("pbkdf2:")) return "a werkzeug pbkdf2 hash (not shown)";
  if (hash.startsWith("scrypt:")) return "a werkzeug scrypt hash (not shown)";
  return "a password hash (not shown)";
}

function readable(subject: string, path: string): { text: string } | { fail: CheckLine } {
  try {
    return { text: readFileSync(path, "utf8") };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    return { fail: line("fail", subject, `${path} cannot be read (${code})`) };
  }
}

/** The certificate and key: readable, a pair, and not expired (or about to). */
export function tlsLines(settings: Settings, now: Date): CheckLine[] {
  if (settings.plainHttp) {
    return [line("ok", "tls", "PLAIN_HTTP on loopback: no certificate used")];
  }
  const lines: CheckLine[] = [];
  const cert = readable("CERT_FILE", settings.certFile);
  const key = readable("KEY_FILE", settings.keyFile);
  let certificate: X509Certificate | null = null;
  if ("fail" in cert) lines.push(cert.fail);
  else {
    try {
      certificate = new X509Certificate(cert.text);
      const until = new Date(certificate.validTo);
      const days = Math.floor((until.getTime() - now.getTime()) / 86_400_000);
      const subject = certificate.subject.replace(/\n/g, ", ");
      if (until.getTime() <= now.getTime()) {
        lines.push(line("fail", "CERT_FILE", `${subject}: expired on ${until.toISOString()}`));
      } else if (new Date(certificate.validFrom).getTime() > now.getTime()) {
        lines.push(
          line("fail", "CERT_FILE", `${subject}: not valid before ${certificate.validFrom}`),
        );
      } else if (days < EXPIRY_WARNING_DAYS) {
        lines.push(
          line("warn", "CERT_FILE", `${subject}: expires in ${days} days (${until.toISOString()})`),
        );
      } else {
        lines.push(
          line("ok", "CERT_FILE", `${subject}: valid until ${until.toISOString().slice(0, 10)}`),
        );
      }
    } catch {
      lines.push(line("fail", "CERT_FILE", `${settings.certFile} is not a PEM certificate`));
    }
  }
  if ("fail" in key) lines.push(key.fail);
  else {
    try {
      const privateKey = createPrivateKey(key.text);
      if (certificate) {
        const matches = certificate.checkPrivateKey(privateKey);
        lines.push(
          matches
            ? line("ok", "KEY_FILE", "readable, and the certificate's key")
            : line(
                "fail",
                "KEY_FILE",
                `${settings.keyFile} is not the key of ${settings.certFile}`,
              ),
        );
      } else {
        createPublicKey(privateKey);
        lines.push(line("ok", "KEY_FILE", "readable (no certificate to match it with)"));
      }
    } catch {
      lines.push(line("fail", "KEY_FILE", `${settings.keyFile} is not a PEM private key`));
    }
  }
  return lines;
}

/** The database: there (or creatable), and at a schema version this build knows. */
export function databaseLines(path: string): CheckLine[] {
  const latest = MIGRATIONS.at(-1)?.version ?? 0;
  if (!existsSync(path)) {
    const folder = dirname(path);
    return [
      writableOrCreatable(folder)
        ? line("warn", "database", `${path} does not exist yet; the service creates it at start`)
        : line("fail", "database", `${path} does not exist and ${folder} is not writable`),
    ];
  }
  let db: Database | null = null;
  try {
    db = new Database(path, { readonly: true });
    const version =
      db.query<{ user_version: number }, []>("PRAGMA user_version").get()?.user_version ?? 0;
    const tables = db
      .query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE type = 'table'")
      .all()
      .map((row) => row.name);
    const lines: CheckLine[] = [];
    if (version > latest) {
      lines.push(
        line("fail", "database", `schema version ${version} is newer than this build's ${latest}`),
      );
    } else if (version < latest) {
      lines.push(
        line(
          "warn",
          "database",
          `schema version ${version}; the service migrates it to ${latest} at start`,
        ),
      );
    } else {
      lines.push(line("ok", "database", `${path}: schema version ${version}`));
    }
    if (!tables.includes("tracking") && version > 0) {
      lines.push(line("fail", "database", "the tracking table is missing"));
    }
    try {
      accessSync(path, constants.W_OK);
    } catch {
      lines.push(line("fail", "database", `${path} is not writable by this user`));
    }
    return lines;
  } catch (error) {
    return [line("fail", "database", `${path} cannot be opened: ${(error as Error).message}`)];
  } finally {
    db?.close();
  }
}

function writableOrCreatable(path: string): boolean {
  let current = path;
  for (;;) {
    if (existsSync(current)) {
      try {
        accessSync(current, constants.W_OK);
        return statSync(current).isDirectory();
      } catch {
        return false;
      }
    }
    const parent = dirname(current);
    if (parent === current) return false;
    current = parent;
  }
}

export function gitBaseLine(path: string): CheckLine {
  if (existsSync(path)) {
    if (!statSync(path).isDirectory())
      return line("fail", "GIT_BASE_PATH", `${path} is not a folder`);
    try {
      accessSync(path, constants.W_OK);
      return line("ok", "GIT_BASE_PATH", `${path} is writable`);
    } catch {
      return line("fail", "GIT_BASE_PATH", `${path} is not writable by this user`);
    }
  }
  return writableOrCreatable(path)
    ? line("ok", "GIT_BASE_PATH", `${path} does not exist yet; it will be created`)
    : line("fail", "GIT_BASE_PATH", `${path} does not exist and cannot be created`);
}

export function gitLine(command: string): CheckLine {
  try {
    const result = Bun.spawnSync([command, "--version"], { stdout: "pipe", stderr: "pipe" });
    if (result.exitCode === 0) return line("ok", "git", result.stdout.toString().trim());
    return line("fail", "git", `${command} --version exited ${result.exitCode}`);
  } catch {
    return line("fail", "git", `${command} not found: install git (the service runs it)`);
  }
}

interface ForgeResult {
  lines: CheckLine[];
  /** The forge's clock, from its Date header, when it answered. */
  serverDate: Date | null;
  /** The local time half-way through the request. */
  localDate: Date | null;
  name: string;
}

async function ask(
  url: string,
  headers: Record<string, string>,
  fetchImpl: typeof fetch,
): Promise<{ response: Response; localDate: Date } | { error: string }> {
  const started = Date.now();
  try {
    const response = await fetchImpl(url, {
      headers: { accept: "application/json", "user-agent": "patch-tracking-doctor", ...headers },
      signal: AbortSignal.timeout(FORGE_TIMEOUT_MS),
      redirect: "manual",
    });
    return { response, localDate: new Date((started + Date.now()) / 2) };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

function budgetLine(subject: string, response: Response): CheckLine | null {
  const remaining = response.headers.get("x-ratelimit-remaining");
  const limit = response.headers.get("x-ratelimit-limit");
  if (remaining === null) return null;
  const left = Number(remaining);
  const total = Number(limit);
  const detail = `${left}${limit !== null ? ` of ${total}` : ""} requests left this hour`;
  if (left === 0) return line("fail", subject, `rate limited: ${detail}`);
  if (Number.isFinite(total) && total > 0 && left < total * LOW_BUDGET_SHARE) {
    return line("warn", subject, `low budget: ${detail}`);
  }
  return line("ok", subject, detail);
}

/** How one forge's `GET /user` token check differs from the other's. */
interface TokenCheck {
  subject: string;
  forge: string;
  apiUrl: string;
  url: string;
  headers: Record<string, string>;
  /** The statuses that mean "this token is refused", and how to say so. */
  refused(status: number): string | null;
  /** What to say of the `x-oauth-scopes` header (null when absent). */
  scopes(header: string | null): string;
}

async function tokenCheck(check: TokenCheck, fetchImpl: typeof fetch): Promise<ForgeResult> {
  const { subject, forge } = check;
  const answer = await ask(check.url, check.headers, fetchImpl);
  const result: ForgeResult = { lines: [], serverDate: null, localDate: null, name: forge };
  if ("error" in answer) {
    result.lines.push(
      line("fail", subject, `${forge} at ${check.apiUrl} cannot be reached: ${answer.error}`),
    );
    return result;
  }
  const { response } = answer;
  result.serverDate = dateOf(response);
  result.localDate = answer.localDate;
  const refused = check.refused(response.status);
  if (refused) {
    result.lines.push(line("fail", subject, refused));
    return result;
  }
  if (!response.ok) {
    result.lines.push(
      line("fail", subject, `${forge} answered HTTP ${response.status} to GET /user`),
    );
    return result;
  }
  const body = (await response.json().catch(() => ({}))) as { login?: string };
  const scopes = check.scopes(response.headers.get("x-oauth-scopes"));
  result.lines.push(
    line("ok", subject, `accepted by ${forge} as ${body.login ?? "?"}; scopes: ${scopes}`),
  );
  const budget = budgetLine(subject, response);
  if (budget) result.lines.push(budget);
  return result;
}

function githubCheck(settings: Settings, fetchImpl: typeof fetch): Promise<ForgeResult> {
  return tokenCheck(
    {
      subject: "GITHUB_ACCESS_TOKEN",
      forge: "GitHub",
      apiUrl: settings.githubApiUrl,
      url: `${settings.githubApiUrl}/user`,
      headers: { authorization: `token ${settings.githubAccessToken}` },
      refused: (status) => (status === 401 ? "refused by GitHub (401 Bad credentials)" : null),
      scopes: (header) =>
        header === null ? "not reported (fine-grained token)" : header || "none (public data only)",
    },
    fetchImpl,
  );
}

function giteeCheck(settings: Settings, fetchImpl: typeof fetch): Promise<ForgeResult> {
  const url = new URL(`${settings.giteeApiUrl}/user`);
  const headers: Record<string, string> = {};
  if (settings.giteeTokenInQuery) url.searchParams.set("access_token", settings.giteeAccessToken);
  else headers.authorization = `token ${settings.giteeAccessToken}`;
  return tokenCheck(
    {
      subject: "GITEE_ACCESS_TOKEN",
      forge: "Gitee",
      apiUrl: settings.giteeApiUrl,
      url: url.toString(),
      headers,
      refused: (status) =>
        status === 401 || status === 403 ? `refused by Gitee (HTTP ${status})` : null,
      scopes: (header) =>
        header ?? "not reported by Gitee (the token needs projects, pull_requests and issues)",
    },
    fetchImpl,
  );
}

function dateOf(response: Response): Date | null {
  const header = response.headers.get("date");
  if (!header) return null;
  const date = new Date(header);
  return Number.isNaN(date.getTime()) ? null : date;
}

function clockLine(forges: ForgeResult[], now: () => Date): CheckLine {
  const measured = forges.filter((forge) => forge.serverDate && forge.localDate);
  if (measured.length === 0) {
    return line("warn", "clock", "not compared: no forge answered with a Date header");
  }
  // The injected clock shifts what "local" means, so tests can pretend a skewed machine.
  const offset = now().getTime() - Date.now();
  const skews = measured.map((forge) => ({
    name: forge.name,
    seconds:
      ((forge.localDate as Date).getTime() + offset - (forge.serverDate as Date).getTime()) / 1000,
  }));
  const worst = skews.reduce((a, b) => (Math.abs(b.seconds) > Math.abs(a.seconds) ? b : a));
  const detail = skews
    .map(
      (skew) => `${skew.seconds >= 0 ? "+" : ""}${Math.round(skew.seconds)} s against ${skew.name}`,
    )
    .join(", ");
  // HTTP dates have whole seconds: a second of difference is noise.
  if (Math.abs(worst.seconds) > SKEW_FAIL_SECONDS) {
    return line(
      "fail",
      "clock",
      `${detail}: set the time (NTP); timestamps and rate-limit resets depend on it`,
    );
  }
  if (Math.abs(worst.seconds) > SKEW_WARN_SECONDS) return line("warn", "clock", detail);
  return line("ok", "clock", detail);
}

/** The lines as printed: `ok   KEY: detail`, then a summary. */
export function renderDoctor(lines: readonly CheckLine[]): string {
  const body = lines.map((item) => `${item.level.padEnd(4)} ${item.subject}: ${item.detail}`);
  const count = (level: CheckLevel) => lines.filter((item) => item.level === level).length;
  body.push(`${count("ok")} ok, ${count("warn")} warnings, ${count("fail")} failures`);
  return `${body.join("\n")}\n`;
}

export function hasFailure(lines: readonly CheckLine[]): boolean {
  return lines.some((item) => item.level === "fail");
}
