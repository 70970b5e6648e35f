/**
 * Backport filters of one tracking: which upstream commits are worth proposing to a stable
 * branch. A commit is proposed only if it matches `message_pattern` (when set), touches at least
 * one path matching `include_paths` (when set) and at least one path not matching
 * `exclude_paths` (when set). The others are "passed over": no patch file, but `scm_commit`
 * moves past them.
 *
 * The pattern comes from the API and runs on the server, so it is compiled by RE2JS, whose
 * matching time is linear in the message: no pattern can make a scan hang (classic backtracking
 * engines take exponential time on `(a+)+$`). Its length and the number of globs are capped too.
 */
import { RE2JS } from "re2js";

/** The filters as stored and as the API shows them: every field optional, `{}` for none. */
export interface TrackingFilters {
  message_pattern?: string;
  include_paths?: string[];
  exclude_paths?: string[];
}

export const FILTER_FIELDS = ["message_pattern", "include_paths", "exclude_paths"] as const;
export type FilterField = (typeof FILTER_FIELDS)[number];

export const MAX_PATTERN_LENGTH = 512;
export const MAX_GLOBS = 64;
export const MAX_GLOB_LENGTH = 256;

export interface FilterProblem {
  field: string;
  error: string;
}

/** Compiles a message pattern: multiline, so `^Fixes:` finds a trailer on any line. */
function compilePattern(pattern: string): RE2JS {
  return RE2JS.compile(pattern, RE2JS.MULTILINE);
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Why `glob` cannot be used as a path glob, or null when it can. */
export function globProblem(glob: string): string | null {
  if (glob === "") return "is empty";
  if (glob.length > MAX_GLOB_LENGTH) return `is longer than ${MAX_GLOB_LENGTH} characters`;
  if (CONTROL.test(glob)) return "contains control characters";
  if (glob.startsWith("/")) return "must be relative to the repository root (no leading /)";
  let square = 0;
  let curly = 0;
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i];
    if (char === "\\") {
      i++;
      continue;
    }
    if (char === "[") square++;
    else if (char === "]" && square > 0) square--;
    else if (char === "{") curly++;
    else if (char === "}") {
      if (curly === 0) return "has a } without {";
      curly--;
    }
  }
  if (square > 0) return "has a [ without ]";
  if (curly > 0) return "has a { without }";
  return null;
}

/**
 * The filters in `input` (a parsed JSON body or yaml value) checked and normalised, or the first
 * problem naming the field. Unknown fields are refused so a typo never silently means "no filter".
 */
export function parseFilters(
  input: unknown,
): { filters: TrackingFilters } | { problem: FilterProblem } {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return { problem: { field: "filters", error: "the filters must be a JSON object" } };
  }
  const record = input as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!(FILTER_FIELDS as readonly string[]).includes(key)) {
      return {
        problem: {
          field: key,
          error: `unknown filter ${key} (known: ${FILTER_FIELDS.join(", ")})`,
        },
      };
    }
  }
  const filters: TrackingFilters = {};
  const pattern = record.message_pattern;
  if (pattern !== undefined && pattern !== null) {
    if (typeof pattern !== "string" || pattern === "") {
      return {
        problem: { field: "message_pattern", error: "message_pattern must be a non-empty string" },
      };
    }
    if (pattern.length > MAX_PATTERN_LENGTH) {
      return {
        problem: {
          field: "message_pattern",
          error: `message_pattern is longer than ${MAX_PATTERN_LENGTH} characters`,
        },
      };
    }
    try {
      compilePattern(pattern);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return {
        problem: {
          field: "message_pattern",
          error: `message_pattern is not a valid regular expression (RE2 syntax: no look-around or back-references): ${reason}`,
        },
      };
    }
    filters.message_pattern = pattern;
  }
  for (const field of ["include_paths", "exclude_paths"] as const) {
    const value = record[field];
    if (value === undefined || value === null) continue;
    const list = typeof value === "string" ? [value] : value;
    if (!Array.isArray(list) || list.some((glob) => typeof glob !== "string")) {
      return { problem: { field, error: `${field} must be a list of glob strings` } };
    }
    if (list.length > MAX_GLOBS) {
      return { problem: { field, error: `${field} holds more than ${MAX_GLOBS} globs` } };
    }
    for (const glob of list as string[]) {
      const problem = globProblem(glob);
      if (problem) {
        return { problem: { field, error: `${field}: glob ${JSON.stringify(glob)} ${problem}` } };
      }
    }
    if (list.length > 0) filters[field] = [...new Set(list as string[])];
  }
  return { filters };
}

export function hasFilters(filters: TrackingFilters): boolean {
  return FILTER_FIELDS.some((field) => filters[field] !== undefined);
}

