/** `delete --repo R [--branch B]`: remove one tracking, or every branch of a repository. */

import {
  type AuthOptions,
  type ConnectionOptions,
  checkAuthOptions,
  openClient,
  Problems,
  prepareConnection,
  resolveCredentials,
} from "../connection.ts";
import { helpHint } from "../defaults.ts";
import { CliError } from "../errors.ts";
import { answerProblem } from "../http-client.ts";
import type { CliIo } from "../io.ts";

export interface DeleteOptions extends ConnectionOptions, AuthOptions {
  repo?: string;
  branch?: string;
}

const HINT = helpHint("delete");

export async function runDelete(options: DeleteOptions, io: CliIo): Promise<number> {
  const problems = new Problems();
  problems.require("--server", options.server);
  checkAuthOptions(options, io, problems);
  problems.require("--repo", options.repo);
  if (options.branch === "") problems.missing.push("--branch (a branch name, or leave it out)");
  problems.throwIfAny(HINT);
  const connection = prepareConnection(options);
  const query = { repo: options.repo, branch: options.branch };
  const what = `repo ${options.repo}${options.branch !== undefined ? ` branch ${options.branch}` : ""}`;

  // Listed first (which also shows the service answers before a password is asked for), so the
  // result can say which trackings went; the DELETE alone decides.
  const listed = await openClient(connection, io).request("GET", "/tracking", { query });
  const rows = listed.code === "2001" && Array.isArray(listed.data) ? listed.data : [];
  const credentials = await resolveCredentials(options, io, connection.baseUrl);
  const client = openClient(connection, io, credentials);
  const answer = await client.request("DELETE", "/tracking", { query, auth: true });
  if (answer.code === "6005") {
    throw new CliError(`nothing deleted: there is no tracking for ${what}`, [
      "list them with: patch-tracking-cli query --server SERVER --table tracking",
    ]);
  }
  if (answer.code !== "2001") throw new CliError(`delete failed: ${answerProblem(answer)}`);
  const names = rows.map(
    (row: { repo?: unknown; branch?: unknown }) => `  ${row.repo} ${row.branch}`,
  );
  io.out(
    names.length > 0
      ? `deleted ${names.length} tracking${names.length === 1 ? "" : "s"}:\n${names.join("\n")}\n`
      : `deleted the tracking for ${what}\n`,
  );
  return 0;
}
