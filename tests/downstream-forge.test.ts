/**
 * DOWNSTREAM_FORGE = "gitcode" end to end: the service assembled from settings proposes to a
 * GitCode-shaped forge (token in PRIVATE-TOKEN, GitCode's errors and missing-file 404s) while
 * pacing itself under DOWNSTREAM_REQUESTS_PER_MINUTE, which the forge enforces.
 */
import { describe, expect, test } from "bun:test";
import { startEngineServer } from "./helpers/engine-server.ts";
import { FORGE_MODES } from "./helpers/forge-modes.ts";
import { basicAuth } from "./helpers/settings.ts";
import { makeWorld } from "./helpers/world.ts";

const world = await makeWorld({ forge: FORGE_MODES.gitcode });
await world.upstream.commit("Fix one", { "src/a.c": "int a = 2;\n" });
await world.upstream.commit("Fix two", { "src/a.c": "int a = 3;\n" });
const engine = await startEngineServer(world, {
  DOWNSTREAM_FORGE: '"gitcode"',
  DOWNSTREAM_REQUESTS_PER_MINUTE: 600,
  DOWNSTREAM_REQUESTS_PER_HOUR: 0,
});
const base = `https://127.0.0.1:${engine.connection[1]?.split(":")[1]}`;

describe("a GitCode downstream", () => {
  test("a scan proposes through GitCode's API, the token only in PRIVATE-TOKEN", async () => {
    engine.track("gc", world.base);
    world.gitee.resetLog();
    const response = await fetch(`${base}/tracking/scan?repo=src-openeuler/gc&branch=master`, {
      method: "POST",
      headers: { authorization: basicAuth() },
      tls: { rejectUnauthorized: false },
    } as RequestInit);
    const answer: any = await response.json();
    expect(answer.data[0]).toMatchObject({ outcome: "proposed", runs: 1 });
    const repo = world.gitee.repo("src-openeuler/gc");
    expect(repo.pulls).toHaveLength(1);
    expect(repo.issues[0]?.body).toContain("Fix two");
    expect(new Set(world.gitee.requests.map((request) => request.tokenVia))).toEqual(
      new Set(["private-token"]),
    );
    // GitCode is not known to take several files in one commit: they go one by one through the
    // contents API, on a branch made first.
    const writes = world.gitee.writes().map((request) => `${request.method} ${request.path}`);
    expect(writes.some((write) => write.endsWith("/commits"))).toBe(false);
    expect(writes).toContain("POST /repos/src-openeuler/gc/branches");
    expect(
      writes.filter((write) => /^POST .*\/contents\/[0-9a-f]{40}\.patch$/.test(write)),
    ).toHaveLength(2);
    expect(world.gitee.requests.every((request) => request.status < 500)).toBe(true);
  });
});
