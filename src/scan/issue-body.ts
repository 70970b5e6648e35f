/**
 * Text of what a publish run shows on the forge: issue and pull request titles, the issue's
 * commit table, and commit messages of the uploads. Titles keep the original's exact shape so
 * existing habits (and searches) keep working.
 */

export interface IssueCommit {
  sha: string;
  date: string;
  message: string;
  url: string | null;
  empty: boolean;
}

export function issueTitle(branch: string, timestamp: string): string {
  return `[patch tracking] ${branch} ${timestamp}`;
}

export function pullTitle(timestamp: string): string {
  return `[patch tracking] ${timestamp}`;
}

export function pullBody(issueNumber: string): string {
  return `#${issueNumber}`;
}

export function patchFileName(sha: string): string {
  return `${sha}.patch`;
}

export function uploadMessage(
  timestamp: string,
  commit: { sha: string; url: string | null },
): string {
  return `[patch tracking] ${timestamp} - ${commit.url ?? commit.sha}\n`;
}

export function specMessage(timestamp: string, created: boolean): string {
  return `[patch tracking] ${timestamp} - ${created ? "create" : "update"} spec file\n`;
}

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

export function issueBody(commits: readonly IssueCommit[], notes: readonly string[] = []): string {
  const rows = commits.map((commit) => {
    const short = commit.sha.slice(0, 7);
    const link = commit.url ? `[${short}](${commit.url})` : short;
    const message =
      tableCell(commit.message) + (commit.empty ? " (empty commit: no patch file)" : "");
    return `| ${link} | ${commit.date} | ${message} |`;
  });
  const table = ["| Commit | Datetime | Message |", "| ------ | ------ | ------ |", ...rows].join(
    "\n",
  );
  if (notes.length === 0) return `${table}\n`;
  return `${table}\n\n${notes.map((note) => `- ${note}`).join("\n")}\n`;
}
