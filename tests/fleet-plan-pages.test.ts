/**
 * The fleet plan at scale: a page is read from the database by itself (not by listing every
 * tracking), looked up and planned a GitHub head query's worth at a time with progress lines, and
 * `plan --all --json` writes, from its temporary file, exactly the bytes `JSON.stringify` would.
 */
import { describe, expect, test } from "bun:test";
import { jsonItem, writeFleetJson } from "../cli/commands/fleet-plan.ts";
import { Spool } from "../cli/spool.ts";
import { trackingPage } from "../src/db/tracking-pages.ts";
import { listTrackings, upsertTracking } from "../src/db/trackings.ts";
import { createLogger } from "../src/log.ts";
import { type FleetItem, PLAN_CHUNK, planFleet, summarize } from "../src/scan/fleet-plan.ts";
import { planReads } from "../src/scan/plan-reads.ts";
import { makeWorld } from "./helpers/world.ts";

const world = await makeWorld();
const head = await world.upstream.head();
const COUNT = 260;
// Every seventh tracking is disabled: pages count enabled ones only.
for (let i = 0; i < COUNT; i++) {
  world.github.addRepo(`fleet/u${i}`, world.upstream.dir);
  upsertTracking(world.db, {
    version_control: "github",
    scm_repo: `fleet/u${i}`,
    scm_branch: "main",
    scm_commit: head,
    repo: `src-openeuler/f${i}`,
    branch: "master",
    enabled: i % 7 !== 3,
  });
}
const enabled = listTrackings(world.db, { enabled: true });

describe("a page of the fleet", () => {
  test("is the same rows, in the same order, as the whole listing cut there", () => {
    for (const offset of [0, 1, 99, 100, 150, enabled.length - 1, enabled.length, 1000]) {
      for (const limit of [0, 1, 100, 1000, undefined]) {
        const page = trackingPage(world.db, { enabled: true }, { offset, limit });
        expect(page.total).toBe(enabled.length);
        expect(page.rows).toEqual(
          enabled.slice(offset, limit === undefined ? undefined : offset + limit),
        );
      }
    }
    const disabled = trackingPage(world.db, { enabled: false }, { offset: 2, limit: 3 });
    expect(disabled.rows).toEqual(listTrackings(world.db, { enabled: false }).slice(2, 5));
  });

  test("is looked up and planned one head query's worth at a time, with progress lines", async () => {
    const lines: string[] = [];
    const log = createLogger({ sink: { write: (line) => lines.push(line) } });
    world.github.resetLog();
    const limit = 2 * PLAN_CHUNK + 17;
    const plan = await planFleet(
      {
        planDeps: () => ({
          db: world.db,
          forge: planReads(world.forge, null),
          upstreams: world.deps.upstreams,
        }),
        log,
        progressEveryMs: 0,
      },
      { offset: 5, limit },
    );
    expect(plan.total).toBe(enabled.length);
    expect(plan.items.map((item) => item.repo)).toEqual(
      enabled.slice(5, 5 + limit).map((tracking) => tracking.repo),
    );
    expect(plan.items.every((item) => item.state === "up-to-date")).toBe(true);
    // One GraphQL query per chunk of 100 (what one query holds), nothing else.
    const graphql = world.github.requests.filter((request) => request.path.endsWith("/graphql"));
    expect(graphql).toHaveLength(3);
    expect(world.github.requests).toHaveLength(3);
    const progress = lines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.msg === "fleet plan progress");
    expect(progress.map((line) => [line.planned, line.of, line.total])).toEqual([
      [100, limit, enabled.length],
      [200, limit, enabled.length],
    ]);
  });
});

describe("plan --all --json written as it comes", () => {
  const item = (n: number, fields: Partial<FleetItem> = {}): FleetItem => ({
    repo: `src-openeuler/p${n}`,
    branch: "master",
    upstream: `up/u${n}@main`,
    state: "would-propose",
    newCommits: 2,
    passedOver: 0,
    empty: 0,
    carried: 0,
    applyCheck: { applies: 1, alreadyApplied: 0, conflicts: 1, notChecked: 0 },
    proposed: 2,
    remaining: 0,
    proposal: "extend",
    openProposal: { pull: n, action: "extend" },
    ...fields,
  });

  /** What `--json` writes for `items`, read by a reader that takes each chunk a tick later. */
  async function streamed(items: FleetItem[]): Promise<{ out: string; waits: number }> {
    const spool = new Spool();
    try {
      items.forEach((each, index) => {
        spool.write(jsonItem(each, index));
      });
      let out = "";
      let waits = 0;
      const io = {
        out: (text: string) => {
          out += text;
        },
        drained: async () => {
          waits++;
          await Bun.sleep(0);
        },
      };
      await writeFleetJson(io, items.length, summarize(items), spool);
      return { out, waits };
    } finally {
      spool.dispose();
    }
  }

  test("the same bytes as JSON.stringify of the whole answer, for 0, 1 and many items", async () => {
    // Many: past the spool's 64 KiB read chunk, with characters of 2, 3 and 4 bytes and
    // escapes that could be cut in two at a chunk's edge.
    const many = Array.from({ length: 700 }, (_, n) =>
      item(n, {
        state: n % 3 === 0 ? "failed" : "would-propose",
        reason: `rät 补丁 😀 "quoted"\nline ${"é".repeat(n % 5)}`,
        applyCheck: n % 2 ? null : { applies: 0, alreadyApplied: 0, conflicts: 0, notChecked: 0 },
      }),
    );
    for (const items of [
      [],
      [item(1)],
      [item(1, { specError: "no Release tag" }), item(2)],
      many,
    ]) {
      const expected = `${JSON.stringify({ total: items.length, summary: summarize(items), items }, null, 2)}\n`;
      expect((await streamed(items)).out).toBe(expected);
    }
    // Written a 64 KiB chunk at a time, each once the reader took the one before.
    const { out, waits } = await streamed(many);
    const spooled = many.reduce(
      (bytes, each, i) => bytes + Buffer.byteLength(jsonItem(each, i)),
      0,
    );
    expect(waits).toBe(Math.ceil(spooled / (64 * 1024)));
    expect(Buffer.byteLength(out)).toBeGreaterThan(3 * 64 * 1024);
  });
});
