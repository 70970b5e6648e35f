/**
 * The service's own work branches, `patch-tracking/<timestamp>`: built and recognised in one
 * place. The timestamp is the local time as `YYYYmmddHHMMSSffffff` (20 digits, microseconds),
 * as the original wrote it; it also titles the issue and pull request of a publish run.
 */
import { WORK_BRANCH_PREFIX } from "../tracking-rules.ts";

const TIMESTAMP = /^\d{20}$/;
let lastIssued = "";

function pad(value: number, width: number): string {
  return String(value).padStart(width, "0");
}

/**
 * A 20-digit local timestamp. JavaScript clocks have millisecond precision, so the last three
 * digits count up within a millisecond; successive calls in one process never repeat.
 */
export function makeTimestamp(now: Date = new Date()): string {
  const base =
    pad(now.getFullYear(), 4) +
    pad(now.getMonth() + 1, 2) +
    pad(now.getDate(), 2) +
    pad(now.getHours(), 2) +
    pad(now.getMinutes(), 2) +
    pad(now.getSeconds(), 2) +
    pad(now.getMilliseconds(), 3);
  let candidate = `${base}000`;
  if (candidate <= lastIssued) candidate = (BigInt(lastIssued) + 1n).toString().padStart(20, "0");
  lastIssued = candidate;
  return candidate;
}

export function workBranchName(timestamp: string): string {
  if (!TIMESTAMP.test(timestamp)) throw new Error(`not a 20-digit timestamp: ${timestamp}`);
  return `${WORK_BRANCH_PREFIX}${timestamp}`;
}

/** The timestamp of a work branch, or null when `branch` is not one of ours. */
export function parseWorkBranch(branch: string): string | null {
  if (!branch.startsWith(WORK_BRANCH_PREFIX)) return null;
  const timestamp = branch.slice(WORK_BRANCH_PREFIX.length);
  return TIMESTAMP.test(timestamp) ? timestamp : null;
}

export function isWorkBranch(branch: string): boolean {
  return branch.startsWith(WORK_BRANCH_PREFIX);
}
