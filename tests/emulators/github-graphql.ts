/**
 * The one GraphQL query shape the service sends (GitHub docs §2.8 of forge-apis.md): aliased
 * `repository(owner:, name:) { ref(qualifiedName:) { target { oid } } }` fields plus an optional
 * `rateLimit { ... }`. Not a GraphQL parser: anything else is answered with an error entry, the
 * way GitHub answers a query it cannot run.
 */

export type RepoLookup = { found: false } | { found: true; oid: string | null };

export interface GraphqlContext {
  /** Finds `owner/name` and the commit `qualifiedName` points at (null: no such branch). */
  lookup(owner: string, name: string, qualifiedName: string): Promise<RepoLookup>;
  /** Rate-limit state after this query was charged. */
  rateLimit: { cost: number; limit: number; remaining: number; used: number; resetAt: number };
}

interface GraphqlError {
  type?: string;
  path?: string[];
  locations?: Array<{ line: number; column: number }>;
  message: string;
}

const REPOSITORY_FIELD =
  /([A-Za-z_][A-Za-z0-9_]*)\s*:\s*repository\s*\(([^)]*)\)\s*\{\s*ref\s*\(([^)]*)\)\s*\{\s*target\s*\{\s*oid\s*\}\s*\}\s*\}/g;
const RATE_LIMIT_FIELD = /(?:([A-Za-z_][A-Za-z0-9_]*)\s*:\s*)?rateLimit\s*\{([^}]*)\}/;

/** Reads `key: $var` / `key: "literal"` arguments. */
function readArguments(text: string, variables: Record<string, unknown>): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  for (const match of text.matchAll(/([A-Za-z_]\w*)\s*:\s*(\$[A-Za-z_]\w*|"(?:[^"\\]|\\.)*")/g)) {
    const [, key, raw] = match as unknown as [string, string, string];
    args[key] = raw.startsWith("$") ? variables[raw.slice(1)] : JSON.parse(raw);
  }
  return args;
}

function lineColumn(query: string, index: number): { line: number; column: number } {
  const before = query.slice(0, index).split("\n");
  return { line: before.length, column: (before.at(-1)?.length ?? 0) + 1 };
}

/** Runs the heads query; the result is the JSON body GitHub would send with status 200. */
export async function answerGraphql(body: unknown, context: GraphqlContext): Promise<unknown> {
  const request = (body ?? {}) as { query?: unknown; variables?: unknown };
  if (typeof request.query !== "string") {
    return { errors: [{ message: "A query attribute must be specified and must be a string." }] };
  }
  const query = request.query;
  const variables = (request.variables ?? {}) as Record<string, unknown>;
  const data: Record<string, unknown> = {};
  const errors: GraphqlError[] = [];
  let fields = 0;
  for (const match of query.matchAll(REPOSITORY_FIELD)) {
    fields++;
    const [, alias, repoArgs, refArgs] = match as unknown as [string, string, string, string];
    const { owner, name } = readArguments(repoArgs, variables);
    const { qualifiedName } = readArguments(refArgs, variables);
    if (
      typeof owner !== "string" ||
      typeof name !== "string" ||
      typeof qualifiedName !== "string"
    ) {
      errors.push({
        message: `Variable values for ${alias} must be non-null strings`,
        locations: [lineColumn(query, match.index)],
      });
      continue;
    }
    const found = await context.lookup(owner, name, qualifiedName);
    if (!found.found) {
      data[alias] = null;
      errors.push({
        type: "NOT_FOUND",
        path: [alias],
        locations: [lineColumn(query, match.index)],
        message: `Could not resolve to a Repository with the name '${owner}/${name}'.`,
      });
      continue;
    }
    data[alias] = { ref: found.oid === null ? null : { target: { oid: found.oid } } };
  }
  const rateLimit = RATE_LIMIT_FIELD.exec(query);
  if (rateLimit) {
    fields++;
    const wanted = (rateLimit[2] ?? "").split(/[\s,]+/).filter(Boolean);
    const values: Record<string, unknown> = {
      ...context.rateLimit,
      resetAt: new Date(context.rateLimit.resetAt).toISOString().replace(/\.\d{3}Z$/, "Z"),
    };
    data[rateLimit[1] ?? "rateLimit"] = Object.fromEntries(wanted.map((key) => [key, values[key]]));
  }
  if (fields === 0) {
    return {
      errors: [{ message: "The GitHub emulator only answers the branch-heads query shape." }],
    };
  }
  return errors.length > 0 ? { data, errors } : { data };
}
