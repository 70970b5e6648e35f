/**
 * settings.conf: parsing and validation.
 *
 * The file uses Python assignment syntax (`KEY = "value"`, `KEY = 3600`, `#` comments), because
 * existing installations already have one. `parseSettings` is pure: text in, a frozen typed object
 * out, or a `SettingsError` that names the key and the problem. Nothing else in the service reads
 * configuration files or environment variables for configuration.
 */
import { isIPv4 } from "node:net";
import { FORGE_NAMES, FORGE_PROFILES, type ForgeName, isForgeName } from "./forge/profiles.ts";
import { isLogLevel, type LogLevel } from "./log.ts";
import { ProxySettingError, parseProxyUrl } from "./net/proxy.ts";
import { describeHashProblem } from "./password/verify.ts";
import { DEFAULT_GIT_ALLOW_PROTOCOL } from "./scan/upstream/git-url.ts";

export const DEFAULT_SETTINGS_PATH = "/etc/patch-tracking/settings.conf";
/** Environment variable naming the settings file when `--config` is not given. */
export const SETTINGS_PATH_ENV = "PATCH_TRACKING_CONFIG";

export interface Settings {
  /** Address the API listens on. */
  readonly listen: { readonly host: string; readonly port: number };
  readonly githubAccessToken: string;
  readonly giteeAccessToken: string;
  /** Seconds between two scans of all trackings. */
  readonly scanDbInterval: number;
  readonly user: string;
  /** werkzeug pbkdf2/scrypt hash or bcrypt hash of the admin password. */
  readonly passwordHash: string;
  readonly githubApiUrl: string;
  readonly giteeApiUrl: string;
  readonly databasePath: string;
  readonly gitBasePath: string;
  readonly certFile: string;
  readonly keyFile: string;
  /** How many trackings are scanned at the same time. */
  readonly scanConcurrency: number;
  /** "rolling": new commits join the tracking's open proposal; "per-batch": one per scan. */
  readonly proposals: "rolling" | "per-batch";
  /** Serve plain HTTP instead of HTTPS; only allowed on a loopback address. */
  readonly plainHttp: boolean;
  readonly logLevel: LogLevel;
  /** Send the Gitee token as an `access_token` parameter instead of a header (older v5 forges). */
  readonly giteeTokenInQuery: boolean;
  /** Seconds before one forge request is abandoned. */
  readonly requestTimeout: number;
  /** Seconds before one git command (clone, fetch) is killed. */
  readonly gitTimeout: number;
  /** Transports git upstreams may use, colon-separated (`https:ssh`). */
  readonly gitAllowProtocol: string;
  /** Which Gitee-shaped forge the proposals go to (its differences live in forge/profiles.ts). */
  readonly downstreamForge: ForgeName;
  /** Client-side budget of downstream requests per minute and per hour; null: no limit. */
  readonly downstreamRequestsPerMinute: number | null;
  readonly downstreamRequestsPerHour: number | null;
  /** Try each proposed patch on the package's own sources (%prep reproduced). */
  readonly applyCheck: boolean;
  /** Limits of one apply check: archive and unpacked megabytes, entries, seconds. */
  readonly applyCheckMaxArchiveMb: number;
  readonly applyCheckMaxUnpackedMb: number;
  readonly applyCheckMaxFiles: number;
  readonly applyCheckTimeout: number;
  /** Megabytes of package files kept under GIT_BASE_PATH/source-cache (least recently used go). */
  readonly sourceCacheMb: number;
  /** Outbound HTTP(S) proxy for every forge and git request; wins over HTTPS_PROXY/HTTP_PROXY. */
  readonly proxy: string | null;
  /** Hosts reached directly, added to the environment's NO_PROXY (`src/net/proxy.ts`). */
  readonly noProxy: string | null;
  /** Git upstream URLs whose heads are looked up at the same time, all hosts together. */
  readonly gitLookupConcurrency: number;
  /** Git upstream URLs of one host looked up at the same time (politeness toward that host). */
  readonly gitHostConcurrency: number;
}

