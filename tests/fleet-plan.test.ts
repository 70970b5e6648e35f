/**
 * The fleet plan (`GET /plan`, `patch-tracking-cli plan --all`) over a mix of trackings against
 * the emulators: what each would get, a summary line first — and nothing written: the Gitee
 * emulator's write log and every table of the database are the same before and after.
 */
import { describe, expect, test } from "bun:test";
import { setFilters } from "../src/db/filters.ts";
import type { FleetPlan } from "../src/scan/fleet-plan.ts";
import { cli } from "./helpers/cli.ts";
import { startEngineServer } from "./helpers/engine-server.ts";
import { basicAuth } from "./helpers/settings.ts";
import { makeWorld } from "./helpers/world.ts";

const world = await makeWorld();
const service = await startEngineServer(world);
const credentials = ["--user", "admin", "--password", "Test@123"];

// extended: proposed once (its pull request stays open), then more commits arrive.
service.track("extended", world.base);
await world.upstream.commit("Fix one", { "src/a.c": "int a = 1;\n" });
const first = await service.scanner.scanOne("src-openeuler/extended", "master");
const c2 = await world.upstream.commit("Fix two\n\nFixes: 2", { "src/b.c": "int b;\n" });
await world.upstream.commit("Docs", { "docs/x.md": "x\n" });
const head = await world.upstream.head();
service.track("fresh", world.base);
service.track("current", head);
service.track("filtered", c2);
setFilters(service.db, "src-openeuler/filtered", "master", { include_paths: ["src/**"] });
service.track("unstarted", null);
service.track("disabled", world.base, { enabled: false });
service.track("rewritten", "0123456789abcdef0123456789abcdef01234567");

function snapshot(): string {
  const tables = service.db
    .query<{ name: string }, []>(
      "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
    )
    .all()
    .map((row) => row.name);
  return JSON.stringify(
    tables.map((table) => [table, service.db.query(`SELECT * FROM "${table}"`).all()]),
  );
}

describe("the fleet plan", () => {
  test("the fixture: the first proposal of 'extended' is open", () => {
    expect(first.outcome).toBe("proposed");
  });

  test("GET /plan: each enabled tracking's state, and nothing written anywhere", async () => {
    const writes = world.gitee.writes().length;
    const before = snapshot();
    const url = service.connection[1];
    const response = await fetch(`https://${url}/plan`, {
      headers: { authorization: basicAuth() },
      tls: { rejectUnauthorized: false },
    });
    const body = (await response.json()) as { code: string; data: FleetPlan };
    expect(body.code).toBe("2001");
    const plan = body.data;
    expect(plan.total).toBe(6);
    const byRepo = Object.fromEntries(plan.items.map((item) => [item.repo.split("/")[1], item]));
    expect(Object.keys(byRepo).sort()).toEqual(
      ["current", "extended", "filtered", "fresh", "rewritten", "unstarted"].sort(),
    );
    expect(byRepo.extended).toMatchObject({
      state: "would-propose",
      newCommits: 2,
      proposed: 2,
      proposal: "extend",
    });
    expect(byRepo.fresh).toMatchObject({
      state: "would-propose",
      newCommits: 3,
      proposed: 3,
      proposal: "new",
    });
    expect(byRepo.current).toMatchObject({ state: "up-to-date", newCommits: 0, proposal: null });
    expect(byRepo.filtered).toMatchObject({
      state: "passed-over",
      newCommits: 1,
      passedOver: 1,
      proposal: null,
    });
    expect(byRepo.unstarted?.state).toBe("not-started");
    expect(byRepo.rewritten?.state).toBe("failed");
    expect(plan.summary).toEqual({
      trackings: 6,
      commits: 5,
      proposals: 2,
      passedOver: 1,
      failures: 1,
    });
    expect(world.gitee.writes().length).toBe(writes);
    expect(snapshot()).toBe(before);
  }, 30_000);

  test("pages: offset and limit; bad values answer 4001; credentials are required", async () => {
    const url = `https://${service.connection[1]}`;
    const get = async (path: string, auth = true) =>
      fetch(`${url}${path}`, {
        headers: auth ? { authorization: basicAuth() } : {},
        tls: { rejectUnauthorized: false },
      });
    const page = (await (await get("/plan?offset=2&limit=2")).json()) as { data: FleetPlan };
    expect(page.data).toMatchObject({ total: 6, offset: 2 });
    expect(page.data.items).toHaveLength(2);
    expect(((await (await get("/plan?limit=abc")).json()) as { code: string }).code).toBe("4001");
    expect(((await (await get("/plan?limit=5000")).json()) as { code: string }).code).toBe("4001");
    expect((await get("/plan", false)).status).toBe(401);
  });

  test("plan --all: the summary line first, one line per tracking with something to do", async () => {
    const writes = world.gitee.writes().length;
    const before = snapshot();
    const result = await cli(["plan", ...service.connection, ...credentials, "--all"]);
    expect(result.code).toBe(0);
    const lines = result.out.trimEnd().split("\n");
    expect(lines[0]).toBe(
      "6 enabled trackings: would propose 5 commits in 2 proposals (1 joining open ones), 1 passed over by filters, 1 failure",
    );
    expect(lines).toContain(
      "src-openeuler/extended@master: 2 new commits: 2 to propose (joining the open proposal)",
    );
    expect(lines).toContain(
      "src-openeuler/fresh@master: 3 new commits: 3 to propose (new proposal)",
    );
    expect(lines).toContain(
      "src-openeuler/filtered@master: 1 new commit, all passed over by filters",
    );
    expect(lines.some((line) => line.startsWith("src-openeuler/rewritten@master: failed: "))).toBe(
      true,
    );
    expect(lines.some((line) => line.includes("current@"))).toBe(false);
    expect(lines.at(-1)).toBe("dry run: nothing was written to Gitee or the database");
    // Progress went to stderr, off a terminal as plain lines.
    expect(result.err).toContain("planning");
    expect(world.gitee.writes().length).toBe(writes);
    expect(snapshot()).toBe(before);

    const json = await cli(["plan", ...service.connection, ...credentials, "--all", "--json"]);
    const parsed = JSON.parse(json.out) as { total: number; summary: FleetPlan["summary"] };
    expect(parsed.total).toBe(6);
    expect(parsed.summary.commits).toBe(5);

    const mixed = await cli([
      "plan",
      ...service.connection,
      ...credentials,
      "--all",
      "--repo",
      "x",
    ]);
    expect(mixed.code).toBe(1);
    expect(mixed.err).toContain("--all plans every enabled tracking");
  }, 30_000);
});
