/**
 * The repository search through the trigram index answers exactly what reading every row
 * answers (same trackings, same order, same totals), for short texts, LIKE's wildcards, quotes,
 * FTS5 syntax and case; the index follows inserts, renames and deletes, also while the
 * background fill of a previous service's database is under way.
 */
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { openDatabase } from "../src/db/database.ts";
import { type OverviewPageQuery, overviewPage } from "../src/db/overview-pages.ts";
import {
  fillSearchIndex,
  fillSearchIndexInBackground,
  SEARCH_CANDIDATE_LIMIT,
  SEARCH_FILL_AT_ONCE,
  searchIndexComplete,
  searchNarrowing,
  trigramQuery,
} from "../src/db/repo-search.ts";
import { recordScan } from "../src/db/status.ts";
import { deleteTrackings, upsertTracking } from "../src/db/trackings.ts";
import { silentLogger } from "../src/log.ts";
import { createOriginalTables } from "./helpers/original-database.ts";
import { tempDir } from "./helpers/temp.ts";

const NAMES = [
  "zlib",
  "ZLIB-ng",
  "Beta_1",
  "beta-1",
  "gamma%",
  "50%_off",
  "a\\b",
  "it's",
  'say "hi"',
  "NOT AND OR",
  "near(x y)",
  "ｚｅｔａ",
  "Ｚｅｔａ",
  "Ärger",
  "ärger",
  "𝒳-astral",
  "with space",
  "kernel",
  "openssl",
  "xz",
];

const NEEDLES = [
  "a",
  "Z",
  "xz",
  "_1",
  "%",
  "\\",
  "'",
  '"',
  "zli",
  "ZLIB",
  "lib-",
  "beta_1",
  "a_1",
  "gamma%",
  "mma%",
  "50%_",
  "%_o",
  "a\\b",
  "t's",
  '"hi"',
  "AND",
  "NOT AND",
  "near(",
  "(x y)",
  "ｅｔａ",
  "ＺＥＴＡ",
  "ÄRGER",
  "rger",
  "𝒳-a",
  "h sp",
  "src-openeuler/",
  "upstream/",
  "git.example",
  "openeuler",
  "no such name",
  "  kernel  ",
];

/** Trackings of NAMES × branches, with statuses so every state filter has rows. */
function seed(db: Database, branches = 6): void {
  db.transaction(() => {
    let n = 0;
    for (const name of NAMES) {
      for (let b = 0; b < branches; b++) {
        n++;
        const repo = `src-openeuler/${name}`;
        const branch = `openEuler-${20 + b}.03`;
        upsertTracking(db, {
          version_control: n % 4 === 0 ? "git" : "github",
          scm_repo: n % 4 === 0 ? `https://git.example.org/${name}.git` : `upstream/${name}-${b}`,
          scm_branch: "main",
          repo,
          branch,
          enabled: n % 9 !== 0,
        });
        if (n % 5 !== 0) {
          recordScan(db, repo, branch, { outcome: n % 13 === 0 ? "failed" : "unchanged" });
        }
      }
    }
  })();
}

/** The same query answered by reading every row: the index marked incomplete for the call. */
function byScan(db: Database, query: OverviewPageQuery) {
  db.run("UPDATE tracking_search_fill SET done = 0");
  try {
    return overviewPage(db, query);
  } finally {
    db.run("UPDATE tracking_search_fill SET done = 1");
  }
}

/** FTS5's own check of the index against the `tracking` rows it was built from. */
function indexIsConsistent(db: Database): boolean {
  db.run("INSERT INTO tracking_search (tracking_search, rank) VALUES ('integrity-check', 1)");
  return true;
}

function expectSameAsScan(db: Database, needles: readonly string[]): number {
  let narrowed = 0;
  for (const search of needles) {
    if (searchNarrowing(db, search.trim()) !== null) narrowed++;
    for (const state of ["all", "ok", "failing", "pending", "disabled"] as const) {
      for (const [offset, limit] of [
        [0, 1000],
        [0, 7],
        [5, 7],
      ] as const) {
        const query = { search, state, offset, limit };
        expect({ search, state, offset, page: overviewPage(db, query) }).toEqual({
          search,
          state,
          offset,
          page: byScan(db, query),
        });
      }
    }
  }
  return narrowed;
}