export class SettingsError extends Error {
  constructor(
    readonly key: string | null,
    readonly problem: string,
  ) {
    super(key ? `${key}: ${problem}` : problem);
    this.name = "SettingsError";
  }
}

export interface ParsedSettings {
  readonly settings: Settings;
  /** Non-fatal remarks, e.g. unknown keys. */
  readonly warnings: readonly string[];
}

type RawValue = string | number | boolean;

interface KeySpec {
  readonly required: boolean;
  readonly describe: string;
}

/** Every key the service understands, in the order settings.conf.example documents them. */
export const SETTINGS_KEYS = {
  LISTEN: { required: true, describe: '"host:port" with an IPv4 host' },
  GITHUB_ACCESS_TOKEN: { required: true, describe: "GitHub personal access token" },
  GITEE_ACCESS_TOKEN: { required: true, describe: "Gitee personal access token" },
  SCAN_DB_INTERVAL: { required: true, describe: "seconds between scans, > 0" },
  USER: { required: true, describe: "admin user name, at most 32 characters" },
  PASSWORD: { required: true, describe: "hash of the admin password (generate_password)" },
  GITHUB_API_URL: { required: false, describe: "GitHub REST API base URL" },
  GITEE_API_URL: { required: false, describe: "Gitee v5 API base URL" },
  DATABASE_PATH: { required: false, describe: "SQLite database file" },
  GIT_BASE_PATH: { required: false, describe: "folder for git mirrors" },
  CERT_FILE: { required: false, describe: "TLS certificate (PEM)" },
  KEY_FILE: { required: false, describe: "TLS private key (PEM)" },
  SCAN_CONCURRENCY: { required: false, describe: "trackings scanned at once" },
  PLAIN_HTTP: { required: false, describe: "serve HTTP instead of HTTPS (loopback only)" },
  LOG_LEVEL: { required: false, describe: "debug, info, warn or error" },
  GITEE_TOKEN_IN_QUERY: { required: false, describe: "send the Gitee token as access_token" },
  REQUEST_TIMEOUT: { required: false, describe: "seconds per forge request" },
  GIT_TIMEOUT: { required: false, describe: "seconds per git command" },
  GIT_ALLOW_PROTOCOL: { required: false, describe: "transports for git upstreams, e.g. https:ssh" },
  PROPOSALS: { required: false, describe: '"rolling" (one open proposal) or "per-batch"' },
  DOWNSTREAM_FORGE: { required: false, describe: '"gitee" or "gitcode"' },
  DOWNSTREAM_REQUESTS_PER_MINUTE: {
    required: false,
    describe: "downstream requests per minute, 0 for no limit",
  },
  DOWNSTREAM_REQUESTS_PER_HOUR: {
    required: false,
    describe: "downstream requests per hour, 0 for no limit",
  },
  APPLY_CHECK: { required: false, describe: "try each patch on the package's sources" },
  APPLY_CHECK_MAX_ARCHIVE_MB: { required: false, describe: "largest archive checked, MB" },
  APPLY_CHECK_MAX_UNPACKED_MB: { required: false, describe: "largest unpacked archive, MB" },
  APPLY_CHECK_MAX_FILES: { required: false, describe: "most entries in an archive" },
  APPLY_CHECK_TIMEOUT: { required: false, describe: "seconds per apply check" },
  SOURCE_CACHE_MB: { required: false, describe: "size cap of the package file cache, MB" },
  PROXY: { required: false, describe: 'outbound proxy, e.g. "http://proxy.example.com:3128"' },
  NO_PROXY: { required: false, describe: "hosts reached without the proxy, comma-separated" },
  GIT_LOOKUP_CONCURRENCY: { required: false, describe: "git upstream URLs looked up at once" },
  GIT_HOST_CONCURRENCY: { required: false, describe: "git upstream URLs of one host at once" },
} as const satisfies Readonly<Record<string, KeySpec>>;

