/**
 * The publish journal: one `publish_run` row per proposal and one `publish_commit` row per
 * upstream commit in it. A run is written before the first remote write and finished in the same
 * transaction that advances the tracking's `scm_commit`, so a crash at any point leaves either an
 * open run to resume or a finished one — never a proposal the database does not know about.
 */
import type { Database } from "bun:sqlite";
import { insertIssue } from "./issues.ts";
import { forgetRunCreates } from "./pending-creates.ts";
import { endProposal, openProposal } from "./proposals.ts";
import { setScmCommit } from "./trackings.ts";

export type RunState = "open" | "done" | "abandoned";
export type RunStep =
  | "branch"
  // new runs: the work branch, patch files and spec in one commit (runs journaled before that
  // went "branch", "patches", "spec")
  | "files"
  | "patches"
  | "spec"
  | "issue"
  | "pull"
  | "finish"
  // extend runs: check the proposal is still open (or close the issue of a merged one), then
  // comment on its pull request
  | "target"
  | "merged"
  | "comment"
  // a new proposal replacing an open one: close the old pull request
  | "supersede";
/** "new" opens a proposal; "extend" adds commits to an open one (`proposalId`). */
export type RunKind = "new" | "extend";

export interface PublishRun {
  id: number;
  kind: RunKind;
  /** The proposal an extend run adds to; null for a new run until it finishes. */
  proposalId: number | null;
  /** The open proposal a new run replaces (its pull request is closed once this one exists). */
  supersedes: number | null;
  /** Blob sha of the tracked branch's spec the proposal's spec was made from ("" = no spec). */
  baseSpecSha: string | null;
  /** The commits were compared with the package's carried patches (verdicts recorded). */
  judged: boolean;
  /** The apply check's one-line summary for the pull request; null when it did not run. */
  applySummary: string | null;
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
  /** When a failed run may be tried again (ISO time); null when it may go at once. */
  nextAttemptAt: string | null;
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
  /** Why the commit gets no patch file or how it fares, e.g. "already carried as x.patch". */
  verdict: string | null;
  /** The carried patch file with the same change, when there is one. */
  carriedAs: string | null;
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
  kind?: RunKind;
  proposalId?: number | null;
  commits: readonly (Omit<
    RunCommit,
    "position" | "patch" | "uploaded" | "verdict" | "carriedAs"
  > & {
    patch: Uint8Array;
    verdict?: string | null;
    carriedAs?: string | null;
  })[];
}

interface RunRow {
  id: number;
  kind: RunKind;
  proposal_id: number | null;
  supersedes: number | null;
  base_spec_sha: string | null;
  judged: number;
  apply_summary: string | null;
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
  next_attempt_at: string | null;
  notes: string;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
}

