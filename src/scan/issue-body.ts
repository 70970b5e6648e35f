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

export function specMessage(timestamp: string, created: boolean): string {
  return `[patch tracking] ${timestamp} - ${created ? "create" : "update"} spec file\n`;
}