/** A key settings.conf may hold. */
export type SettingsKey = keyof typeof SETTINGS_KEYS;

export const DEFAULTS = {
  GITHUB_API_URL: "https://api.github.com",
  GITEE_API_URL: "https://gitee.com/api/v5",
  DATABASE_PATH: "/var/patch-tracking/db.sqlite",
  GIT_BASE_PATH: "/var/patch-tracking/git",
  CERT_FILE: "/etc/patch-tracking/self-signed.crt",
  KEY_FILE: "/etc/patch-tracking/self-signed.key",
  SCAN_CONCURRENCY: 4,
  PLAIN_HTTP: false,
  LOG_LEVEL: "info" as LogLevel,
  GITEE_TOKEN_IN_QUERY: false,
  REQUEST_TIMEOUT: 30,
  GIT_TIMEOUT: 600,
  GIT_ALLOW_PROTOCOL: DEFAULT_GIT_ALLOW_PROTOCOL,
  PROPOSALS: "rolling",
  APPLY_CHECK: true,
  APPLY_CHECK_MAX_ARCHIVE_MB: 500,
  APPLY_CHECK_MAX_UNPACKED_MB: 4096,
  APPLY_CHECK_MAX_FILES: 300_000,
  APPLY_CHECK_TIMEOUT: 300,
  SOURCE_CACHE_MB: 2048,
  GIT_LOOKUP_CONCURRENCY: 32,
  GIT_HOST_CONCURRENCY: 8,
} as const;

const ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/;

/** Reads one Python literal (string, number, boolean) and returns it with the unread rest. */
function readLiteral(text: string): { value: RawValue; rest: string } | null {
  const quote = text[0];
  if (quote === '"' || quote === "'") {
    let out = "";
    for (let i = 1; i < text.length; i++) {
      const ch = text[i] as string;
      if (ch === "\\" && i + 1 < text.length) {
        const next = text[++i] as string;
        const escapes: Record<string, string> = { n: "\n", t: "\t", r: "\r", "\\": "\\" };
        out += escapes[next] ?? (next === quote ? next : `\\${next}`);
        continue;
      }
      if (ch === quote) return { value: out, rest: text.slice(i + 1) };
      out += ch;
    }
    return null;
  }
  const word = /^[^\s#]+/.exec(text)?.[0];
  if (!word) return null;
  const rest = text.slice(word.length);
  if (word === "True") return { value: true, rest };
  if (word === "False") return { value: false, rest };
  if (/^[+-]?\d+(\.\d+)?$/.test(word)) return { value: Number(word), rest };
  return null;
}

/** Splits settings.conf text into raw key/value pairs; throws on lines Python would reject. */
export function parseAssignments(text: string): Map<string, RawValue> {
  const values = new Map<string, RawValue>();
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  lines.forEach((line, index) => {
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) return;
    const where = `line ${index + 1}`;
    const match = ASSIGNMENT.exec(trimmed);
    if (!match) throw new SettingsError(null, `syntax error on ${where}: expected KEY = value`);
    const [, key = "", valueText = ""] = match;
    const literal = readLiteral(valueText.trim());
    const rest = literal?.rest.trim() ?? "";
    if (!literal || (rest !== "" && !rest.startsWith("#"))) {
      throw new SettingsError(
        key,
        `syntax error on ${where}: the value must be a quoted string, a number, True or False`,
      );
    }
    values.set(key, literal.value);
  });
  return values;
}

function text(values: Map<string, RawValue>, key: string): string | undefined {
  const value = values.get(key);
  if (value === undefined) return undefined;
  return String(value).trim();
}

