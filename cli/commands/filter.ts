/**
 * `filter --repo R --branch B [--message REGEX] [--include-path GLOB]... [--exclude-path GLOB]...
 * [--clear]`: shows a tracking's backport filters, or replaces them (PUT /tracking/filters).
 * Without filter flags it only shows them, and needs no password.
 */

import { describeFilters, parseFilters, type TrackingFilters } from "../../src/scan/filters.ts";
import {
  type AuthOptions,
  type ConnectionOptions,
  checkAuthOptions,
  openClient,
  openSignedInClient,
  Problems,
  prepareConnection,
} from "../connection.ts";
import { helpHint } from "../defaults.ts";
import { CliError } from "../errors.ts";
import { answerProblem } from "../http-client.ts";
import type { CliIo } from "../io.ts";
import { cellText, trackingName } from "../table.ts";

export interface FilterOptions extends ConnectionOptions, AuthOptions {
  repo?: string;
  branch?: string;
  message?: string;
  includePath?: string[];
  excludePath?: string[];
  clear?: boolean;
  json?: boolean;
}

const HINT = helpHint("filter");

/** The filters the flags ask for, or null when they only ask to show the stored ones. */
function requestedFilters(options: FilterOptions, problems: Problems): TrackingFilters | null {
  const given =
    options.message !== undefined ||
    options.includePath !== undefined ||
    options.excludePath !== undefined;
  if (options.clear) {
    if (given) problems.add("--clear removes every filter: give it without the filter flags");
    return {};
  }
  if (!given) return null;
  const parsed = parseFilters({
    message_pattern: options.message,
    include_paths: options.includePath,
    exclude_paths: options.excludePath,
  });
  if ("problem" in parsed) {
    const flag = {
      message_pattern: "--message",
      include_paths: "--include-path",
      exclude_paths: "--exclude-path",
    }[parsed.problem.field];
    problems.add(`${flag ?? parsed.problem.field}: ${parsed.problem.error}`);
    return null;
  }
  return parsed.filters;
}

function render(repo: string, branch: string, filters: TrackingFilters, verb: string): string {
  const described = describeFilters(filters);
  return `${verb} ${trackingName(repo, branch)}: ${described ? cellText(described) : "none (every commit is proposed)"}\n`;
}

export async function runFilter(options: FilterOptions, io: CliIo): Promise<number> {
  const problems = new Problems();
  problems.require("--server", options.server);
  problems.require("--repo", options.repo);
  problems.require("--branch", options.branch);
  const filters = requestedFilters(options, problems);
  if (filters) checkAuthOptions(options, io, problems);
  problems.throwIfAny(HINT);
  const repo = options.repo as string;
  const branch = options.branch as string;
  const connection = prepareConnection(options);
  const query = { repo, branch };
  const answer = filters
    ? await (await openSignedInClient(connection, options, io)).request(
        "PUT",
        "/tracking/filters",
        { query, json: filters, auth: true },
      )
    : await openClient(connection, io).request("GET", "/tracking/filters", { query });
  if (answer.code !== "2001") {
    throw new CliError(`filter failed: ${answerProblem(answer)}`, [
      "list the trackings with: patch-tracking-cli query --server SERVER --table tracking",
    ]);
  }
  const stored = (answer.data ?? {}) as TrackingFilters;
  if (options.json) io.out(`${JSON.stringify(stored, null, 2)}\n`);
  else io.out(render(repo, branch, stored, filters ? "filters saved for" : "filters of"));
  return 0;
}
