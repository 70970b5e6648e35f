/** `query --table tracking|issue`: the rows as an aligned table numbered from 1, or `--json`. */

import { type ConnectionOptions, openClient, Problems, prepareConnection } from "../connection.ts";
import { helpHint } from "../defaults.ts";
import { CliError } from "../errors.ts";
import { answerProblem } from "../http-client.ts";
import type { CliIo } from "../io.ts";
import { renderTable } from "../table.ts";

export const TABLES = ["tracking", "issue"] as const;
export type Table = (typeof TABLES)[number];

export interface QueryOptions extends ConnectionOptions {
  table?: string;
  repo?: string;
  branch?: string;
  json?: boolean;
}

const HINT = helpHint("query");

export async function runQuery(options: QueryOptions, io: CliIo): Promise<number> {
  const problems = new Problems();
  problems.require("--server", options.server);
  problems.require("--table", options.table);
  if (options.table && !(TABLES as readonly string[]).includes(options.table)) {
    problems.add(
      `--table: invalid value ${JSON.stringify(options.table)} (choose from ${TABLES.join(", ")})`,
    );
  }
  problems.throwIfAny(HINT);
  const table = options.table as Table;
  const client = openClient(prepareConnection(options), io);
  const answer = await client.request("GET", `/${table}`, {
    query: { repo: options.repo, branch: options.branch },
  });
  if (answer.code !== "2001") throw new CliError(`query failed: ${answerProblem(answer)}`);
  if (!Array.isArray(answer.data)) {
    throw new CliError(
      `query failed: the service sent ${typeof answer.data} instead of a list of rows`,
    );
  }
  const rows = answer.data as Record<string, unknown>[];
  if (options.json) {
    io.out(`${JSON.stringify(rows, null, 2)}\n`);
    return 0;
  }
  if (rows.length === 0) {
    const filter = [
      options.repo !== undefined ? `repo ${options.repo}` : "",
      options.branch !== undefined ? `branch ${options.branch}` : "",
    ].filter(Boolean);
    io.out(
      `no rows: table ${table} ${filter.length > 0 ? `has nothing for ${filter.join(", ")}` : "is empty"}\n`,
    );
    return 0;
  }
  io.out(renderTable(rows));
  return 0;
}