describe("search through the trigram index", () => {
  const db = openDatabase(join(tempDir(), "db.sqlite"));
  seed(db);

  test("a small database is indexed by the migration itself", () => {
    expect(searchIndexComplete(db)).toBe(true);
    expect(indexIsConsistent(db)).toBe(true);
  });

  test("same trackings, order and totals as reading every row, for every kind of text", () => {
    const narrowed = expectSameAsScan(db, NEEDLES);
    // Texts of three characters or more went through the index, the shorter ones did not.
    expect(narrowed).toBe(NEEDLES.filter((needle) => Array.from(needle.trim()).length >= 3).length);
    expect(overviewPage(db, { search: "ZLIB", offset: 0, limit: 100 }).total).toBe(12);
    expect(overviewPage(db, { search: "50%_", offset: 0, limit: 100 }).total).toBe(6);
    expect(overviewPage(db, { search: "%", offset: 0, limit: 100 }).total).toBe(12);
  });

  test("pieces of three characters, quoted, so FTS5 syntax and quotes are plain text", () => {
    expect(trigramQuery("ab")).toBeNull();
    expect(trigramQuery("𝒳-a")).toBe('"𝒳-a"');
    expect(trigramQuery('a"bc')).toBe('"a""b" AND """bc"');
    expect(trigramQuery("aaaa")).toBe('"aaa"');
  });

  test("inserts, renames and deletes are searched at once", () => {
    upsertTracking(db, {
      version_control: "github",
      scm_repo: "upstream/brand-new",
      scm_branch: "main",
      repo: "src-openeuler/fresh",
      branch: "master",
      enabled: true,
    });
    expect(overviewPage(db, { search: "brand-new", offset: 0, limit: 10 }).total).toBe(1);
    // Renamed upstream: found by the new name only.
    upsertTracking(db, {
      version_control: "github",
      scm_repo: "upstream/renamed",
      scm_branch: "main",
      repo: "src-openeuler/fresh",
      branch: "master",
      enabled: true,
    });
    expect(overviewPage(db, { search: "brand-new", offset: 0, limit: 10 }).total).toBe(0);
    expect(overviewPage(db, { search: "renamed", offset: 0, limit: 10 }).total).toBe(1);
    // The downstream name changed in place (as an operator's SQL might).
    db.run("UPDATE tracking SET repo = 'src-openeuler/kernel-rt' WHERE repo = 'src-openeuler/xz'");
    expect(overviewPage(db, { search: "kernel-rt", offset: 0, limit: 10 }).total).toBe(6);
    deleteTrackings(db, "src-openeuler/zlib");
    deleteTrackings(db, "src-openeuler/kernel", "openEuler-21.03");
    expect(overviewPage(db, { search: "zlib", offset: 0, limit: 100 }).total).toBe(6);
    expect(indexIsConsistent(db)).toBe(true);
    expectSameAsScan(db, NEEDLES);
  });

  test("a text most trackings hold reads every row instead of checking each candidate", () => {
    const big = openDatabase(join(tempDir(), "db.sqlite"));
    const insert = big.prepare(
      "INSERT INTO tracking (id, version_control, scm_repo, scm_branch, repo, branch, enabled) VALUES (?, 'github', ?, 'main', ?, 'master', 1)",
    );
    big.transaction(() => {
      for (let i = 1; i <= SEARCH_CANDIDATE_LIMIT + 50; i++) {
        insert.run(i, `upstream/common-${i}`, `src-openeuler/p${i}`);
      }
    })();
    expect(searchIndexComplete(big)).toBe(true);
    expect(searchNarrowing(big, "common")).toBeNull();
    expect(searchNarrowing(big, "p1234")).not.toBeNull();
    for (const search of ["common", "p1234", "on-9"]) {
      const query = { search, offset: 40, limit: 100 };
      expect(overviewPage(big, query)).toEqual(byScan(big, query));
    }
    expect(overviewPage(big, { search: "common", offset: 0, limit: 1 }).total).toBe(
      SEARCH_CANDIDATE_LIMIT + 50,
    );
    big.close();
  });
});