/** One line for people: `message_pattern /^Fixes:/, include_paths src/**`; "" for none. */
export function describeFilters(filters: TrackingFilters): string {
  const parts: string[] = [];
  if (filters.message_pattern) parts.push(`message_pattern /${filters.message_pattern}/`);
  if (filters.include_paths?.length) parts.push(`include_paths ${filters.include_paths.join(" ")}`);
  if (filters.exclude_paths?.length) parts.push(`exclude_paths ${filters.exclude_paths.join(" ")}`);
  return parts.join(", ");
}

/** What a filter needs to know of a commit. */
export interface FilterableCommit {
  readonly message: string;
  readonly patch: Uint8Array;
}

/** Decides, commit by commit, whether a commit is proposed or passed over (and why). */
export interface CommitFilter {
  /** Null when the commit is proposed; otherwise the reason, e.g. `passed over: message_pattern`. */
  verdict(commit: FilterableCommit): string | null;
}

export const PASSED_OVER = "passed over";

/** `passed over: <filter>` — the verdict word of the issue table and the dry run. */
export function passedOverVerdict(filter: FilterField): string {
  return `${PASSED_OVER}: ${filter}`;
}

export function isPassedOver(verdict: string | null | undefined): boolean {
  return verdict?.startsWith(`${PASSED_OVER}:`) ?? false;
}

export function compileFilters(filters: TrackingFilters): CommitFilter {
  const pattern = filters.message_pattern ? compilePattern(filters.message_pattern) : null;
  const include = filters.include_paths?.map((glob) => new Bun.Glob(glob)) ?? null;
  const exclude = filters.exclude_paths?.map((glob) => new Bun.Glob(glob)) ?? null;
  return {
    verdict(commit) {
      if (pattern && !pattern.matcher(commit.message).find()) {
        return passedOverVerdict("message_pattern");
      }
      if (!include && !exclude) return null;
      const paths = touchedPaths(commit.patch);
      if (include && !paths.some((path) => include.some((glob) => glob.match(path)))) {
        return passedOverVerdict("include_paths");
      }
      if (exclude && !paths.some((path) => !exclude.some((glob) => glob.match(path)))) {
        return passedOverVerdict("exclude_paths");
      }
      return null;
    },
  };
}

/** Undoes git's C-style quoting of a path (`"a\tb"`, octal escapes for non-ASCII bytes). */
function unquote(path: string): string {
  if (!path.startsWith('"') || !path.endsWith('"')) return path;
  const bytes: number[] = [];
  const body = path.slice(1, -1);
  const encoder = new TextEncoder();
  const simple: Record<string, number> = {
    n: 10,
    t: 9,
    '"': 34,
    "\\": 92,
    a: 7,
    b: 8,
    f: 12,
    r: 13,
    v: 11,
  };
  for (let i = 0; i < body.length; i++) {
    const char = body[i] as string;
    if (char !== "\\") {
      bytes.push(...encoder.encode(char));
      continue;
    }
    const next = body[i + 1] ?? "";
    if (/[0-7]/.test(next)) {
      bytes.push(Number.parseInt(body.slice(i + 1, i + 4), 8));
      i += 3;
    } else {
      bytes.push(simple[next] ?? next.charCodeAt(0));
      i++;
    }
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

/**
 * The paths a patch in `git format-patch` form changes (both sides of a rename), read from the
 * `---`/`+++` headers and git's extended headers. Lines are only read from the first
 * `diff --git` on, so a commit message cannot pretend to touch a path.
 */
export function touchedPaths(patch: Uint8Array): string[] {
  const text = new TextDecoder().decode(patch);
  const start = text.search(/^diff --git /m);
  if (start < 0) return [];
  const paths = new Set<string>();
  let fromHeader: string | null = null;
  for (const line of text.slice(start).split("\n")) {
    if (line.startsWith("diff --git ")) {
      // For a mode change or a binary file there are no ---/+++ lines: both names are the same,
      // so the header splits in the middle.
      const rest = line.slice("diff --git ".length);
      const half = (rest.length - 1) / 2;
      if (Number.isInteger(half) && rest[half] === " ") {
        const a = unquote(rest.slice(0, half));
        const b = unquote(rest.slice(half + 1));
        if (a.slice(2) === b.slice(2) && a.startsWith("a/")) fromHeader = a.slice(2);
      }
      if (fromHeader) paths.add(fromHeader);
      fromHeader = null;
      continue;
    }
    const match = /^(?:--- a\/|\+\+\+ b\/|rename from |rename to |copy from |copy to )(.*)$/.exec(
      line,
    );
    if (match?.[1]) paths.add(unquote(match[1].replace(/\t$/, "")));
    else if (/^(?:--- |\+\+\+ )"[ab]\//.test(line)) {
      paths.add(unquote(line.slice(4)).slice(2));
    }
  }
  return [...paths];
}
