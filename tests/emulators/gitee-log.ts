/**
 * The Gitee emulator's request log and the assertion over it: after a scenario, a test states
 * which calls it expected, and any unexpected or missing call fails it (the way Renovate's
 * http-mock checks its mocks after each test).
 */

/** `private-token`: the `PRIVATE-TOKEN` header of GitCode mode. */
export type TokenCarrier = "header" | "private-token" | "query" | "body";

export interface RequestRecord {
  method: string;
  /** Percent-decoded path below the API base, e.g. `/repos/o/r/branches/patch-tracking/1`. */
  path: string;
  /** The same path as received (still percent-encoded). */
  rawPath: string;
  /** Query parameters, without `access_token`. */
  query: Record<string, string>;
  /** Parsed JSON or form body without `access_token`; null when there was none. */
  body: unknown;
  /** Where the client put its token, if anywhere. */
  tokenVia: TokenCarrier | null;
  /** The status the client received; 0 when the connection was dropped. */
  status: number;
  /** For `afterWrite` faults: the status of the work that was done before the failure. */
  handledStatus?: number;
  /** Kind of the fault applied, e.g. `drop`, `status:502`, `afterWrite`. */
  fault?: string;
  /** Epoch milliseconds when the request arrived. */
  time: number;
}

/** `[method, path]`; a string path matches exactly, `*` standing for any characters. */
export type ExpectedRequest = [method: string, path: string | RegExp];

export interface ExpectOptions {
  /** Compare only non-GET requests. */
  writesOnly?: boolean;
  /** Require the same order (default); when false, any order of the same calls passes. */
  ordered?: boolean;
}

function globToRegExp(pattern: string): RegExp {
  const escaped = pattern.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp(`^${escaped.join(".*")}$`);
}

function matches([method, path]: ExpectedRequest, record: RequestRecord): boolean {
  if (method !== "*" && method.toUpperCase() !== record.method) return false;
  const pattern = typeof path === "string" ? globToRegExp(path) : path;
  return pattern.test(record.path);
}

function describe(record: RequestRecord): string {
  return `${record.method} ${record.path} → ${record.status}`;
}

function describeExpected([method, path]: ExpectedRequest): string {
  return `${method.toUpperCase()} ${String(path)}`;
}

/**
 * Compares the log with the expected calls. Returns null when they agree, otherwise a report
 * listing the unexpected and the missing calls next to everything received.
 */
export function compareRequests(
  records: RequestRecord[],
  expected: ExpectedRequest[],
  options: ExpectOptions = {},
): string | null {
  const seen = options.writesOnly ? records.filter((record) => record.method !== "GET") : records;
  const unexpected: RequestRecord[] = [];
  const missing: ExpectedRequest[] = [];
  if (options.ordered ?? true) {
    const length = Math.max(seen.length, expected.length);
    for (let i = 0; i < length; i++) {
      const record = seen[i];
      const want = expected[i];
      if (record && want && matches(want, record)) continue;
      if (record) unexpected.push(record);
      if (want) missing.push(want);
    }
  } else {
    const left = [...seen];
    for (const want of expected) {
      const index = left.findIndex((record) => matches(want, record));
      if (index === -1) missing.push(want);
      else left.splice(index, 1);
    }
    unexpected.push(...left);
  }
  if (unexpected.length === 0 && missing.length === 0) return null;
  return [
    "gitee emulator: the requests differ from the expected ones",
    ...unexpected.map((record) => `  unexpected: ${describe(record)}`),
    ...missing.map((want) => `  missing:    ${describeExpected(want)}`),
    "received, in order:",
    ...seen.map((record) => `  ${describe(record)}`),
  ].join("\n");
}