describe("a previous service's database too large to index at start", () => {
  const rows = SEARCH_FILL_AT_ONCE + 2500;
  const path = join(tempDir(), "db.sqlite");
  const original = new Database(path, { create: true });
  createOriginalTables(original);
  const insert = original.prepare("INSERT INTO tracking VALUES (NULL, ?, ?, 'main', '', ?, ?, 1)");
  original.transaction(() => {
    for (let i = 0; i < rows; i++) {
      insert.run("github", `upstream/u${i}`, `src-openeuler/p${Math.floor(i / 4)}`, `b${i % 4}`);
    }
  })();
  original.close();

  test("searches read every row until the fill is complete; the fill follows changes made meanwhile", () => {
    const db = openDatabase(path);
    expect(searchIndexComplete(db)).toBe(false);
    expect(searchNarrowing(db, "p1234")).toBeNull();
    const before = overviewPage(db, { search: "u1234", offset: 0, limit: 100 });
    expect(before.total).toBe(11); // u1234, u12340 … u12349
    let batches = 0;
    let done = false;
    while (!done) {
      done = fillSearchIndex(db, 1000);
      batches++;
      const upto =
        db.query<{ upto: number }, []>("SELECT upto FROM tracking_search_fill").get()?.upto ?? 0;
      // Changes on both sides of the fill's progress, between two batches.
      db.run("UPDATE tracking SET scm_repo = scm_repo || '-moved' WHERE rowid IN (?, ?)", [
        Math.max(1, upto - 10),
        upto + 10,
      ]);
      db.run("DELETE FROM tracking WHERE rowid IN (?, ?)", [Math.max(1, upto - 20), upto + 20]);
      upsertTracking(db, {
        version_control: "github",
        scm_repo: `upstream/late-${batches}`,
        scm_branch: "main",
        repo: `src-openeuler/late-${batches}`,
        branch: "master",
        enabled: true,
      });
    }
    expect(batches).toBeGreaterThan(rows / 1000);
    expect(searchIndexComplete(db)).toBe(true);
    expect(indexIsConsistent(db)).toBe(true);
    expect(searchNarrowing(db, "moved")).not.toBeNull();
    for (const search of ["u1234", "moved", "late-", "late-1", "p12", "b3", "src"]) {
      const query = { search, offset: 0, limit: 1000 };
      expect(overviewPage(db, query)).toEqual(byScan(db, query));
    }
    expect(overviewPage(db, { search: "late-", offset: 0, limit: 1 }).total).toBe(batches);
    db.close();
  });

  test("the running service fills it in the background and stops when asked", async () => {
    const copy = join(tempDir(), "db.sqlite");
    const fresh = new Database(copy, { create: true });
    createOriginalTables(fresh);
    fresh.run(
      `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ${rows - 1})
       INSERT INTO tracking SELECT NULL, 'github', 'upstream/u' || i, 'main', '', 'src/p' || i, 'master', 1 FROM n`,
    );
    fresh.close();
    const db = openDatabase(copy);
    expect(searchIndexComplete(db)).toBe(false);
    const stop = fillSearchIndexInBackground(db, silentLogger, 0);
    for (let i = 0; i < 500 && !searchIndexComplete(db); i++) await Bun.sleep(10);
    stop();
    expect(searchIndexComplete(db)).toBe(true);
    expect(indexIsConsistent(db)).toBe(true);
    expect(overviewPage(db, { search: "p777", offset: 0, limit: 100 }).total).toBe(11);
    // Stopped before it starts: nothing is filled, and a later start resumes from there.
    const again = openDatabase(join(tempDir(), "db.sqlite"));
    again.run("UPDATE tracking_search_fill SET done = 0");
    fillSearchIndexInBackground(again, silentLogger, 0)();
    await Bun.sleep(20);
    expect(searchIndexComplete(again)).toBe(false);
    db.close();
    again.close();
  });
});
