/**
 * `scan --repo R [--branch B]`: scan those trackings now and say what came of each. The service
 * answers only when the scans are done, so progress is shown on stderr meanwhile.
 */

import type { TrackingOverview } from "../../src/db/status.ts";
import type { ScanResult } from "../../src/scan/scan-tracking.ts";
import {
  type AuthOptions,
  type ConnectionOptions,
  checkAuthOptions,
  openSignedInClient,
  Problems,
  prepareConnection,
} from "../connection.ts";
import { helpHint } from "../defaults.ts";
import { CliError } from "../errors.ts";
import { type ApiAnswer, type ApiClient, answerProblem } from "../http-client.ts";
import type { CliIo } from "../io.ts";
import { startProgress } from "../progress.ts";
import { cellText, trackingName } from "../table.ts";

export interface ScanOptions extends ConnectionOptions, AuthOptions {
  repo?: string;
  branch?: string;
}

const HINT = helpHint("scan");
/** A scan that publishes many patches to a slow forge can take minutes; the service answers then. */
const SCAN_TIMEOUT_MS = 30 * 60_000;
/** Outcomes that leave the tracking where it was: the command then exits 1. */
const UNSUCCESSFUL = new Set(["failed", "diverged", "parked"]);

type NewestRun = NonNullable<TrackingOverview["lastRun"]>;

function reference(kind: string, number: string | number | null, url: string | null): string {
  const name = `${kind} #${number ?? "?"}`;
  return url ? `${name} ${url}` : name;
}

/** One line per tracking; `newest` is its newest finished run (for proposals). */
export function describeResult(result: ScanResult, newest: NewestRun | null): string {
  const name = trackingName(result.repo, result.branch);
  // Errors may quote forge or upstream answers: no control characters on the terminal.
  const error = cellText(result.error ?? "no reason given");
  switch (result.outcome) {
    case "unchanged":
      return `${name}: up to date`;
    case "started":
      return `${name}: started: the upstream head was recorded; later commits will be proposed`;
    case "skipped-empty":
      return `${name}: only empty upstream commits arrived: nothing proposed, skipped past them`;
    case "passed-over":
      return `${name}: every new upstream commit is already carried by the package or passed over by its filters: nothing proposed, skipped past them`;
    case "proposed": {
      const runs = result.runs > 1 ? ` in ${result.runs} runs, the newest` : "";
      const links = newest
        ? `${reference("issue", newest.issueNumber, newest.issueUrl)}, ${reference("pull request", newest.pullNumber, newest.pullUrl)}`
        : "see patch-tracking-cli status";
      return `${name}: proposed${runs}: ${links}`;
    }
    case "diverged":
      return `${name}: diverged: ${error} (nothing proposed; give the tracking a new --scm_commit with add)`;
    case "parked":
      return `${name}: not scanned: ${error} (the service scans it after the limit resets)`;
    case "failed":
      return `${name}: failed: ${error}${result.retryable ? " (looks transient: the service retries it soon)" : ""}`;
    default:
      return `${name}: ${cellText(result.outcome)}${result.error ? `: ${error}` : ""}`;
  }
}

/** The newest finished run of a tracking, from the status endpoint (for the issue and PR links). */
async function newestRun(client: ApiClient, repo: string, branch: string) {
  const answer = await client.request("GET", "/tracking/status", { query: { repo, branch } });
  const data = answer.data as { trackings?: TrackingOverview[] } | null;
  return data?.trackings?.[0]?.lastRun ?? null;
}

export async function runScan(options: ScanOptions, io: CliIo): Promise<number> {
  const problems = new Problems();
  problems.require("--server", options.server);
  checkAuthOptions(options, io, problems);
  problems.require("--repo", options.repo);
  if (options.branch === "") problems.missing.push("--branch (a branch name, or leave it out)");
  problems.throwIfAny(HINT);
  const repo = options.repo as string;
  const connection = prepareConnection(options);
  const client = await openSignedInClient(connection, options, io, SCAN_TIMEOUT_MS);
  const what =
    options.branch !== undefined ? trackingName(repo, options.branch) : `${repo} (every branch)`;

  const progress = startProgress(io, `scanning ${what}…`);
  let answer: ApiAnswer;
  try {
    answer = await client.request("POST", "/tracking/scan", {
      query: { repo, branch: options.branch },
      auth: true,
      allowStatus: [503],
    });
  } finally {
    progress.stop();
  }
  if (answer.status === 503) {
    throw new CliError(`the scanner is disabled: ${answer.msg || "no reason given"}`, [
      "the API still answers, but nothing is scanned until the cause is fixed and the service restarted",
    ]);
  }
  if (answer.code === "4002") {
    throw new CliError(`no tracking for ${what}: nothing was scanned`, [
      "list them with: patch-tracking-cli status --server SERVER",
    ]);
  }
  if (answer.code !== "2001") throw new CliError(`scan failed: ${answerProblem(answer)}`);
  if (!Array.isArray(answer.data)) {
    throw new CliError(`scan failed: the service sent ${typeof answer.data} instead of outcomes`);
  }
  const results = answer.data as ScanResult[];
  let unsuccessful = 0;
  for (const result of results) {
    if (UNSUCCESSFUL.has(result.outcome)) unsuccessful++;
    const newest =
      result.outcome === "proposed" ? await newestRun(client, result.repo, result.branch) : null;
    io.out(`${describeResult(result, newest)}\n`);
  }
  if (results.length > 1) {
    io.out(
      `${results.length} trackings scanned: ${results.length - unsuccessful} ok, ${unsuccessful} not\n`,
    );
  }
  return unsuccessful > 0 ? 1 : 0;
}
