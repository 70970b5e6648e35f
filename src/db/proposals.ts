/**
 * Proposals: the work branch, issue and pull request the service opened for a tracking. In
 * "rolling" mode a tracking has at most one open proposal, and new commits join it; it ends when
 * its pull request is merged, closed without merging (its commits are declined), or replaced by a
 * successor because the tracked branch's spec changed under it.
 */
import type { Database } from "bun:sqlite";
import type { PublishRun } from "./runs.ts";

export type ProposalState = "open" | "merged" | "declined" | "superseded";

export interface Proposal {
  id: number;
  repo: string;
  branch: string;
  state: ProposalState;
  timestamp: string;
  workBranch: string;
  issueNumber: string;
  issueUrl: string | null;
  pullNumber: number;
  pullUrl: string | null;
  /** Blob sha of the tracked branch's spec its spec was made from ("" when there was none). */
  baseSpecSha: string | null;
  /** The proposal that replaced this one. */
  successor: number | null;
  createdAt: string;
  updatedAt: string;
  endedAt: string | null;
}

interface ProposalRow {
  id: number;
  repo: string;
  branch: string;
  state: ProposalState;
  timestamp: string;
  work_branch: string;
  issue_number: string;
  issue_url: string | null;
  pull_number: number;
  pull_url: string | null;
  base_spec_sha: string | null;
  successor: number | null;
  created_at: string;
  updated_at: string;
  ended_at: string | null;
}

function toProposal(row: ProposalRow): Proposal {
  return {
    id: row.id,
    repo: row.repo,
    branch: row.branch,
    state: row.state,
    timestamp: row.timestamp,
    workBranch: row.work_branch,
    issueNumber: row.issue_number,
    issueUrl: row.issue_url,
    pullNumber: row.pull_number,
    pullUrl: row.pull_url,
    baseSpecSha: row.base_spec_sha,
    successor: row.successor,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    endedAt: row.ended_at,
  };
}

/** Records the proposal a finished new run opened; returns its id. Call inside its transaction. */
export function openProposal(db: Database, run: PublishRun, stamp: string): number {
  if (!run.issueNumber || run.pullNumber === null)
    throw new Error(`run ${run.id} has no issue or pull request to open a proposal with`);
  const row = db
    .query<{ id: number }, (string | number | null)[]>(
      `INSERT INTO proposal (repo, branch, state, timestamp, work_branch, issue_number, issue_url,
         pull_number, pull_url, base_spec_sha, created_at, updated_at)
       VALUES (?, ?, 'open', ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
    )
    .get(
      run.repo,
      run.branch,
      run.timestamp,
      run.workBranch,
      run.issueNumber,
      run.issueUrl,
      run.pullNumber,
      run.pullUrl,
      run.baseSpecSha,
      stamp,
      stamp,
    );
  if (!row) throw new Error("proposal not stored");
  return row.id;
}

/** Ends an open proposal. Its journaled patches are dropped: nothing will need them again. */
export function endProposal(
  db: Database,
  id: number,
  state: Exclude<ProposalState, "open">,
  successor: number | null = null,
): void {
  db.transaction(() => {
    const stamp = new Date().toISOString();
    db.query(
      "UPDATE proposal SET state = ?, successor = ?, updated_at = ?, ended_at = ? WHERE id = ? AND state = 'open'",
    ).run(state, successor, stamp, stamp, id);
    db.query(
      "UPDATE publish_commit SET patch = NULL WHERE run_id IN (SELECT id FROM publish_run WHERE proposal_id = ? AND state = 'done')",
    ).run(id);
  })();
}

export function getProposal(db: Database, id: number): Proposal | null {
  const row = db.query<ProposalRow, [number]>("SELECT * FROM proposal WHERE id = ?").get(id);
  return row ? toProposal(row) : null;
}

/** The tracking's open proposal (the newest, should an older install have left several). */
export function openProposalFor(db: Database, repo: string, branch: string): Proposal | null {
  const row = db
    .query<ProposalRow, [string, string]>(
      "SELECT * FROM proposal WHERE repo = ? AND branch = ? AND state = 'open' ORDER BY id DESC LIMIT 1",
    )
    .get(repo, branch);
  return row ? toProposal(row) : null;
}

export function proposalsFor(db: Database, repo: string, branch: string, limit = 10): Proposal[] {
  return db
    .query<ProposalRow, [string, string, number]>(
      "SELECT * FROM proposal WHERE repo = ? AND branch = ? ORDER BY id DESC LIMIT ?",
    )
    .all(repo, branch, limit)
    .map(toProposal);
}
