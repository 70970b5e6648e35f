/** Queries on the `tracking` table: one row per tracked downstream (repo, branch). */
import type { Database } from "bun:sqlite";
import { whereEquals } from "./where.ts";

export type VersionControl = "github" | "git";
export const VERSION_CONTROLS: readonly VersionControl[] = ["github", "git"];

/** A tracking as the REST API shows it: exactly these seven fields. */
export interface Tracking {
  version_control: VersionControl;
  scm_repo: string;
  scm_branch: string;
  scm_commit: string | null;
  repo: string;
  branch: string;
  enabled: boolean;
}

/** What a POST carries; `scm_commit` absent (or null) keeps the stored one on update. */
export interface TrackingInput extends Omit<Tracking, "scm_commit"> {
  scm_commit?: string | null;
}

export interface TrackingFilter {
  repo?: string;
  branch?: string;
  enabled?: boolean;
}

/** A `tracking` row as SQLite returns it (the original's columns may hold NULL or ""). */
export interface TrackingRow {
  id: number | null;
  version_control: string;
  scm_repo: string;
  scm_branch: string;
  scm_commit: string | null;
  repo: string;
  branch: string;
  enabled: number | boolean | null;
}

export function toTracking(row: Omit<TrackingRow, "id">): Tracking {
  return {
    version_control: row.version_control as VersionControl,
    scm_repo: row.scm_repo,
    scm_branch: row.scm_branch,
    // The original stored "" as well as NULL for "not started yet".
    scm_commit: row.scm_commit ? row.scm_commit : null,
    repo: row.repo,
    branch: row.branch,
    enabled: Boolean(row.enabled),
  };
}

const COLUMNS = "id, version_control, scm_repo, scm_branch, scm_commit, repo, branch, enabled";

export function listTrackings(db: Database, filter: TrackingFilter = {}): Tracking[] {
  const where = whereEquals({
    repo: filter.repo,
    branch: filter.branch,
    enabled: filter.enabled === undefined ? undefined : filter.enabled ? 1 : 0,
  });
  const sql = `SELECT ${COLUMNS} FROM tracking${where.sql} ORDER BY id`;
  return db
    .query<TrackingRow, Record<string, string | number>>(sql)
    .all(where.params)
    .map(toTracking);
}

export function getTracking(db: Database, repo: string, branch: string): Tracking | null {
  const row = db
    .query<TrackingRow, { repo: string; branch: string }>(
      `SELECT ${COLUMNS} FROM tracking WHERE repo = $repo AND branch = $branch`,
    )
    .get({ repo, branch });
  return row ? toTracking(row) : null;
}

/**
 * Inserts or updates the tracking keyed by (repo, branch). On update an absent or empty
 * `scm_commit` keeps the stored one, so re-adding an item never skips commits.
 * Returns whether a new row was created.
 */
export function upsertTracking(db: Database, input: TrackingInput): { created: boolean } {
  return db.transaction(() => {
    const existing = getTracking(db, input.repo, input.branch);
    const scmCommit = input.scm_commit ? input.scm_commit : null;
    if (existing) {
      db.query(
        `UPDATE tracking SET version_control = $vc, scm_repo = $scm_repo, scm_branch = $scm_branch,
           scm_commit = COALESCE($scm_commit, scm_commit), enabled = $enabled
         WHERE repo = $repo AND branch = $branch`,
      ).run({
        vc: input.version_control,
        scm_repo: input.scm_repo,
        scm_branch: input.scm_branch,
        scm_commit: scmCommit,
        enabled: input.enabled ? 1 : 0,
        repo: input.repo,
        branch: input.branch,
      });
      return { created: false };
    }
    db.query(
      `INSERT INTO tracking (id, version_control, scm_repo, scm_branch, scm_commit, repo, branch, enabled)
       VALUES ((SELECT COALESCE(MAX(id), 0) + 1 FROM tracking), $vc, $scm_repo, $scm_branch,
               $scm_commit, $repo, $branch, $enabled)`,
    ).run({
      vc: input.version_control,
      scm_repo: input.scm_repo,
      scm_branch: input.scm_branch,
      scm_commit: scmCommit,
      repo: input.repo,
      branch: input.branch,
      enabled: input.enabled ? 1 : 0,
    });
    return { created: true };
  })();
}

/**
 * Deletes one branch's tracking, or every branch of `repo` when `branch` is undefined, with its
 * scan status and filters; its unfinished publish runs are marked abandoned so they are never resumed.
 */
export function deleteTrackings(db: Database, repo: string, branch?: string): number {
  const where = branch === undefined ? "repo = $repo" : "repo = $repo AND branch = $branch";
  const params: Record<string, string> = branch === undefined ? { repo } : { repo, branch };
  return db.transaction(() => {
    const stamp = new Date().toISOString();
    db.query(
      `UPDATE publish_run SET state = 'abandoned', updated_at = $stamp, finished_at = $stamp
       WHERE state = 'open' AND ${where}`,
    ).run({ ...params, stamp });
    db.query(`DELETE FROM tracking_status WHERE ${where}`).run(params);
    db.query(`DELETE FROM tracking_filter WHERE ${where}`).run(params);
    return db.query(`DELETE FROM tracking WHERE ${where}`).run(params).changes;
  })();
}

/** Records the upstream commit a tracking has been processed up to. */
export function setScmCommit(db: Database, repo: string, branch: string, sha: string): void {
  db.query("UPDATE tracking SET scm_commit = $sha WHERE repo = $repo AND branch = $branch").run({
    sha,
    repo,
    branch,
  });
}
