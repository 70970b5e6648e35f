/**
 * Names on the forge: issue and pull request titles, patch file names, and commit messages of
 * the uploads (the commit table lives in proposal/render.ts). Titles keep the original's exact shape so
 * existing habits (and searches) keep working.
 */

export function issueTitle(branch: string, timestamp: string): string {
  return `[patch tracking] ${branch} ${timestamp}`;
}

export function pullTitle(timestamp: string): string {
  return `[patch tracking] ${timestamp}`;
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

/**
 * The message of the one commit that brings a proposal's files: what it adds, then the upstream
 * commits (their web addresses where known), one a line.
 */
export function filesMessage(
  timestamp: string,
  commits: readonly { sha: string; url: string | null }[],
  spec: "create" | "update" | null,
): string {
  const count = `${commits.length} patch file${commits.length === 1 ? "" : "s"}`;
  const what = spec ? `add ${count}, ${spec} spec file` : `add ${count}`;
  const lines = commits.map((commit) => commit.url ?? commit.sha);
  return `[patch tracking] ${timestamp} - ${what}\n\n${lines.join("\n")}\n`;
}

export function specMessage(timestamp: string, created: boolean): string {
  return `[patch tracking] ${timestamp} - ${created ? "create" : "update"} spec file\n`;
}
