/**
 * One page of the overview from SQL equals the same page cut from the whole overview filtered in
 * memory: every state, search, exact repo/branch, priority-only, offsets across the boundary
 * between priority trackings and the rest, and keys whose byte order differs from JavaScript's.
 */
import type { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { openDatabase } from "../src/db/database.ts";
import { overviewBatches } from "../src/db/overview-batches.ts";
import {
  OVERVIEW_STATES,
  type OverviewPageQuery,
  overviewPage,
  overviewStateOf,
} from "../src/db/overview-pages.ts";
import { listOverview, type OverviewFilter, recordScan } from "../src/db/status.ts";
import { upsertTracking } from "../src/db/trackings.ts";
import { success } from "../src/routes/envelope.ts";
import { streamedSuccess } from "../src/routes/json-stream.ts";
import { startEngineServer } from "./helpers/engine-server.ts";
import { tempDir } from "./helpers/temp.ts";
import { makeWorld } from "./helpers/world.ts";

const REPOS = ["alpha", "Beta_1", "gamma%", "ｚｅｔａ", "𝒳-astral", "zlib", "a\\b", "delta"];

function openRun(db: Database, repo: string, branch: string): void {
  const stamp = new Date().toISOString();
  db.query(
    `INSERT INTO publish_run (repo, branch, version_control, scm_repo, scm_branch, base_commit,
       head_commit, timestamp, work_branch, state, step, created_at, updated_at)
     VALUES (?, ?, 'github', 'up/x', 'main', 'a', 'b', '0', 'w', 'open', 'issue', ?, ?)`,
  ).run(repo, branch, stamp, stamp);
}

/** 8 repositories × 30 branches with every kind of state, some never scanned. */
function seed(db: Database): void {
  let n = 0;
  db.transaction(() => {
    for (const name of REPOS) {
      for (let b = 0; b < 30; b++) {
        n++;
        const repo = `src-openeuler/${name}`;
        const branch = b % 3 === 0 ? `br-${b}` : `openEuler-${b}`;
        upsertTracking(db, {
          version_control: n % 4 === 0 ? "git" : "github",
          scm_repo: n % 4 === 0 ? `https://git.example.org/${name}.git` : `upstream/${name}-up`,
          scm_branch: "main",
          scm_commit: null,
          repo,
          branch,
          enabled: n % 9 !== 0,
        });
        if (n % 5 === 0) continue; // never scanned: no status row
        const outcome =
          n % 13 === 0
            ? "failed"
            : n % 17 === 0
              ? "diverged"
              : n % 11 === 0
                ? "waiting"
                : "unchanged";
        recordScan(db, repo, branch, { outcome, error: outcome === "unchanged" ? null : "boom" });
        if (n % 7 === 0) openRun(db, repo, branch);
      }
    }
    // Open runs on trackings without a status row, too.
    openRun(db, "src-openeuler/alpha", "openEuler-4");
    openRun(db, "src-openeuler/alpha", "br-9");
  })();
}

/** The page as the in-memory reference computes it. */
function reference(db: Database, query: OverviewPageQuery): { total: number; items: unknown[] } {
  const needle = query.search?.trim().toLowerCase() ?? "";
  const state = query.state ?? "all";
  const all = listOverview(db, {
    repo: query.repo,
    branch: query.branch,
    failing: query.priorityOnly,
  }).filter(
    (item) =>
      (needle === "" ||
        item.tracking.repo.toLowerCase().includes(needle) ||
        item.tracking.scm_repo.toLowerCase().includes(needle)) &&
      (state === "all" || overviewStateOf(item) === state),
  );
  return { total: all.length, items: all.slice(query.offset, query.offset + query.limit) };
}

const db = openDatabase(join(tempDir(), "db.sqlite"));
seed(db);
const TOTAL = REPOS.length * 30;

describe("overviewPage equals the in-memory page", () => {
  const filters: Array<Omit<OverviewPageQuery, "offset" | "limit">> = [
    {},
    { priorityOnly: true },
    { search: "BETA" },
    { search: "gamma%" },
    { search: "_1" },
    { search: "a\\b" },
    { search: "-up" },
    { search: "git.example" },
    { repo: "src-openeuler/zlib" },
    { branch: "br-3" },
    { repo: "src-openeuler/delta", priorityOnly: true },
    ...OVERVIEW_STATES.map((state) => ({ state })),
    { state: "disabled", search: "e" },
    { state: "ok", repo: "src-openeuler/ｚｅｔａ" },
    { state: "waiting", search: "git.example" },
    { state: "pending", branch: "br-3" },
  ];
  for (const filter of filters) {
    test(JSON.stringify(filter), () => {
      for (const limit of [1, 7, 25, 100]) {
        // Page size 1 only over the first rows, where the priority ones end and the rest begin.
        const end = limit === 1 ? 60 : TOTAL + limit;
        for (let offset = 0; offset <= end; offset += limit) {
          const query = { ...filter, offset, limit };
          const page = overviewPage(db, query);
          expect(page).toEqual(reference(db, query) as never);
        }
      }
    });
  }

  test("the seed covers every state, open runs without status, and never-scanned rows", () => {
    const states = new Set(listOverview(db).map(overviewStateOf));
    expect([...states].sort()).toEqual(["disabled", "failing", "ok", "open", "pending", "waiting"]);
    const all = listOverview(db);
    expect(all.some((item) => item.openRun && item.status.lastScanAt === null)).toBe(true);
    expect(all.filter((item) => item.status.lastScanAt === null).length).toBeGreaterThan(20);
  });
});

const engine = await startEngineServer(await makeWorld());
seed(engine.db);
const port = engine.connection[1]?.split(":")[1];
const server = {
  call: (path: string) =>
    fetch(`https://127.0.0.1:${port}${path}`, {
      tls: { rejectUnauthorized: false },
    } as RequestInit),
};

describe("GET /tracking/status pages", () => {
  test("page, per_page and total; without them the whole list as before", async () => {
    const all = (await (await server.call("/tracking/status")).json()) as any;
    expect(all.data.trackings).toHaveLength(TOTAL);
    expect(all.data.total).toBeUndefined();
    const body = (await (await server.call("/tracking/status?page=3&per_page=20")).json()) as any;
    expect(body.code).toBe("2001");
    expect(body.data.page).toBe(3);
    expect(body.data.per_page).toBe(20);
    expect(body.data.total).toBe(TOTAL);
    expect(body.data.trackings).toEqual(all.data.trackings.slice(40, 60));
    expect(body.data.scanner).toBeDefined();
  });

  test("failing=true with a page keeps only failing trackings and those with an open run", async () => {
    const all = (await (await server.call("/tracking/status?failing=true")).json()) as any;
    const body = (await (await server.call("/tracking/status?failing=true&page=1")).json()) as any;
    expect(body.data.total).toBe(all.data.trackings.length);
    expect(body.data.trackings).toEqual(all.data.trackings.slice(0, 100));
  });

  test("state and search filter; a page past the end is empty", async () => {
    const failing = (await (await server.call("/tracking/status?state=failing")).json()) as any;
    expect(failing.data.total).toBeGreaterThan(0);
    for (const item of failing.data.trackings) expect(overviewStateOf(item)).toBe("failing");
    const search = (await (await server.call("/tracking/status?search=ZLIB")).json()) as any;
    expect(search.data.total).toBe(30);
    const past = (await (await server.call("/tracking/status?page=99")).json()) as any;
    expect(past.data.trackings).toEqual([]);
    expect(past.data.total).toBe(TOTAL);
  });

  for (const [query, field] of [
    ["page=0", "page"],
    ["page=1.5", "page"],
    ["page=x", "page"],
    ["per_page=1001", "per_page"],
    ["per_page=0", "per_page"],
    ["state=broken", "state"],
  ] as const) {
    test(`${query} answers 4001 naming ${field}`, async () => {
      const body = (await (await server.call(`/tracking/status?${query}`)).json()) as any;
      expect(body.code).toBe("4001");
      expect(JSON.stringify(body.data)).toContain(field);
    });
  }
});

describe("GET /tracking/status without a page is streamed", () => {
  const filters: Array<[string, OverviewFilter]> = [
    ["", {}],
    ["?repo=src-openeuler%2Fzlib", { repo: "src-openeuler/zlib" }],
    ["?branch=br-3", { branch: "br-3" }],
    ["?failing=true", { failing: true }],
    ["?repo=src-openeuler%2Fdelta&failing=1", { repo: "src-openeuler/delta", failing: true }],
    ["?repo=nothing%2Fhere", { repo: "nothing/here" }],
  ];
  for (const [query, filter] of filters) {
    test(`bytes equal the whole list built in memory: /tracking/status${query}`, async () => {
      const response = await server.call(`/tracking/status${query}`);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("application/json;charset=utf-8");
      const text = await response.text();
      const { scanner } = JSON.parse(text).data;
      const trackings = listOverview(engine.db, filter);
      expect(text).toBe(JSON.stringify(success({ scanner, trackings })));
    });
  }

  test("in batches of 7 the stream still has the same bytes", async () => {
    const scanner = { scanning: false, note: 'a "quoted" \u0000 value' };
    for (const [, filter] of filters) {
      const streamed = streamedSuccess(overviewBatches(db, filter, 7), (trackings) => ({
        scanner,
        trackings,
      }));
      const whole = JSON.stringify(success({ scanner, trackings: listOverview(db, filter) }));
      expect(await streamed.text()).toBe(whole);
    }
  });

  test("overviewBatches lists exactly like listOverview, priority rows across batch edges", () => {
    const whole = listOverview(db);
    const priority = whole.filter((item) => overviewStateOf(item) === "failing" || item.openRun);
    expect(priority.length).toBeGreaterThan(7);
    for (const size of [1, 7, 100, TOTAL, TOTAL + 1]) {
      const batches = [...overviewBatches(db, {}, size)];
      expect(batches.flat()).toEqual(whole);
      expect(batches.every((batch) => batch.length > 0 && batch.length <= size)).toBe(true);
    }
  });

  test("a write between two batches: order of the start, values of the read, a deleted row left out", () => {
    const other = openDatabase(join(tempDir(), "db.sqlite"));
    seed(other);
    const before = listOverview(other);
    const batches = overviewBatches(other, {}, 50);
    const first = batches.next().value ?? [];
    const last = before.at(-1)!.tracking;
    const gone = before.at(-2)!.tracking;
    recordScan(other, last.repo, last.branch, { outcome: "failed", error: "late failure" });
    other.run("DELETE FROM tracking WHERE repo = ? AND branch = ?", [gone.repo, gone.branch]);
    const listed = [...first, ...[...batches].flat()];
    expect(listed.map((item) => item.tracking)).toEqual(
      before.map((item) => item.tracking).filter((t) => t !== gone),
    );
    expect(listed.at(-1)?.status.lastError).toBe("late failure");
    other.close();
  });
});
