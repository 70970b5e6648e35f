/**
 * The repository search of the status page and `/tracking/status?search=`: trackings whose
 * downstream or upstream repository contains the text, as `LIKE '%text%'` matches it (ASCII
 * letters in either case). Reading every row for it costs 50–150 ms at 200,000 trackings, so a
 * trigram index (the FTS5 table `tracking_search`, made by migration 12 and kept in step with
 * `tracking` by triggers) names the few rows that can match. It only narrows: the LIKE still
 * decides, so the answer is the same with or without the index.
 *
 * A database of the previous service gets its index filled in the background, a batch at a time
 * (`fillSearchIndexInBackground`), so the first start does not wait for it; until it is complete
 * searches read every row as before. `tracking_search_fill.upto` is the invariant the triggers
 * and the filler share: the trackings with a rowid up to it are in the index with their current
 * names, the others are not in it at all (`done` = every tracking, whatever its rowid).
 */
import type { Database } from "bun:sqlite";
import type { Logger } from "../log.ts";

/** Trackings indexed per batch of the background fill (~10 ms of work each). */
export const SEARCH_FILL_BATCH = 5000;
/**
 * A search with more candidates than this reads every row instead: checking each candidate by
 * rowid costs several times what reading it in a table scan does.
 */
export const SEARCH_CANDIDATE_LIMIT = 10_000;
/**
 * How long after start the background fill begins: the start itself (migrations, the boot scan
 * reading its trackings, the first requests) comes first.
 */
export const SEARCH_FILL_DELAY_MS = 2000;
/** A table this small is indexed by the migration itself instead of in the background. */
export const SEARCH_FILL_AT_ONCE = 10_000;

/** `LIKE` pattern for "contains `needle`", with `\` escaping LIKE's own wildcards. */
export function containsPattern(needle: string): string {
  return `%${needle.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * FTS5 query for rows holding every three-character piece of `needle` (in either column), or null
 * when it is shorter than three characters and the index cannot narrow it. Each piece is a quoted
 * string, so quotes, `%`, `_` and the query syntax's own words are plain text.
 */
export function trigramQuery(needle: string): string | null {
  const chars = Array.from(needle);
  if (chars.length < 3) return null;
  const pieces = new Set<string>();
  for (let at = 0; at + 3 <= chars.length; at++) pieces.add(chars.slice(at, at + 3).join(""));
  return [...pieces].map((piece) => `"${piece.replaceAll('"', '""')}"`).join(" AND ");
}

/** Whether every tracking is in the search index. */
export function searchIndexComplete(db: Database): boolean {
  return db.query<{ done: number }, []>("SELECT done FROM tracking_search_fill").get()?.done === 1;
}

/**
 * The FTS5 query that narrows a search for `needle` to at most {@link SEARCH_CANDIDATE_LIMIT}
 * trackings (a superset of the matches), or null when the search has to read every row: the index
 * is not complete yet, the text is too short, or too many trackings have its pieces.
 */
export function searchNarrowing(db: Database, needle: string): string | null {
  const match = trigramQuery(needle);
  if (match === null || !searchIndexComplete(db)) return null;
  const candidates =
    db
      .query<{ n: number }, [string, number]>(
        `SELECT COUNT(*) AS n FROM (SELECT rowid FROM tracking_search WHERE tracking_search MATCH ?
         LIMIT ?)`,
      )
      .get(match, SEARCH_CANDIDATE_LIMIT + 1)?.n ?? 0;
  return candidates > SEARCH_CANDIDATE_LIMIT ? null : match;
}

/**
 * Indexes the next `batch` trackings not in the index yet, in rowid order; true once every
 * tracking is in it. One write transaction, so no tracking is added or renamed half-way.
 */
export function fillSearchIndex(db: Database, batch = SEARCH_FILL_BATCH): boolean {
  return db
    .transaction(() => {
      const fill = db
        .query<{ upto: number; done: number }, []>("SELECT upto, done FROM tracking_search_fill")
        .get();
      if (!fill || fill.done === 1) return true;
      const last = db
        .query<{ rows: number; top: number | null }, [number, number]>(
          `SELECT COUNT(*) AS rows, MAX(rowid) AS top FROM (
             SELECT rowid FROM tracking WHERE rowid > ? ORDER BY rowid LIMIT ?)`,
        )
        .get(fill.upto, batch);
      const top = last?.top ?? fill.upto;
      db.query(
        `INSERT INTO tracking_search (rowid, repo, scm_repo)
         SELECT rowid, repo, scm_repo FROM tracking WHERE rowid > ? AND rowid <= ?`,
      ).run(fill.upto, top);
      // Nothing after this batch: complete, and from now on the triggers index every row.
      const done = (last?.rows ?? 0) < batch ? 1 : 0;
      db.query("UPDATE tracking_search_fill SET upto = ?, done = ?").run(top, done);
      return done === 1;
    })
    .immediate();
}

/**
 * Fills the search index a batch per turn of the event loop until it is complete, so requests
 * are answered in between, beginning `delayMs` after the call. Returns a function that stops it (the progress is kept for next time).
 */
export function fillSearchIndexInBackground(
  db: Database,
  log: Logger,
  delayMs = SEARCH_FILL_DELAY_MS,
): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const started = performance.now();
  const step = () => {
    if (stopped) return;
    try {
      if (!fillSearchIndex(db)) {
        timer = setTimeout(step, 0);
        return;
      }
      log.info("repository search index complete", {
        component: "db",
        ms: Math.round(performance.now() - started),
      });
    } catch (error) {
      // Busy or failing: searches keep reading every row meanwhile; try again a little later.
      log.warn("repository search index not filled yet", { component: "db", error });
      timer = setTimeout(step, 5000);
    }
  };
  if (!searchIndexComplete(db)) timer = setTimeout(step, delayMs);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