function toRun(row: RunRow): PublishRun {
  return {
    id: row.id,
    kind: row.kind,
    proposalId: row.proposal_id,
    supersedes: row.supersedes,
    baseSpecSha: row.base_spec_sha,
    judged: row.judged === 1,
    applySummary: row.apply_summary ?? null,
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
    nextAttemptAt: row.next_attempt_at ?? null,
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
      .query<RunRow, Record<string, string | number | null>>(
        `INSERT INTO publish_run (repo, branch, version_control, scm_repo, scm_branch, base_commit,
           head_commit, timestamp, work_branch, state, step, created_at, updated_at, kind, proposal_id)
         VALUES ($repo, $branch, $vc, $scm_repo, $scm_branch, $base, $head, $timestamp, $work_branch,
           'open', $step, $stamp, $stamp, $kind, $proposal)
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
        kind: run.kind ?? "new",
        step: run.kind === "extend" ? "target" : "branch",
        proposal: run.proposalId ?? null,
      });
    if (!row) throw new Error("publish run not stored");
    insertCommits(db, row.id, 0, run.commits);
    return toRun(row);
  })();
}

function insertCommits(
  db: Database,
  runId: number,
  from: number,
  commits: NewRun["commits"] | readonly RunCommit[],
): void {
  const insert = db.prepare(
    `INSERT INTO publish_commit (run_id, position, sha, date, message, url, empty, patch, verdict, carried_as)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  commits.forEach((commit, index) => {
    insert.run(
      runId,
      from + index,
      commit.sha,
      commit.date,
      commit.message,
      commit.url,
      commit.empty ? 1 : 0,
      commit.patch,
      commit.verdict ?? null,
      commit.carriedAs ?? null,
    );
  });
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
        verdict: string | null;
        carried_as: string | null;
      },
      [number]
    >("SELECT * FROM publish_commit WHERE run_id = ? ORDER BY position")
    .all(runId)
    .map((row) => ({
      verdict: row.verdict,
      carriedAs: row.carried_as,
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

/**
 * Counts a failed attempt and keeps its message on the run (shown by the status endpoint);
 * `backoffMs(attempts)` says how long the run then waits before its next attempt (none: at once).
 */
export function recordAttemptFailure(
  db: Database,
  runId: number,
  message: string,
  backoffMs?: (attempts: number) => number,
): PublishRun | null {
  return db.transaction(() => {
    db.query(
      "UPDATE publish_run SET attempts = attempts + 1, last_error = ?, updated_at = ? WHERE id = ?",
    ).run(message, now(), runId);
    const run = getRun(db, runId);
    if (!run) return null;
    const next = backoffMs ? new Date(Date.now() + backoffMs(run.attempts)).toISOString() : null;
    db.query("UPDATE publish_run SET next_attempt_at = ? WHERE id = ?").run(next, runId);
    return { ...run, nextAttemptAt: next };
  })();
}

/**
 * Completes a run: the tracking's `scm_commit` advances to the run's newest commit and the issue
 * is recorded, in one transaction with the state change.
 */
export function finishRun(
  db: Database,
  run: PublishRun,
  options: { keepPatches?: boolean } = {},
): void {
  if (!run.issueNumber) throw new Error(`run ${run.id} has no issue to record`);
  const issue = run.issueNumber;
  db.transaction(() => {
    const stamp = now();
    setScmCommit(db, run.repo, run.branch, run.headCommit);
    if (run.kind === "new") {
      insertIssue(db, {
        issue,
        repo: run.repo,
        branch: run.branch,
        pull: run.pullNumber === null ? null : String(run.pullNumber),
        createdAt: stamp,
      });
      const proposal = openProposal(db, run, stamp);
      db.query("UPDATE publish_run SET proposal_id = ? WHERE id = ?").run(proposal, run.id);
      if (run.supersedes !== null) endProposal(db, run.supersedes, "superseded", proposal);
    } else if (run.proposalId !== null) {
      db.query("UPDATE proposal SET updated_at = ? WHERE id = ?").run(stamp, run.proposalId);
    }
    db.query(
      "UPDATE publish_run SET state = 'done', step = 'finish', last_error = NULL, next_attempt_at = NULL, updated_at = ?, finished_at = ? WHERE id = ?",
    ).run(stamp, stamp, run.id);
    forgetRunCreates(db, run.id);
    // The proposal lives on the forge now; keep the journal small. A rolling proposal keeps its
    // patches until it ends: a replacement of it needs them again.
    if (!options.keepPatches)
      db.query("UPDATE publish_commit SET patch = NULL WHERE run_id = ?").run(run.id);
  })();
}

export function recordBaseSpec(db: Database, runId: number, blobSha: string): void {
  db.query("UPDATE publish_run SET base_spec_sha = ?, updated_at = ? WHERE id = ?").run(
    blobSha,
    now(),
    runId,
  );
}

/**
 * Turns an extend run whose proposal can no longer take commits into a run that opens a new
 * proposal: new timestamp and work branch, nothing uploaded yet. With `replacing`, the commits
 * of that (still open) proposal go first, so the successor loses none of them.
 */
export function convertToNewProposal(
  db: Database,
  runId: number,
  fresh: { timestamp: string; workBranch: string },
  replacing: { proposalId: number; commits: readonly RunCommit[]; baseCommit: string } | null,
): void {
  db.transaction(() => {
    if (replacing) {
      const count = replacing.commits.length;
      // Two steps keep (run_id, position) unique while shifting.
      db.query("UPDATE publish_commit SET position = -position - 1 WHERE run_id = ?").run(runId);
      db.query("UPDATE publish_commit SET position = -position - 1 + ? WHERE run_id = ?").run(
        count,
        runId,
      );
      insertCommits(db, runId, 0, replacing.commits);
    }
    db.query("UPDATE publish_commit SET uploaded = 0 WHERE run_id = ?").run(runId);
    db.query(
      `UPDATE publish_run SET kind = 'new', proposal_id = NULL, supersedes = ?, timestamp = ?,
         work_branch = ?, step = 'branch', issue_number = NULL, issue_url = NULL,
         pull_number = NULL, pull_url = NULL, notes = '[]', base_commit = COALESCE(?, base_commit),
         updated_at = ?
       WHERE id = ?`,
    ).run(
      replacing?.proposalId ?? null,
      fresh.timestamp,
      fresh.workBranch,
      replacing?.baseCommit ?? null,
      now(),
      runId,
    );
  })();
}

/** Every commit of a proposal so far, oldest first: those of its finished runs. */
export function proposalCommits(db: Database, proposalId: number): RunCommit[] {
  const runs = db
    .query<{ id: number }, [number]>(
      "SELECT id FROM publish_run WHERE proposal_id = ? AND state = 'done' ORDER BY id",
    )
    .all(proposalId);
  return runs.flatMap((run) => runCommits(db, run.id));
}

/** The run that opened a proposal (its base commit is where the proposal's commits start). */
export function openingRun(db: Database, proposalId: number): PublishRun | null {
  const row = db
    .query<RunRow, [number]>(
      "SELECT * FROM publish_run WHERE proposal_id = ? AND kind = 'new' ORDER BY id LIMIT 1",
    )
    .get(proposalId);
  return row ? toRun(row) : null;
}

/** Records the commits' verdicts (by sha) and marks the run judged, in one transaction. */
export function recordVerdicts(
  db: Database,
  runId: number,
  verdicts: ReadonlyMap<string, { verdict: string; carriedAs: string | null }>,
  applySummary: string | null = null,
): void {
  db.transaction(() => {
    db.query("UPDATE publish_run SET apply_summary = ? WHERE id = ?").run(applySummary, runId);
    const update = db.prepare(
      "UPDATE publish_commit SET verdict = ?, carried_as = ? WHERE run_id = ? AND sha = ?",
    );
    for (const [sha, judged] of verdicts) update.run(judged.verdict, judged.carriedAs, runId, sha);
    db.query("UPDATE publish_run SET judged = 1, updated_at = ? WHERE id = ?").run(now(), runId);
  })();
}

/**
 * Completes a run that needs no proposal (every commit is empty or already carried): the
 * tracking advances past its commits and nothing is written to the forge.
 */
export function passOverRun(db: Database, run: PublishRun): void {
  db.transaction(() => {
    const stamp = now();
    setScmCommit(db, run.repo, run.branch, run.headCommit);
    db.query(
      "UPDATE publish_run SET state = 'done', step = 'finish', last_error = NULL, next_attempt_at = NULL, proposal_id = NULL, updated_at = ?, finished_at = ? WHERE id = ?",
    ).run(stamp, stamp, run.id);
    forgetRunCreates(db, run.id);
    db.query("UPDATE publish_commit SET patch = NULL WHERE run_id = ?").run(run.id);
  })();
}
