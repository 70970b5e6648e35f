/**
 * GET /tracking is streamed a batch at a time; these tests prove the bytes are exactly those of
 * the whole answer built in memory (same envelope, same rows, same order) for every filter, at
 * batch edges, for a database written by the previous service, and for concurrent readers.
 */
import type { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { openDatabase } from "../src/db/database.ts";
import { TRACKING_BATCH, trackingBatches, trackingBatchQuery } from "../src/db/tracking-pages.ts";
import { listTrackings, type TrackingFilter, upsertTracking } from "../src/db/trackings.ts";
import { success } from "../src/routes/envelope.ts";
import { makeOriginalDatabase } from "./helpers/original-database.ts";
import { tempDir } from "./helpers/temp.ts";
import { startTestServer } from "./helpers/test-server.ts";

const server = startTestServer();
const ROWS = TRACKING_BATCH * 2 + 37;

/** Rows with the awkward parts of JSON: quotes, backslashes, non-ASCII, control characters, null. */
function seed(db: Database, count: number): void {
  db.transaction(() => {
    for (let i = 0; i < count; i++) {
      upsertTracking(db, {
        version_control: i % 3 === 0 ? "git" : "github",
        scm_repo: i % 3 === 0 ? `https://git.example.org/p${i}.git` : `up/"q\\${i}`,
        scm_branch: i % 7 === 0 ? "主线\u2028" : "main",
        scm_commit: i % 5 === 0 ? null : i.toString(16).padStart(40, "0"),
        repo: `src-openeuler/p${i % 400}`,
        branch: `b${Math.floor(i / 400)}\t`,
        enabled: i % 4 !== 0,
      });
    }
  })();
  // Ids that no longer follow insertion order: the answer is ordered by id, not by rowid.
  db.run("UPDATE tracking SET id = id + 100000 WHERE id % 11 = 0");
}

seed(server.db, ROWS);

const FILTERS: Array<[string, TrackingFilter]> = [
  ["", {}],
  ["?enabled=true", { enabled: true }],
  ["?enabled=0", { enabled: false }],
  ["?repo=src-openeuler%2Fp7", { repo: "src-openeuler/p7" }],
  ["?branch=b1%09", { branch: "b1\t" }],
  [
    "?repo=src-openeuler%2Fp7&branch=b2%09&enabled=True",
    {
      repo: "src-openeuler/p7",
      branch: "b2\t",
      enabled: true,
    },
  ],
  ["?repo=nothing%2Fhere", { repo: "nothing/here" }],
];

describe("GET /tracking streamed", () => {
  for (const [query, filter] of FILTERS) {
    test(`bytes equal the in-memory answer: /tracking${query}`, async () => {
      const expected = JSON.stringify(success(listTrackings(server.db, filter)));
      const response = await server.call(`/tracking${query}`);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("application/json;charset=utf-8");
      expect(await response.text()).toBe(expected);
    });
  }

  test("the whole listing spans several batches and keeps id order", async () => {
    const body = (await (await server.call("/tracking")).json()) as { data: unknown[] };
    expect(body.data).toHaveLength(ROWS);
    expect(ROWS).toBeGreaterThan(TRACKING_BATCH * 2);
  });

  test("eight concurrent readers each get the same bytes", async () => {
    const expected = JSON.stringify(success(listTrackings(server.db)));
    const bodies = await Promise.all(
      Array.from({ length: 8 }, async () => (await server.call("/tracking")).text()),
    );
    for (const body of bodies) expect(body).toBe(expected);
  });

  test("a write between two batches does not break or duplicate the listing", async () => {
    const db = openDatabase(join(tempDir(), "db.sqlite"));
    seed(db, 30);
    const before = listTrackings(db);
    const batches = trackingBatches(db, {}, 10);
    const first = batches.next().value ?? [];
    // An update of a row not yet read, and a new row (highest id): both show in later batches.
    db.run("UPDATE tracking SET enabled = 1 - enabled WHERE id = (SELECT MAX(id) FROM tracking)");
    upsertTracking(db, { ...before[0]!, branch: "late" });
    const rest = [...batches].flat();
    const seen = [...first, ...rest].map((row) => `${row.repo}:${row.branch}`);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toHaveLength(before.length + 1);
    expect(seen.at(-1)).toBe(`${before[0]!.repo}:late`);
    db.close();
  });
});

describe("trackingBatches at batch edges", () => {
  for (const count of [0, 1, 9, 10, 11, 20, 21]) {
    test(`${count} rows in batches of 10 list exactly like listTrackings`, () => {
      const db = openDatabase(join(tempDir(), "db.sqlite"));
      seed(db, count);
      const batches = [...trackingBatches(db, {}, 10)];
      expect(batches.flat()).toEqual(listTrackings(db));
      expect(batches.every((batch) => batch.length > 0 && batch.length <= 10)).toBe(true);
      db.close();
    });
  }

  test("each batch walks the id index on from the last one; none sorts the matching rows", () => {
    // Sorting every enabled row again for each batch made a 200,000-row listing quadratic.
    for (const filter of [{}, { enabled: true }, { enabled: false }] as TrackingFilter[]) {
      const { sql } = trackingBatchQuery(filter, TRACKING_BATCH);
      const plan = server.db
        .query<{ detail: string }, []>(`EXPLAIN QUERY PLAN ${sql}`)
        .all()
        .map((step) => step.detail);
      expect({ filter, plan }).toEqual({
        filter,
        plan: ["SEARCH tracking USING INDEX tracking_id (id>?)"],
      });
    }
  });

  test("a database written by the previous service (NULL ids) lists in its original order", () => {
    const path = join(tempDir(), "db.sqlite");
    makeOriginalDatabase(path);
    const db = openDatabase(path);
    expect([...trackingBatches(db, {}, 2)].flat()).toEqual(listTrackings(db));
    db.close();
  });
});
