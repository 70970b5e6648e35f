/**
 * `plan --all`: the fleet plan — for every enabled tracking, what a scan would propose now,
 * read page by page from `GET /plan` (so progress can be shown over thousands of trackings).
 * A summary line first, then one line per tracking with something to do; nothing is written.
 * The lines (or the JSON items) wait in a temporary file until the summary is known, so the CLI's
 * memory stays flat over any number of trackings.
 */
import type {
  FleetApplyCounts,
  FleetItem,
  FleetPlan,
  FleetSummary,
} from "../../src/scan/fleet-plan.ts";
import { addSummaries, summarize } from "../../src/scan/fleet-plan.ts";
import { CliError } from "../errors.ts";
import type { ApiClient } from "../http-client.ts";
import { answerProblem } from "../http-client.ts";
import type { CliIo } from "../io.ts";
import { startProgress } from "../progress.ts";
import { Spool } from "../spool.ts";
import { cellText, trackingName } from "../table.ts";

/** Trackings per request: a few batched head queries and a bounded number of compares. */
export const FLEET_PAGE = 200;

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

export function summaryLine(summary: FleetSummary): string {
  const parts = [
    `would propose ${plural(summary.commits, "commit")} in ${plural(summary.proposals, "proposal")}${summary.extending > 0 ? ` (${summary.extending} joining open ones)` : ""}`,
    `${summary.carried} already carried`,
    `${summary.passedOver} passed over by filters`,
  ];
  if (summary.alreadyApplied > 0) parts.push(`${summary.alreadyApplied} already applied`);
  if (summary.conflicts > 0) parts.push(plural(summary.conflicts, "conflict"));
  parts.push(plural(summary.failures, "failure"));
  if (summary.notChecked > 0) parts.push(`${summary.notChecked} not checked`);
  return `${plural(summary.trackings, "enabled tracking")}: ${parts.join(", ")}`;
}

/** The commits that get no patch file, and why ("1 already carried, 2 passed over by filters"). */
function setAside(item: FleetItem): string[] {
  const parts: string[] = [];
  if (item.carried > 0) parts.push(`${item.carried} already carried`);
  if (item.passedOver > 0) parts.push(`${item.passedOver} passed over by filters`);
  if (item.applyCheck?.alreadyApplied)
    parts.push(`${item.applyCheck.alreadyApplied} already applied`);
  if (item.empty > 0) parts.push(`${item.empty} empty`);
  return parts;
}

/** The apply check's verdicts on the commits to propose ("apply check: 2 apply, 1 conflict"). */
function applyCheckText(counts: FleetApplyCounts | null): string | null {
  if (!counts) return null;
  const parts: string[] = [];
  if (counts.applies > 0) parts.push(`${counts.applies} appl${counts.applies === 1 ? "ies" : "y"}`);
  if (counts.conflicts > 0) parts.push(plural(counts.conflicts, "conflict"));
  if (counts.notChecked > 0) parts.push(`${counts.notChecked} not checked`);
  return parts.length > 0 ? `apply check: ${parts.join(", ")}` : null;
}

function proposalText(item: FleetItem): string {
  const open = item.openProposal;
  if (!open) return "new proposal";
  switch (open.action) {
    case "extend":
      return `joining the open pull request !${open.pull}`;
    case "replace":
      return `replacing the open pull request !${open.pull}: the tracked spec changed under it`;
    case "merged":
      return `new proposal: !${open.pull} was merged`;
    case "closed":
      return `new proposal: !${open.pull} was closed without merging`;
  }
}

