/**
 * When a publish run that failed may be tried again: exponential backoff per run, counted in the
 * run's own failed attempts (not in scans), so a run that fails for ever — a forge that refuses a
 * file, a repository gone — costs a few requests a day instead of a full attempt every scan.
 * The scan endpoint (`POST /tracking/scan?repo=…`) retries at once regardless.
 */

/** Delay after the first failed attempt. */
export const RUN_BACKOFF_BASE_MS = 30_000;
/** The delay stops doubling here. */
export const RUN_BACKOFF_MAX_MS = 24 * 3600_000;

/**
 * The delay after `attempts` failed attempts (1 → 30 s, 2 → 1 min, 3 → 2 min, … up to a day),
 * with up to 10 % jitter so runs that failed together (an outage) do not all come back at once.
 */
export function runBackoffMs(
  attempts: number,
  baseMs = RUN_BACKOFF_BASE_MS,
  random: () => number = Math.random,
): number {
  const exponent = Math.min(Math.max(attempts, 1) - 1, 30);
  const delay = Math.min(baseMs * 2 ** exponent, RUN_BACKOFF_MAX_MS);
  return Math.round(delay * (1 + 0.1 * random()));
}
