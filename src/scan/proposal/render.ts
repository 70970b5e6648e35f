/**
 * What a proposal shows on the forge besides its files: the issue's commit table (with each
 * commit's verdict), the pull request body, and the comments that tell reviewers what changed.
 * Titles stay in issue-body.ts: they keep the original's exact shape.
 */
import { isPassedOver, PASSED_OVER } from "../filters.ts";
import { getsPatchFile, type ProposalCommit } from "./commits.ts";

/**
 * A commit message as one markdown table cell: no line breaks (`<br>` instead), and nothing that
 * could end the cell (`|`) or be read as HTML (`<`, `>`, `&` — "Signed-off-by: A <a@b>" would
 * otherwise vanish as an unknown tag).
 */
export function tableCell(text: string): string {
  return text
    .replace(/\r/g, "")
    .trim()
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/\|/g, "\\|")
    .replace(/\n/g, "<br>");
}

function shortSha(sha: string): string {
  return sha.slice(0, 7);
}

/** Why a commit row has no patch file, or its verdict, in parentheses after the message. */
function remark(commit: ProposalCommit): string {
  if (commit.empty) return " (empty commit: no patch file)";
  if (commit.carriedAs)
    return ` (${tableCell(`already carried as ${commit.carriedAs}`)}: no patch file)`;
  if (commit.verdict) {
    return ` (${tableCell(commit.verdict)}${getsPatchFile(commit) ? "" : ": no patch file"})`;
  }
  return "";
}

/** The issue body: the `| Commit | Datetime | Message |` table, then the notes as a list. */
export function issueBody(
  commits: readonly ProposalCommit[],
  notes: readonly string[] = [],
): string {
  const rows = commits.map((commit) => {
    const short = shortSha(commit.sha);
    const link = commit.url ? `[${short}](${commit.url})` : short;
    return `| ${link} | ${commit.date} | ${tableCell(commit.message)}${remark(commit)} |`;
  });
  const table = ["| Commit | Datetime | Message |", "| ------ | ------ | ------ |", ...rows].join(
    "\n",
  );
  const remarks = [passedOverSummary(commits), ...notes].filter((note) => note !== null);
  if (remarks.length === 0) return `${table}\n`;
  return `${table}\n\n${remarks.map((note) => `- ${note}`).join("\n")}\n`;
}

/**
 * "2 of 5 commits passed over by the filters (message_pattern: 1, include_paths: 1)", or null
 * when the filters let every commit through.
 */
export function passedOverSummary(commits: readonly { verdict?: string | null }[]): string | null {
  const counts = new Map<string, number>();
  for (const commit of commits) {
    if (!isPassedOver(commit.verdict)) continue;
    const filter = (commit.verdict as string).slice(PASSED_OVER.length + 2);
    counts.set(filter, (counts.get(filter) ?? 0) + 1);
  }
  const total = [...counts.values()].reduce((sum, count) => sum + count, 0);
  if (total === 0) return null;
  const reasons = [...counts].map(([filter, count]) => `${filter}: ${count}`).join(", ");
  return `${total} of ${commits.length} commits passed over by the filters (${reasons})`;
}

/**
 * The pull request body: `#<issue>`, which Gitee links to the issue, after the apply check's
 * one-line summary when there is one.
 */
export function pullBody(issueNumber: string, applySummary: string | null = null): string {
  return applySummary ? `${applySummary}\n\n#${issueNumber}` : `#${issueNumber}`;
}

function subject(message: string): string {
  return (message.split("\n")[0] ?? "").trim();
}

/**
 * The comment on an open pull request when commits joined it. Its first line names the range,
 * so the comment is recognisable when a retry has to find out whether it was posted.
 */
export function extensionComment(
  added: readonly ProposalCommit[],
  issueNumber: string,
  applySummary: string | null = null,
): string {
  const first = added[0];
  const last = added.at(-1);
  if (!first || !last) return "";
  const lines = added.map(
    (commit) =>
      `- ${shortSha(commit.sha)} ${subject(commit.message)}${commit.carriedAs ? ` (already carried as ${commit.carriedAs})` : commit.verdict ? ` (${commit.verdict})` : ""}`,
  );
  const count = added.length === 1 ? "1 upstream commit" : `${added.length} upstream commits`;
  return [
    `[patch tracking] added ${shortSha(first.sha)}..${shortSha(last.sha)}: ${count}`,
    "",
    ...lines,
    "",
    ...(applySummary ? [applySummary, ""] : []),
    `#${issueNumber} lists every commit of this pull request.`,
  ].join("\n");
}

/** The comment that closes a proposal replaced by a successor. */
export function supersededComment(
  successorPull: number,
  successorUrl: string,
  why: string,
): string {
  return `[patch tracking] superseded by !${successorPull} (${successorUrl}): ${why}. Its commits are all in the new pull request.`;
}

/** The comment that closes the issue of a proposal replaced by a successor. */
export function supersededIssueComment(
  successor: { pull: number; pullUrl: string; issue: string },
  why: string,
): string {
  return `[patch tracking] superseded by #${successor.issue} and its pull request !${successor.pull} (${successor.pullUrl}): ${why}. Every commit listed here is in the new pull request.`;
}

/**
 * The comment that closes the issue of a proposal whose pull request a maintainer merged. It names
 * the pull request, so a retry can tell whether it was posted.
 */
export function mergedIssueComment(pull: number, pullUrl: string): string {
  return `[patch tracking] !${pull} (${pullUrl}) was merged: the patches of every commit listed here are on the tracked branch now. Later upstream commits open a new proposal.`;
}