/** One line for a tracking with something to do or to look at; null when it is up to date. */
export function itemLine(item: FleetItem): string | null {
  const name = trackingName(item.repo, item.branch);
  const more = item.remaining > 0 ? `, ${item.remaining} more for the following run` : "";
  switch (item.state) {
    case "would-propose": {
      const parts = [`${item.proposed} to propose (${proposalText(item)})`, ...setAside(item)];
      const checked = applyCheckText(item.applyCheck);
      const spec = item.specError ? `; spec cannot be edited: ${cellText(item.specError)}` : "";
      return `${name}: ${plural(item.newCommits, "new commit")}: ${parts.join(", ")}${checked ? `; ${checked}` : ""}${spec}${more}`;
    }
    case "passed-over": {
      const aside = setAside(item);
      if (aside.length === 1 && item.passedOver === item.newCommits)
        return `${name}: ${plural(item.newCommits, "new commit")}, all passed over by filters${more}`;
      return `${name}: ${plural(item.newCommits, "new commit")}, none to propose: ${aside.join(", ")}${more}`;
    }
    case "failed":
    case "diverged":
      return `${name}: ${item.state}: ${cellText(item.reason ?? "no reason given")}`;
    case "open-run":
      return `${name}: a publish run is still open (${cellText(item.reason ?? "")}); a scan resumes it first`;
    case "not-started":
      return `${name}: not started: the first scan records the upstream head`;
    case "not-checked": {
      const found = item.newCommits > 0 ? `${plural(item.newCommits, "new commit")}, ` : "";
      return `${name}: ${found}not checked: ${cellText(item.reason ?? "a forge it needs is held back")}`;
    }
    default:
      return null;
  }
}

/** The plan so far, for the progress line: "12 commits to propose, 1 failure". */
function progressTally(summary: FleetSummary): string {
  return `${plural(summary.commits, "commit")} to propose, ${plural(summary.failures, "failure")}`;
}

/** Pretty-printed JSON `json` placed `pad` deep inside another value (its later lines indented). */
function nested(json: string, pad: string): string {
  return json.replaceAll("\n", `\n${pad}`);
}

/**
 * `--json`, written as it comes: the same bytes as
 * `JSON.stringify({ total, summary, items }, null, 2)` and a newline, with the items kept in
 * `spool` (each written by `jsonItem`) until the summary is known.
 */
export async function writeFleetJson(
  io: Pick<CliIo, "out" | "drained">,
  total: number,
  summary: FleetSummary,
  spool: Spool,
): Promise<void> {
  io.out(
    `{\n  "total": ${JSON.stringify(total)},\n  "summary": ${nested(JSON.stringify(summary, null, 2), "  ")},\n  "items": [`,
  );
  if (total === 0) {
    io.out("]\n}\n");
    return;
  }
  await spool.drainTo(io);
  io.out("\n  ]\n}\n");
}

/** One item of `--json`'s list, after `index` others. */
export function jsonItem(item: FleetItem, index: number): string {
  return `${index > 0 ? "," : ""}\n    ${nested(JSON.stringify(item, null, 2), "    ")}`;
}

export async function runFleetPlan(client: ApiClient, io: CliIo, json: boolean): Promise<number> {
  const spool = new Spool();
  try {
    let planned = 0;
    let summary = summarize([]);
    let total = Number.POSITIVE_INFINITY;
    while (planned < total) {
      const label = Number.isFinite(total)
        ? `planning trackings ${planned + 1}-${Math.min(planned + FLEET_PAGE, total)} of ${total} (so far ${progressTally(summary)})…`
        : "planning…";
      const progress = startProgress(io, label);
      let answer: Awaited<ReturnType<ApiClient["request"]>>;
      try {
        answer = await client.request("GET", "/plan", {
          query: { offset: String(planned), limit: String(FLEET_PAGE) },
          auth: true,
        });
      } finally {
        progress.stop();
      }
      if (answer.code !== "2001") throw new CliError(`fleet plan failed: ${answerProblem(answer)}`);
      const page = answer.data as FleetPlan | null;
      if (!page || !Array.isArray(page.items)) {
        throw new CliError(
          "fleet plan failed: the service's answer holds no plan (is it older than this command?)",
        );
      }
      total = page.total;
      summary = addSummaries(summary, summarize(page.items));
      let text = "";
      for (const item of page.items) {
        if (json) text += jsonItem(item, planned++);
        else {
          planned++;
          const line = itemLine(item);
          if (line !== null) text += `${line}\n`;
        }
      }
      spool.write(text);
      // Trackings removed while paging: stop rather than ask for an empty page forever.
      if (page.items.length === 0) break;
    }
    if (json) {
      await writeFleetJson(io, planned, summary, spool);
      return 0;
    }
    io.out(`${summaryLine(summary)}\n`);
    await spool.drainTo(io);
    io.out("dry run: nothing was written to Gitee or the database\n");
    return 0;
  } finally {
    spool.dispose();
  }
}