function requireText(values: Map<string, RawValue>, key: string): string {
  const value = text(values, key);
  if (value === undefined) throw new SettingsError(key, "missing; it is required");
  if (value === "") throw new SettingsError(key, "is empty; it needs a value");
  return value;
}

function optionalText(values: Map<string, RawValue>, key: string, fallback: string): string {
  const value = text(values, key);
  if (value === undefined) return fallback;
  if (value === "") throw new SettingsError(key, "is empty; remove the line to use the default");
  return value;
}

function positiveNumber(
  values: Map<string, RawValue>,
  key: string,
  fallback: number | undefined,
  integer: boolean,
): number {
  const raw = values.get(key);
  if (raw === undefined) {
    if (fallback === undefined) throw new SettingsError(key, "missing; it is required");
    return fallback;
  }
  const value = typeof raw === "number" ? raw : Number(String(raw).trim());
  if (typeof raw === "boolean" || String(raw).trim() === "" || !Number.isFinite(value)) {
    throw new SettingsError(key, `must be a number, got ${JSON.stringify(raw)}`);
  }
  if (value <= 0) throw new SettingsError(key, `must be greater than zero, got ${value}`);
  if (integer && !Number.isInteger(value)) {
    throw new SettingsError(key, `must be a whole number, got ${value}`);
  }
  return value;
}

/** A request budget: a whole number, 0 meaning "no limit"; absent → the forge's published one. */
function budget(
  values: Map<string, RawValue>,
  key: string,
  fallback: number | null,
): number | null {
  const raw = values.get(key);
  if (raw === undefined) return fallback;
  const value = typeof raw === "number" ? raw : Number(String(raw).trim());
  if (
    typeof raw === "boolean" ||
    String(raw).trim() === "" ||
    !Number.isInteger(value) ||
    value < 0
  ) {
    throw new SettingsError(
      key,
      `must be a whole number of requests (0 for no limit), got ${JSON.stringify(raw)}`,
    );
  }
  return value === 0 ? null : value;
}

function downstreamForge(values: Map<string, RawValue>): ForgeName {
  const value = optionalText(values, "DOWNSTREAM_FORGE", "gitee").toLowerCase();
  if (isForgeName(value)) return value;
  throw new SettingsError(
    "DOWNSTREAM_FORGE",
    `must be one of ${FORGE_NAMES.map((name) => `"${name}"`).join(", ")}, got ${JSON.stringify(value)}`,
  );
}

function flag(values: Map<string, RawValue>, key: string, fallback: boolean): boolean {
  const raw = values.get(key);
  if (raw === undefined) return fallback;
  if (typeof raw === "boolean") return raw;
  const word = String(raw).trim().toLowerCase();
  if (["true", "1", "yes", "on"].includes(word)) return true;
  if (["false", "0", "no", "off"].includes(word)) return false;
  throw new SettingsError(key, `must be True or False, got ${JSON.stringify(raw)}`);
}

function apiUrl(values: Map<string, RawValue>, key: string, fallback: string): string {
  const value = optionalText(values, key, fallback);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new SettingsError(key, `is not a URL: ${JSON.stringify(value)}`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new SettingsError(key, `must be an http(s) URL, got ${JSON.stringify(value)}`);
  }
  return value.replace(/\/+$/, "");
}

function proposalMode(values: Map<string, RawValue>): "rolling" | "per-batch" {
  const value = optionalText(values, "PROPOSALS", DEFAULTS.PROPOSALS).toLowerCase();
  if (value === "rolling" || value === "per-batch") return value;
  throw new SettingsError(
    "PROPOSALS",
    `must be "rolling" (new commits join the open pull request) or "per-batch" (one pull request per scan), got ${JSON.stringify(value)}`,
  );
}

function proxySetting(values: Map<string, RawValue>): string | null {
  const value = optionalText(values, "PROXY", "");
  if (value === "") return null;
  try {
    return parseProxyUrl(value, "PROXY");
  } catch (error) {
    if (error instanceof ProxySettingError) throw new SettingsError("PROXY", error.problem);
    throw error;
  }
}

