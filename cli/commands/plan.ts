/**
 * `plan --repo R --branch B`: the dry run, readable — what a scan would propose right now
 * (commits, patch files, the spec diff, issue and pull request). The service writes nothing.
 */

import { describeFilters } from "../../src/scan/filters.ts";
import type { Plan } from "../../src/scan/plan.ts";
import { passedOverSummary } from "../../src/scan/proposal/render.ts";
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
import { answerProblem } from "../http-client.ts";
import type { CliIo } from "../io.ts";
import { cellText, trackingName } from "../table.ts";

export interface PlanOptions extends ConnectionOptions, AuthOptions {
  repo?: string;
  branch?: string;
  json?: boolean;
  /** Every enabled tracking (the fleet plan) instead of one. */
  all?: boolean;
}

const HINT = helpHint("plan");
/** Reading a long upstream range can take a while; the service answers when it is done. */
const PLAN_TIMEOUT_MS = 10 * 60_000;

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/**
 * Text from upstream commits (subjects, the issue body, the diff) without control characters
 * other than newlines and tabs, so it cannot drive the terminal.
 */
function printable(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, " ");
}

function indent(text: string): string {
  return printable(text)
    .replace(/\n$/, "")
    .split("\n")
    .map((line) => (line === "" ? "" : `  ${line}`))
    .join("\n");
}

function plural(count: number, word: string): string {
  if (count === 1) return `1 ${word}`;
  return `${count} ${/(s|sh|ch|x)$/.test(word) ? `${word}es` : `${word}s`}`;
}

/**
 * After a commit's subject: why it gets no patch (empty, passed over, already applied), or the
 * apply check's verdict in brackets when it does get one.
 */
function commitRemark(commit: Plan["commits"][number]): string {
  if (commit.empty) return "  (empty: no patch)";
  if (!commit.verdict) return "";
  if (commit.patchFile === null) return `  (${cellText(commit.verdict)}: no patch)`;
  return `  [${cellText(commit.verdict)}]`;
}

/** What a scan would do with the tracking's open pull request. */
function proposalLine(proposal: NonNullable<Plan["proposal"]>): string {
  const pull = `!${proposal.pullNumber} (${plural(proposal.commits.length, "commit")})`;
  switch (proposal.action) {
    case "extend":
      return `proposal: they would join the open pull request ${pull}`;
    case "replace":
      return `proposal: the tracked spec changed under the open pull request ${pull}: a new one would hold its commits and these, and !${proposal.pullNumber} and its issue #${proposal.issueNumber} would be closed`;
    case "merged":
      return `proposal: pull request ${pull} was merged: they would open a new one`;
    case "closed":
      return `proposal: pull request ${pull} was closed without merging (its commits are declined): they would open a new one`;
  }
}

