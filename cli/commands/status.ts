/**
 * `status`: the status page in the terminal — one aligned row per tracking (failing first, as the
 * service orders them) under a summary and the scanner's state; `--json` for scripts.
 */

import { isFailing, outcomeText, type TrackingOverview } from "../../src/db/status.ts";
import { describeFilters } from "../../src/scan/filters.ts";
import type { ScannerState } from "../../src/scan/scheduler.ts";
import { type ConnectionOptions, openClient, Problems, prepareConnection } from "../connection.ts";
import { helpHint } from "../defaults.ts";
import { CliError } from "../errors.ts";
import { answerProblem } from "../http-client.ts";
import type { CliIo } from "../io.ts";
import { cellText, renderTable, trackingName } from "../table.ts";

export interface StatusOptions extends ConnectionOptions {
  repo?: string;
  branch?: string;
  failing?: boolean;
  json?: boolean;
}

export interface StatusData {
  scanner: ScannerState;
  trackings: TrackingOverview[];
}

const HINT = helpHint("status");
/** The error column never shrinks below this, even on a narrow terminal. */
const MIN_ERROR_WIDTH = 40;
const NONE = "-";

const COLUMNS = [
  "upstream",
  "downstream",
  "enabled",
  "last_scan_utc",
  "outcome",
  "open_run",
  "issue",
  "pull_request",
  "open_proposal",
  "passed_over",
  "filters",
  // Last: the only column cut to fit, and where a long line overflows without shifting others.
  "last_error",
] as const;
type Column = (typeof COLUMNS)[number];

function shortTime(iso: string | null): string {
  return iso ? iso.replace("T", " ").slice(0, 19) : "never";
}

/** ", next try <time> UTC" while a failed run backs off (older services send nothing). */
function nextTry(at: string | null | undefined): string {
  if (!at || Date.parse(at) <= Date.now()) return "";
  return `, next try ${shortTime(at)} UTC`;
}

function oneLine(text: string): string {
  return cellText(text).replace(/\s+/g, " ").trim();
}

function cutTo(text: string, width: number): string {
  if (Bun.stringWidth(text) <= width) return text;
  let cut = text;
  while (cut.length > 0 && Bun.stringWidth(cut) > width - 1) cut = cut.slice(0, -1);
  return `${cut}…`;
}

function rowOf(item: TrackingOverview): Record<Column, string> {
  const { tracking, status, openRun, lastRun } = item;
  // A waiting tracking's reason is its outcome; the error column keeps real failures.
  const error = openRun?.lastError ?? (status.lastOutcome === "waiting" ? null : status.lastError);
  return {
    upstream: trackingName(tracking.scm_repo, tracking.scm_branch),
    downstream: trackingName(tracking.repo, tracking.branch),
    enabled: tracking.enabled ? "yes" : "no",
    last_scan_utc: shortTime(status.lastScanAt),
    // A disabled tracking never scanned is not pending: nothing will scan it.
    outcome: tracking.enabled || status.lastScanAt ? outcomeText(status) : NONE,
    last_error: error ? oneLine(error) : NONE,
    open_run: openRun
      ? `run ${openRun.id} at ${openRun.step}, ${openRun.attempts} failed attempt${openRun.attempts === 1 ? "" : "s"}${nextTry(openRun.nextAttemptAt)}`
      : NONE,
    issue: lastRun ? (lastRun.issueUrl ?? `#${lastRun.issueNumber ?? "?"}`) : NONE,
    pull_request: lastRun ? (lastRun.pullUrl ?? `!${lastRun.pullNumber ?? "?"}`) : NONE,
    filters: oneLine(describeFilters(item.filters ?? {})) || NONE,
    open_proposal: proposalText(item.proposal),
    passed_over: passedOverText(item.passedOver),
  };
}

/** `!12 (3 commits)`: the open pull request new commits join. */
export function proposalText(proposal: TrackingOverview["proposal"] | undefined): string {
  if (!proposal) return NONE;
  const count = proposal.commits.length;
  return `!${proposal.pullNumber} (${count} commit${count === 1 ? "" : "s"})`;
}

/** `2, newest 1a2b3c4 already carried as x.patch`: commits the package already had. */
export function passedOverText(passed: TrackingOverview["passedOver"] | undefined): string {
  const newest = passed?.latest[0];
  if (!passed || passed.count === 0 || !newest) return NONE;
  return oneLine(`${passed.count}, newest ${newest.sha.slice(0, 7)} ${newest.reason}`);
}