function protocols(values: Map<string, RawValue>): string {
  const value = optionalText(values, "GIT_ALLOW_PROTOCOL", DEFAULTS.GIT_ALLOW_PROTOCOL);
  const names = value.split(":");
  const bad = names.find(
    (name) => !/^[a-z][a-z0-9+.-]*$/.test(name) || name === "ext" || name === "fd",
  );
  if (bad !== undefined) {
    throw new SettingsError(
      "GIT_ALLOW_PROTOCOL",
      `must be transports separated by ':' (e.g. "https:ssh"); ${JSON.stringify(bad)} is not allowed`,
    );
  }
  return value;
}

export function parseListen(value: string): { host: string; port: number } {
  const parts = value.split(":");
  if (parts.length !== 2) {
    throw new SettingsError("LISTEN", `must be "host:port", got ${JSON.stringify(value)}`);
  }
  const [host = "", portText = ""] = parts;
  if (!isIPv4(host)) {
    throw new SettingsError("LISTEN", `host must be an IPv4 address, got ${JSON.stringify(host)}`);
  }
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) {
    throw new SettingsError("LISTEN", `port must be 1-65535, got ${JSON.stringify(portText)}`);
  }
  return { host, port };
}

export function isLoopback(host: string): boolean {
  return host.startsWith("127.") || host === "::1" || host === "localhost";
}

