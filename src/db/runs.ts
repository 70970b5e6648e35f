/**
 * The publish journal: one `publish_run` row per proposal and one `publish_commit` row per
 * upstream commit in it. A run is written before the first remote write and finished in the same
 * transaction that advances the tracking's `scm_commit`, so a crash at any point leaves either an
 * open run to resume or a finished one — never a proposal the database does not know about.
 */
import type { Database } from "bun:sqlite";
import { insertIssue } from "./issues.ts";
import { setScmCommit } from "./trackings.ts";

export type RunState = "open" | "done" | "abandoned";
export type RunStep = "branch" | "patches" | "spec" | "issue" | "pull" | "finish";

export interface PublishRun {
  id: number;
  repo: string;
  branch: string;
  versionControl: string;
  scmRepo: string;
  scmBranch: string;
  baseCommit: string;
  headCommit: string;
  timestamp: string;
  workBranch: string;
  state: RunState;
  step: RunStep;
  issueNumber: string | null;
  issueUrl: string | null;
  pullNumber: number | null;
  pullUrl: string | null;
  attempts: number;
  lastError: string | null;
  /** Remarks for the maintainer gathered while publishing (shown in the issue). */
  notes: string[];
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
}

export interface RunCommit {
  position: number;
  sha: string;
  date: string;
  message: string;
  url: string | null;
  empty: boolean;
  /** Patch bytes as journaled; cleared once the run is done. */
  patch: Uint8Array | null;
  uploaded: boolean;
}

/** What a new run is journaled with: the batch, before any remote write. */
export interface NewRun
  extends Pick<
    PublishRun,
    | "repo"
    | "branch"
    | "versionControl"
    | "scmRepo"
    | "scmBranch"
    | "baseCommit"
    | "timestamp"
    | "workBranch"
  > {
  commits: readonly (Omit<RunCommit, "position" | "patch" | "uploaded"> & { patch: Uint8Array })[];
}

interface RunRow {
  id: number;
  repo: string;
  branch: string;
  version_control: string;
  scm_repo: string;
  scm_branch: string;
  base_commit: string;
  head_commit: string;
  timestamp: string;
  work_branch: string;
  state: RunState;
  step: RunStep;
  issue_number: string | null;
  issue_url: string | null;
  pull_number: number | null;
  pull_url: string | null;
  attempts: number;
  last_error: string | null;
  notes: string;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
}

function toRun(row: RunRow): PublishRun {
  return {
    id: row.id,
    repo: row.repo,
    branch: row.branch,
    versionControl: row.version_control,
    scmRepo: row.scm_repo,
    scmBranch: row.scm_branch,
    baseCommit: row.base_commit,
    headCommit: row.head_commit,
    timestamp: row.timestamp,
    workBranch: row.work_branch,
    state: row.state,
    step: row.step,
    issueNumber: row.issue_number,
    issueUrl: row.issue_url,
    pullNumber: row.pull_number,
    pullUrl: row.pull_url,
    attempts: row.attempts,
    lastError: row.last_error,
    notes: JSON.parse(row.notes) as string[],
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    finishedAt: row.finished_at,
  };
}

const now = () => new Date().toISOString();