/** The plan as text sections, each introduced by a header line. */
export function renderPlan(plan: Plan): string {
  const { tracking } = plan;
  const lines: string[] = [
    `dry run for ${trackingName(tracking.repo, tracking.branch)} (upstream ${trackingName(tracking.scm_repo, tracking.scm_branch)}, ${tracking.version_control})`,
    `upstream head: ${plan.upstreamHead ?? "unknown"}; last handled: ${tracking.scm_commit ?? "none yet"}`,
  ];
  const proposed = plan.commits.filter((commit) => commit.patchFile);
  const filters = describeFilters(plan.filters ?? {});
  if (filters) lines.push(`filters: ${filters}`);
  switch (plan.state) {
    case "up-to-date":
      lines.push(
        plan.commits.length > 0
          ? `state: only empty commits (${plan.commits.length}): nothing would be proposed; a scan skips past them`
          : "state: up to date: nothing would be proposed",
      );
      break;
    case "would-propose":
      lines.push(
        `state: a scan would propose ${plural(proposed.length, "patch")} from ${plural(plan.commits.length, "commit")}`,
      );
      if (plan.proposal) lines.push(proposalLine(plan.proposal));
      break;
    case "passed-over":
      lines.push(
        plan.reason
          ? `state: passed over: ${plan.reason}: nothing would be proposed; a scan skips past them`
          : `state: the filters pass over all ${plural(plan.commits.length, "commit")}: nothing would be proposed; a scan skips past them`,
      );
      break;
    case "not-started":
      lines.push(
        `state: not started: ${plan.reason ?? "the first scan records the upstream head"}`,
      );
      break;
    case "open-run":
      lines.push(`state: a publish run is still open (${plan.reason}); a scan resumes it first`);
      break;
    case "not-checked":
      lines.push(
        `state: not checked: ${cellText(plan.reason ?? "a forge it needs is held back")}; a scan waits too`,
      );
      break;
    case "diverged":
      lines.push(
        `state: diverged: ${cellText(plan.reason ?? "the upstream history was rewritten")}`,
      );
      break;
    default:
      lines.push(`state: ${plan.state}${plan.reason ? `: ${cellText(plan.reason)}` : ""}`);
  }
  if (plan.commits.length > 0) {
    lines.push("", "commits (oldest first):");
    for (const commit of plan.commits) {
      lines.push(
        `  ${commit.sha.slice(0, 12)}  ${commit.date}  ${cellText(commit.subject)}${commitRemark(commit)}`,
      );
    }
    const summary = passedOverSummary(plan.commits);
    if (summary) lines.push(`  ${summary}`);
    if (plan.remainingCommits > 0) {
      lines.push(`  … and ${plural(plan.remainingCommits, "more commit")} for the following run`);
    }
  }
  if (proposed.length > 0) {
    lines.push("", "patch files:");
    const width = Math.max(...proposed.map((commit) => formatSize(commit.patchBytes).length));
    for (const commit of proposed) {
      lines.push(`  ${formatSize(commit.patchBytes).padStart(width)}  ${commit.patchFile}`);
    }
  }
  if (plan.workBranch) lines.push("", `work branch: ${plan.workBranch}`);
  if (plan.spec) {
    const { spec } = plan;
    lines.push("", `spec ${spec.path}${spec.created ? " (created)" : ""}:`);
    if (spec.error) lines.push(`  cannot be edited: ${spec.error} (the issue says so)`);
    for (const note of spec.notes) lines.push(`  note: ${cellText(note)}`);
    if (spec.diff) lines.push(printable(spec.diff).replace(/\n$/, ""));
  }
  if (plan.issue) {
    lines.push("", `issue: ${cellText(plan.issue.title)}`, indent(plan.issue.body));
  }
  if (plan.applySummary) lines.push("", cellText(plan.applySummary));
  if (plan.pull) {
    const which = plan.pull.number === undefined ? "" : ` !${plan.pull.number}`;
    lines.push(
      "",
      `pull request${which}: ${plan.pull.title} (${plan.pull.head} into ${plan.pull.base})`,
    );
  }
  lines.push("", "dry run: nothing was written to Gitee or the database");
  return `${lines.join("\n")}\n`;
}

export async function runPlan(options: PlanOptions, io: CliIo): Promise<number> {
  const problems = new Problems();
  problems.require("--server", options.server);
  checkAuthOptions(options, io, problems);
  if (options.all) {
    if (options.repo !== undefined || options.branch !== undefined) {
      problems.add("--all plans every enabled tracking: give it without --repo and --branch");
    }
    problems.throwIfAny(HINT);
    const client = await openSignedInClient(
      prepareConnection(options),
      options,
      io,
      PLAN_TIMEOUT_MS,
    );
    const { runFleetPlan } = await import("./fleet-plan.ts");
    return runFleetPlan(client, io, options.json === true);
  }
  problems.require("--repo", options.repo);
  problems.require("--branch", options.branch);
  problems.throwIfAny(HINT);
  const repo = options.repo as string;
  const branch = options.branch as string;
  const connection = prepareConnection(options);
  const client = await openSignedInClient(connection, options, io, PLAN_TIMEOUT_MS);
  const answer = await client.request("GET", "/tracking/plan", {
    query: { repo, branch },
    auth: true,
  });
  if (answer.code === "4002") {
    throw new CliError(`no tracking for ${trackingName(repo, branch)}`, [
      "list them with: patch-tracking-cli status --server SERVER",
    ]);
  }
  if (answer.code !== "2001") throw new CliError(`dry run failed: ${answerProblem(answer)}`);
  const plan = answer.data as Plan | null;
  if (!plan || typeof plan !== "object" || !Array.isArray(plan.commits)) {
    throw new CliError("dry run failed: the service's answer holds no plan");
  }
  io.out(options.json ? `${JSON.stringify(plan, null, 2)}\n` : renderPlan(plan));
  return 0;
}
