/** Queries on the `issue` table: the Gitee issues the service has opened. */
import type { Database } from "bun:sqlite";
import { whereEquals } from "./where.ts";

/** An issue row as the REST API shows it. */
export interface IssueRecord {
  issue: string;
  repo: string;
  branch: string;
}

export function listIssues(db: Database, filter: { repo?: string; branch?: string } = {}) {
  const where = whereEquals({ repo: filter.repo, branch: filter.branch });
  const sql = `SELECT issue, repo, branch FROM issue${where.sql} ORDER BY rowid`;
  return db.query<IssueRecord, Record<string, string | number>>(sql).all(where.params);
}

export function insertIssue(
  db: Database,
  record: IssueRecord & { pull?: string | null; createdAt?: string },
): void {
  db.query(
    `INSERT OR IGNORE INTO issue (issue, repo, branch, created_at, pull)
     VALUES ($issue, $repo, $branch, $created_at, $pull)`,
  ).run({
    issue: record.issue,
    repo: record.repo,
    branch: record.branch,
    created_at: record.createdAt ?? new Date().toISOString(),
    pull: record.pull ?? null,
  });
}