/** Journals a new run with its commits; fails if the tracking already has an open run. */
export function createRun(db: Database, run: NewRun): PublishRun {
  const last = run.commits.at(-1);
  if (!last) throw new Error("a publish run needs at least one commit");
  return db.transaction(() => {
    const stamp = now();
    const row = db
      .query<RunRow, Record<string, string | number>>(
        `INSERT INTO publish_run (repo, branch, version_control, scm_repo, scm_branch, base_commit,
           head_commit, timestamp, work_branch, state, step, created_at, updated_at)
         VALUES ($repo, $branch, $vc, $scm_repo, $scm_branch, $base, $head, $timestamp, $work_branch,
           'open', 'branch', $stamp, $stamp)
         RETURNING *`,
      )
      .get({
        repo: run.repo,
        branch: run.branch,
        vc: run.versionControl,
        scm_repo: run.scmRepo,
        scm_branch: run.scmBranch,
        base: run.baseCommit,
        head: last.sha,
        timestamp: run.timestamp,
        work_branch: run.workBranch,
        stamp,
      });
    if (!row) throw new Error("publish run not stored");
    const insert = db.prepare(
      `INSERT INTO publish_commit (run_id, position, sha, date, message, url, empty, patch)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    run.commits.forEach((commit, position) => {
      insert.run(
        row.id,
        position,
        commit.sha,
        commit.date,
        commit.message,
        commit.url,
        commit.empty ? 1 : 0,
        commit.patch,
      );
    });
    return toRun(row);
  })();
}

export function getRun(db: Database, id: number): PublishRun | null {
  const row = db.query<RunRow, [number]>("SELECT * FROM publish_run WHERE id = ?").get(id);
  return row ? toRun(row) : null;
}

export function openRunFor(db: Database, repo: string, branch: string): PublishRun | null {
  const row = db
    .query<RunRow, [string, string]>(
      "SELECT * FROM publish_run WHERE repo = ? AND branch = ? AND state = 'open'",
    )
    .get(repo, branch);
  return row ? toRun(row) : null;
}

export function openRuns(db: Database): PublishRun[] {
  return db
    .query<RunRow, []>("SELECT * FROM publish_run WHERE state = 'open' ORDER BY id")
    .all()
    .map(toRun);
}

export function runsFor(db: Database, repo: string, branch: string, limit = 20): PublishRun[] {
  return db
    .query<RunRow, [string, string, number]>(
      "SELECT * FROM publish_run WHERE repo = ? AND branch = ? ORDER BY id DESC LIMIT ?",
    )
    .all(repo, branch, limit)
    .map(toRun);
}

export function runCommits(db: Database, runId: number): RunCommit[] {
  return db
    .query<
      {
        position: number;
        sha: string;
        date: string;
        message: string;
        url: string | null;
        empty: number;
        patch: Uint8Array | null;
        uploaded: number;
      },
      [number]
    >("SELECT * FROM publish_commit WHERE run_id = ? ORDER BY position")
    .all(runId)
    .map((row) => ({
      position: row.position,
      sha: row.sha,
      date: row.date,
      message: row.message,
      url: row.url,
      empty: row.empty === 1,
      patch: row.patch ? new Uint8Array(row.patch) : null,
      uploaded: row.uploaded === 1,
    }));
}

export function markUploaded(db: Database, runId: number, position: number): void {
  db.query("UPDATE publish_commit SET uploaded = 1 WHERE run_id = ? AND position = ?").run(
    runId,
    position,
  );
}

export function setStep(db: Database, runId: number, step: RunStep): void {
  db.query("UPDATE publish_run SET step = ?, updated_at = ? WHERE id = ?").run(step, now(), runId);
}

export function recordIssue(
  db: Database,
  runId: number,
  issue: { number: string; url: string },
): void {
  db.query(
    "UPDATE publish_run SET issue_number = ?, issue_url = ?, updated_at = ? WHERE id = ?",
  ).run(issue.number, issue.url, now(), runId);
}

export function recordPull(
  db: Database,
  runId: number,
  pull: { number: number; url: string },
): void {
  db.query("UPDATE publish_run SET pull_number = ?, pull_url = ?, updated_at = ? WHERE id = ?").run(
    pull.number,
    pull.url,
    now(),
    runId,
  );
}

export function recordNotes(db: Database, runId: number, notes: readonly string[]): void {
  db.query("UPDATE publish_run SET notes = ?, updated_at = ? WHERE id = ?").run(
    JSON.stringify(notes),
    now(),
    runId,
  );
}

/** Counts a failed attempt and keeps its message on the run (shown by the status endpoint). */
export function recordAttemptFailure(db: Database, runId: number, message: string): void {
  db.query(
    "UPDATE publish_run SET attempts = attempts + 1, last_error = ?, updated_at = ? WHERE id = ?",
  ).run(message, now(), runId);
}

/**
 * Completes a run: the tracking's `scm_commit` advances to the run's newest commit and the issue
 * is recorded, in one transaction with the state change.
 */
export function finishRun(db: Database, run: PublishRun): void {
  if (!run.issueNumber) throw new Error(`run ${run.id} has no issue to record`);
  const issue = run.issueNumber;
  db.transaction(() => {
    const stamp = now();
    setScmCommit(db, run.repo, run.branch, run.headCommit);
    insertIssue(db, {
      issue,
      repo: run.repo,
      branch: run.branch,
      pull: run.pullNumber === null ? null : String(run.pullNumber),
      createdAt: stamp,
    });
    db.query(
      "UPDATE publish_run SET state = 'done', step = 'finish', last_error = NULL, updated_at = ?, finished_at = ? WHERE id = ?",
    ).run(stamp, stamp, run.id);
    // The proposal lives on the forge now; keep the journal small.
    db.query("UPDATE publish_commit SET patch = NULL WHERE run_id = ?").run(run.id);
  })();
}