/**
 * The rows, with the error column cut so that each line fits `width` (a terminal's); whole when
 * the width is unknown (a pipe or a file).
 */
export function statusTable(items: TrackingOverview[], width: number | undefined): string {
  const rows = items.map(rowOf);
  if (width === undefined) return renderTable(rows, [...COLUMNS]);
  const others = COLUMNS.filter((column) => column !== "last_error");
  const used =
    String(rows.length).length +
    others.reduce(
      (sum, column) =>
        sum +
        2 +
        Math.max(Bun.stringWidth(column), ...rows.map((row) => Bun.stringWidth(row[column]))),
      0,
    ) +
    2;
  const errorWidth = Math.max(MIN_ERROR_WIDTH, width - used);
  for (const row of rows) row.last_error = cutTo(row.last_error, errorWidth);
  return renderTable(rows, [...COLUMNS]);
}

function scannerLine(scanner: ScannerState): string {
  if (!scanner.enabled) return `scanner: disabled: ${scanner.disabledReason ?? "not running"}`;
  const parts = [scanner.scanning ? "running, scanning now" : "running"];
  parts.push(
    scanner.lastScan
      ? `last full scan finished ${shortTime(scanner.lastScan.finishedAt)} UTC (${scanner.lastScan.trackings} trackings)`
      : "no full scan finished yet",
  );
  for (const [service, until] of Object.entries(scanner.parked ?? {})) {
    parts.push(`${service} rate limited until ${shortTime(until ?? null)} UTC`);
  }
  return `scanner: ${parts.join("; ")}`;
}

/** One line per unreachable forge, as the status page's banners. */
export function outageLines(scanner: ScannerState): string[] {
  return (scanner.breakers ?? [])
    .filter((breaker) => breaker.state === "open")
    .map(
      (outage) =>
        `OUTAGE: ${outage.forge} unreachable since ${shortTime(outage.since)} UTC; its trackings wait; next probe ${shortTime(outage.nextProbeAt)} UTC; last error: ${oneLine(outage.lastError ?? NONE)}`,
    );
}

function summaryLine(items: TrackingOverview[], filters: string[]): string {
  const enabled = items.filter((item) => item.tracking.enabled).length;
  const failing = items.filter((item) => isFailing(item.status.lastOutcome)).length;
  const open = items.filter((item) => item.openRun).length;
  const scope = filters.length > 0 ? ` (${filters.join(", ")})` : "";
  return `${items.length} tracked${scope}: ${enabled} enabled, ${failing} failing, ${open} with an open run`;
}

export async function runStatus(options: StatusOptions, io: CliIo): Promise<number> {
  const problems = new Problems();
  problems.require("--server", options.server);
  if (options.repo === "") problems.missing.push("--repo (a repository, or leave it out)");
  if (options.branch === "") problems.missing.push("--branch (a branch name, or leave it out)");
  problems.throwIfAny(HINT);
  const client = openClient(prepareConnection(options), io);
  const answer = await client.request("GET", "/tracking/status", {
    query: {
      repo: options.repo,
      branch: options.branch,
      failing: options.failing ? "true" : undefined,
    },
  });
  if (answer.code !== "2001") throw new CliError(`status failed: ${answerProblem(answer)}`);
  const data = answer.data as Partial<StatusData> | null;
  if (!data || !Array.isArray(data.trackings) || typeof data.scanner !== "object") {
    throw new CliError(
      "status failed: the service's answer has no trackings list (is it older than this command?)",
    );
  }
  if (options.json) {
    io.out(`${JSON.stringify(data, null, 2)}\n`);
    return 0;
  }
  const filters = [
    options.repo !== undefined ? `repo ${options.repo}` : "",
    options.branch !== undefined ? `branch ${options.branch}` : "",
    options.failing ? "failing or with an open run" : "",
  ].filter(Boolean);
  const scanner = [
    scannerLine(data.scanner as ScannerState),
    ...outageLines(data.scanner as ScannerState),
  ].join("\n");
  if (data.trackings.length === 0) {
    io.out(
      `${filters.length > 0 ? `no trackings match ${filters.join(", ")}` : "no trackings: add one with patch-tracking-cli add"}\n${scanner}\n`,
    );
    return 0;
  }
  io.out(`${summaryLine(data.trackings, filters)}\n${scanner}\n\n`);
  io.out(statusTable(data.trackings, io.columns));
  return 0;
}
