/**
 * Structured logging: one JSON object per line on stdout, with a fixed message and fields, so
 * lines aggregate and can be filtered by `component`, `tracking` or `run`.
 *
 * Secrets never reach the output: keys that name credentials are replaced, and every string value
 * has registered secrets (the configured tokens) scrubbed from it, wherever they appear.
 */

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;

const LEVEL_RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SECRET_KEY = /token|password|authorization|secret|cookie/i;
const REDACTED = "[redacted]";

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger whose lines all carry `fields` (e.g. `{ component: "scan" }`). */
  child(fields: LogFields): Logger;
}

export interface LogSink {
  write(line: string): void;
}

interface LoggerState {
  level: LogLevel;
  sink: LogSink;
  secrets: string[];
}

export function isLogLevel(value: string): value is LogLevel {
  return value in LEVEL_RANK;
}

/** Replaces every registered secret inside `text`. */
export function redactText(text: string, secrets: readonly string[]): string {
  return scrub(
    text,
    secrets.filter((secret) => secret.length > 0),
  );
}

function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  }
  // Tokens can also travel in URLs (`access_token=...`) or headers built elsewhere.
  return out
    .replace(/(access_token=)[^&\s"']+/gi, `$1${REDACTED}`)
    .replace(/(authorization:\s*)(bearer|token|basic)\s+\S+/gi, `$1$2 ${REDACTED}`);
}

function clean(value: unknown, secrets: string[], depth = 0): unknown {
  if (typeof value === "string") return scrub(value, secrets);
  if (value instanceof Error) {
    return { name: value.name, message: scrub(value.message, secrets) };
  }
  if (value === null || typeof value !== "object" || depth > 4) return value;
  if (Array.isArray(value)) return value.map((item) => clean(item, secrets, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = SECRET_KEY.test(key) ? REDACTED : clean(item, secrets, depth + 1);
  }
  return out;
}

function makeLogger(state: LoggerState, bound: LogFields): Logger {
  const emit = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (LEVEL_RANK[level] < LEVEL_RANK[state.level]) return;
    const record = clean(
      { time: new Date().toISOString(), level, ...bound, msg, ...fields },
      state.secrets,
    );
    state.sink.write(`${JSON.stringify(record)}\n`);
  };
  return {
    debug: (msg, fields) => emit("debug", msg, fields),
    info: (msg, fields) => emit("info", msg, fields),
    warn: (msg, fields) => emit("warn", msg, fields),
    error: (msg, fields) => emit("error", msg, fields),
    child: (fields) => makeLogger(state, { ...bound, ...fields }),
  };
}

export interface RootLogger extends Logger {
  setLevel(level: LogLevel): void;
  /** Registers a value that must never appear in a log line (tokens). Short values are ignored. */
  addSecret(secret: string): void;
}

export function createLogger(
  options: { level?: LogLevel; sink?: LogSink; secrets?: string[] } = {},
): RootLogger {
  const state: LoggerState = {
    level: options.level ?? "info",
    sink: options.sink ?? { write: (line) => process.stdout.write(line) },
    secrets: [],
  };
  const root = makeLogger(state, {}) as RootLogger;
  root.setLevel = (level) => {
    state.level = level;
  };
  root.addSecret = (secret) => {
    // Very short values would redact ordinary words; real tokens are long.
    if (secret.length >= 8 && !state.secrets.includes(secret)) state.secrets.push(secret);
  };
  for (const secret of options.secrets ?? []) root.addSecret(secret);
  return root;
}

/** A logger that discards everything (tests that do not look at logs). */
export const silentLogger: Logger = createLogger({ sink: { write: () => {} } });