/** Parses and validates settings.conf text. Throws `SettingsError` naming the offending key. */
export function parseSettings(source: string): ParsedSettings {
  const values = parseAssignments(source);
  const warnings: string[] = [];
  for (const key of values.keys()) {
    if (!(key in SETTINGS_KEYS)) warnings.push(`unknown key ${key} ignored`);
  }

  const listen = parseListen(requireText(values, "LISTEN"));
  const githubAccessToken = requireText(values, "GITHUB_ACCESS_TOKEN");
  const giteeAccessToken = requireText(values, "GITEE_ACCESS_TOKEN");
  const scanDbInterval = positiveNumber(values, "SCAN_DB_INTERVAL", undefined, false);
  const user = requireText(values, "USER");
  if (user.length > 32) {
    throw new SettingsError("USER", `is ${user.length} characters long; at most 32 are allowed`);
  }
  const passwordHash = requireText(values, "PASSWORD");
  const hashProblem = describeHashProblem(passwordHash);
  if (hashProblem) throw new SettingsError("PASSWORD", hashProblem);

  const logLevelText = optionalText(values, "LOG_LEVEL", DEFAULTS.LOG_LEVEL).toLowerCase();
  if (!isLogLevel(logLevelText)) {
    throw new SettingsError("LOG_LEVEL", `must be debug, info, warn or error, got ${logLevelText}`);
  }

  const plainHttp = flag(values, "PLAIN_HTTP", DEFAULTS.PLAIN_HTTP);
  if (plainHttp && !isLoopback(listen.host)) {
    throw new SettingsError(
      "PLAIN_HTTP",
      `plain HTTP is only allowed on a loopback address, but LISTEN is ${listen.host}`,
    );
  }

  const forge = FORGE_PROFILES[downstreamForge(values)];
  const settings: Settings = {
    listen,
    githubAccessToken,
    giteeAccessToken,
    scanDbInterval,
    user,
    passwordHash,
    githubApiUrl: apiUrl(values, "GITHUB_API_URL", DEFAULTS.GITHUB_API_URL),
    giteeApiUrl: apiUrl(values, "GITEE_API_URL", forge.defaultApiUrl),
    databasePath: optionalText(values, "DATABASE_PATH", DEFAULTS.DATABASE_PATH),
    gitBasePath: optionalText(values, "GIT_BASE_PATH", DEFAULTS.GIT_BASE_PATH),
    certFile: optionalText(values, "CERT_FILE", DEFAULTS.CERT_FILE),
    keyFile: optionalText(values, "KEY_FILE", DEFAULTS.KEY_FILE),
    scanConcurrency: positiveNumber(values, "SCAN_CONCURRENCY", DEFAULTS.SCAN_CONCURRENCY, true),
    plainHttp,
    logLevel: logLevelText,
    giteeTokenInQuery: flag(values, "GITEE_TOKEN_IN_QUERY", DEFAULTS.GITEE_TOKEN_IN_QUERY),
    requestTimeout: positiveNumber(values, "REQUEST_TIMEOUT", DEFAULTS.REQUEST_TIMEOUT, false),
    gitTimeout: positiveNumber(values, "GIT_TIMEOUT", DEFAULTS.GIT_TIMEOUT, false),
    gitAllowProtocol: protocols(values),
    proposals: proposalMode(values),
    downstreamForge: forge.name,
    downstreamRequestsPerMinute: budget(
      values,
      "DOWNSTREAM_REQUESTS_PER_MINUTE",
      forge.budget.perMinute,
    ),
    downstreamRequestsPerHour: budget(values, "DOWNSTREAM_REQUESTS_PER_HOUR", forge.budget.perHour),
    applyCheck: flag(values, "APPLY_CHECK", DEFAULTS.APPLY_CHECK),
    applyCheckMaxArchiveMb: positiveNumber(
      values,
      "APPLY_CHECK_MAX_ARCHIVE_MB",
      DEFAULTS.APPLY_CHECK_MAX_ARCHIVE_MB,
      false,
    ),
    applyCheckMaxUnpackedMb: positiveNumber(
      values,
      "APPLY_CHECK_MAX_UNPACKED_MB",
      DEFAULTS.APPLY_CHECK_MAX_UNPACKED_MB,
      false,
    ),
    applyCheckMaxFiles: positiveNumber(
      values,
      "APPLY_CHECK_MAX_FILES",
      DEFAULTS.APPLY_CHECK_MAX_FILES,
      true,
    ),
    applyCheckTimeout: positiveNumber(
      values,
      "APPLY_CHECK_TIMEOUT",
      DEFAULTS.APPLY_CHECK_TIMEOUT,
      false,
    ),
    sourceCacheMb: positiveNumber(values, "SOURCE_CACHE_MB", DEFAULTS.SOURCE_CACHE_MB, false),
    proxy: proxySetting(values),
    noProxy: optionalText(values, "NO_PROXY", "") || null,
    gitLookupConcurrency: positiveNumber(
      values,
      "GIT_LOOKUP_CONCURRENCY",
      DEFAULTS.GIT_LOOKUP_CONCURRENCY,
      true,
    ),
    gitHostConcurrency: positiveNumber(
      values,
      "GIT_HOST_CONCURRENCY",
      DEFAULTS.GIT_HOST_CONCURRENCY,
      true,
    ),
  };
  return { settings: Object.freeze(settings), warnings };
}

/** Which settings file to use: `--config` beats the environment, which beats the default. */
export function resolveSettingsPath(
  flagValue: string | undefined,
  env: Record<string, string | undefined> = process.env,
): string {
  return flagValue ?? env[SETTINGS_PATH_ENV] ?? DEFAULT_SETTINGS_PATH;
}

/** Reads and parses a settings file; file problems become `SettingsError`s too. */
export async function loadSettingsFile(path: string): Promise<ParsedSettings> {
  let source: string;
  try {
    source = await Bun.file(path).text();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "does not exist" : `cannot be read (${code ?? error})`;
    throw new SettingsError(null, `settings file ${path} ${why}`);
  }
  try {
    return parseSettings(source);
  } catch (error) {
    if (error instanceof SettingsError) {
      throw new SettingsError(error.key, `${error.problem} (in ${path})`);
    }
    throw error;
  }
}
