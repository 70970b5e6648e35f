import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { spawn } from "bun";
import { formatCommitPatch } from "../../src/scan/upstream/format-patch.ts";
import { GitRepo } from "../helpers/git-repo.ts";
import { freePort } from "../helpers/net.ts";
import { tempDir } from "../helpers/temp.ts";
import { type GithubEmulator, startGithubEmulator } from "./github.ts";

const root = tempDir("gh-emu-");
let repo: GitRepo;
let emulator: GithubEmulator;
const shas: Record<string, string> = {};
let long: string[] = [];

function get(
  path: string,
  init: { accept?: string; token?: string; headers?: Record<string, string> } = {},
) {
  return fetch(`${emulator.url}${path}`, {
    redirect: "manual",
    headers: {
      authorization: `token ${init.token ?? emulator.token}`,
      accept: init.accept ?? "application/vnd.github.v3+json",
      ...init.headers,
    },
  });
}

/** The JSON body, after checking it is labelled as JSON in UTF-8. */
async function json(response: Response): Promise<any> {
  expect(response.headers.get("content-type")).toBe("application/json; charset=utf-8");
  return response.json();
}

function graphql(query: string, variables: Record<string, unknown> = {}) {
  return fetch(emulator.graphqlUrl, {
    method: "POST",
    headers: { authorization: `bearer ${emulator.token}`, "content-type": "application/json" },
    body: JSON.stringify({ query, variables }),
  });
}

beforeAll(async () => {
  repo = await GitRepo.init(join(root, "demo"));
  shas.init = await repo.commit("init", { "README.md": "hello\n" });
  shas.two = await repo.commit("two", { "a.txt": "a\n" });
  await repo.checkout("topic", { create: true });
  shas.side = await repo.commit("side work", { "side.txt": "side\n" });
  await repo.checkout("main");
  shas.three = await repo.commit("three", { "b.txt": "b\n" });
  shas.merge = await repo.merge("topic", "Merge branch 'topic'");
  shas.four = await repo.commit("four", { "a.txt": "a\nmore\n" });
  await repo.checkout("feature/x", { create: true });
  shas.feature = await repo.commit("feature work", { "f.txt": "f\n" });
  await repo.checkout("long", { create: true });
  long = await repo.bulk(300, "bulk");
  await repo.git(["checkout", "-q", "-b", "rewritten", shas.two]);
  shas.rewritten = await repo.commit("rewritten", { "r.txt": "r\n" });
  await repo.checkout("orphan", { orphan: true });
  shas.orphan = await repo.commit("orphan root", { "o.txt": "o\n" });
  await repo.checkout("main");
  emulator = startGithubEmulator({ repos: { "octo/demo": repo.dir } });
});

afterAll(() => emulator.stop());

describe("authentication and quota headers", () => {
  test("GET /user answers 200 with the token and 401 Bad credentials without it", async () => {
    const ok = await get("/user");
    expect(ok.status).toBe(200);
    expect((await json(ok)).login).toBe("emulator-bot");
    expect(ok.headers.get("x-ratelimit-resource")).toBe("core");
    expect(ok.headers.get("x-ratelimit-limit")).toBe("5000");
    const bad = await get("/user", { token: "nope" });
    expect(bad.status).toBe(401);
    expect((await json(bad)).message).toBe("Bad credentials");
  });
});

describe("branches", () => {
  test("a branch is its name and the full head commit, with an ETag; 304 is free", async () => {
    const first = await get("/repos/octo/demo/branches/main");
    expect(first.status).toBe(200);
    const body = await json(first);
    expect(body.name).toBe("main");
    expect(body.commit.sha).toBe(shas.four);
    expect(body.commit.commit.message).toBe("four");
    expect(body.commit.commit.author).toEqual({
      name: "Ada Author",
      email: "ada@example.com",
      date: expect.stringMatching(/^2024-01-01T00:\d\d:00Z$/),
    });
    expect(body.commit.commit.committer.name).toBe("Carl Committer");
    expect(body.commit.parents.map((parent: { sha: string }) => parent.sha)).toEqual([shas.merge]);
    const etag = first.headers.get("etag") as string;
    expect(etag).toBeTruthy();
    const remaining = Number(first.headers.get("x-ratelimit-remaining"));

    emulator.resetLog();
    const again = await get("/repos/octo/demo/branches/main", {
      headers: { "if-none-match": etag },
    });
    expect(again.status).toBe(304);
    expect(Number(again.headers.get("x-ratelimit-remaining"))).toBe(remaining);
    expect(emulator.requests).toMatchObject([{ status: 304, counted: false, resource: "core" }]);
  });

  test("a branch name with a slash is read percent-encoded; an absent one is 404", async () => {
    const slashed = await get("/repos/octo/demo/branches/feature%2Fx");
    expect((await json(slashed)).commit.sha).toBe(shas.feature);
    const missing = await get("/repos/octo/demo/branches/nope");
    expect(missing.status).toBe(404);
    expect((await get("/repos/octo/missing/branches/main")).status).toBe(404);
  });

  test("a renamed branch answers 301 with the new location", async () => {
    await repo.branch("gone", shas.two as string);
    await emulator.renameBranch("octo/demo", "gone", "moved");
    const moved = await get("/repos/octo/demo/branches/gone");
    expect(moved.status).toBe(301);
    expect(moved.headers.get("location")).toBe(`${emulator.url}/repos/octo/demo/branches/moved`);
    const followed = await fetch(moved.headers.get("location") as string, {
      headers: { authorization: `token ${emulator.token}` },
    });
    expect((await json(followed)).name).toBe("moved");
  });
});

describe("commits", () => {
  test("one commit as JSON has files and stats; unknown refs are 422", async () => {
    const response = await get(`/repos/octo/demo/commits/${shas.four}`);
    const body = await json(response);
    expect(body.sha).toBe(shas.four);
    expect(body.files).toMatchObject([{ filename: "a.txt", status: "modified", additions: 1 }]);
    expect(body.files[0].patch).toStartWith("@@ -1 +1,2 @@");
    expect(body.stats).toEqual({ total: 1, additions: 1, deletions: 0 });
    expect((await get("/repos/octo/demo/commits/heads/feature/x")).status).toBe(200);
    expect((await get("/repos/octo/demo/commits/0000000000000000")).status).toBe(422);
  });

  test("patch, diff and sha media types come back as UTF-8 labelled text", async () => {
    const patch = await get(`/repos/octo/demo/commits/${shas.merge}`, {
      accept: "application/vnd.github.v3.patch",
    });
    expect(patch.headers.get("content-type")).toBe(
      "application/vnd.github.v3.patch; charset=utf-8",
    );
    // A merge is its first-parent diff, exactly as format-patch.ts renders it.
    const expected = await formatCommitPatch(repo.dir, shas.merge as string);
    expect(await patch.bytes()).toEqual(expected.patch);

    const diff = await get(`/repos/octo/demo/commits/${shas.four}`, {
      accept: "application/vnd.github.v3.diff",
    });
    expect(diff.headers.get("content-type")).toBe("application/vnd.github.v3.diff; charset=utf-8");
    expect(await diff.text()).toStartWith("diff --git a/a.txt b/a.txt");

    const sha = await get("/repos/octo/demo/commits/main", {
      accept: "application/vnd.github.sha",
    });
    expect(sha.headers.get("content-type")).toBe("application/vnd.github.v3.sha; charset=utf-8");
    expect(await sha.text()).toBe(shas.four as string);
  });

  test("the sha media type with the known sha as If-None-Match is a free 304", async () => {
    emulator.resetLog();
    const unchanged = await get("/repos/octo/demo/commits/main", {
      accept: "application/vnd.github.v3.sha",
      headers: { "if-none-match": `"${shas.four}"` },
    });
    expect(unchanged.status).toBe(304);
    const moved = await get("/repos/octo/demo/commits/main", {
      accept: "application/vnd.github.v3.sha",
      headers: { "if-none-match": `"${shas.three}"` },
    });
    expect(moved.status).toBe(200);
    expect(emulator.requests.map((r) => [r.status, r.counted])).toEqual([
      [304, false],
      [200, true],
    ]);
  });

  test("the commit list is newest first, paged, with a Link header", async () => {
    const response = await get("/repos/octo/demo/commits?sha=main&per_page=2&page=1");
    const body = await json(response);
    expect(body.map((commit: { sha: string }) => commit.sha)).toEqual([shas.four, shas.merge]);
    expect(response.headers.get("link")).toContain('rel="next"');
  });
});

describe("compare", () => {
  test("paging collects every commit oldest first; files only on page 1", async () => {
    const pages: any[] = [];
    for (let page = 1; page <= 3; page++) {
      const response = await get(`/repos/octo/demo/compare/main...long?per_page=100&page=${page}`);
      pages.push(await json(response));
    }
    expect(pages[0].status).toBe("ahead");
    expect(pages[0].total_commits).toBe(301);
    expect(pages[0].ahead_by).toBe(301);
    expect(pages[0].behind_by).toBe(0);
    expect(pages[0].merge_base_commit.sha).toBe(shas.four);
    expect(pages[0].files.length).toBeGreaterThan(0);
    expect(pages[1].files).toBeUndefined();
    const listed = pages.flatMap((page) =>
      page.commits.map((commit: { sha: string }) => commit.sha),
    );
    expect(listed.slice(0, 100)).toEqual([shas.feature, ...long.slice(0, 99)]);
    expect(listed).toHaveLength(300);
    const last = await json(await get("/repos/octo/demo/compare/main...long?per_page=100&page=4"));
    expect(last.commits.map((commit: { sha: string }) => commit.sha)).toEqual([long.at(-1)]);
  });

  test("without paging parameters only the newest 250 commits come back", async () => {
    const body = await json(await get("/repos/octo/demo/compare/main...long"));
    expect(body.total_commits).toBe(301);
    expect(body.commits).toHaveLength(250);
    expect(body.commits[0].sha).toBe(long[50]);
    expect(body.commits.at(-1).sha).toBe(long.at(-1));
  });

  test("status tells ahead, behind, diverged and identical; merges list side commits", async () => {
    const status = async (spec: string) =>
      (await json(await get(`/repos/octo/demo/compare/${spec}`))) as {
        status: string;
        ahead_by: number;
        behind_by: number;
        commits: Array<{ sha: string }>;
      };
    const ahead = await status(`${shas.two}...${shas.four}`);
    expect(ahead.status).toBe("ahead");
    expect(ahead.commits.map((commit) => commit.sha).sort()).toEqual(
      [shas.side, shas.three, shas.merge, shas.four].sort() as string[],
    );
    expect((await status(`${shas.four}...${shas.two}`)).status).toBe("behind");
    const diverged = await status(`main...rewritten`);
    expect(diverged).toMatchObject({ status: "diverged", ahead_by: 1, behind_by: 4 });
    expect((await status("main...main")).status).toBe("identical");
  });

  test("an unknown base is 404; unrelated histories are 404 No common ancestor", async () => {
    const unknown = await get(`/repos/octo/demo/compare/${"1".repeat(40)}...main`);
    expect(unknown.status).toBe(404);
    const unrelated = await get("/repos/octo/demo/compare/main...orphan");
    expect(unrelated.status).toBe(404);
    expect((await json(unrelated)).message).toStartWith(
      "No common ancestor between main and orphan",
    );
  });

  test("the patch media type is one mailbox of format-patch messages without merges", async () => {
    const response = await get(`/repos/octo/demo/compare/${shas.two}...${shas.four}`, {
      accept: "application/vnd.github.v3.patch",
    });
    expect(response.headers.get("content-type")).toBe(
      "application/vnd.github.v3.patch; charset=utf-8",
    );
    const text = await response.text();
    const froms = [...text.matchAll(/^From ([0-9a-f]{40}) Mon Sep 17 00:00:00 2001$/gm)].map(
      (match) => match[1],
    );
    expect(froms.sort()).toEqual([shas.side, shas.three, shas.four].sort() as string[]);
    expect(text).toContain("Subject: [PATCH 1/3]");
  });
});

describe("graphql", () => {
  const query = `query Heads($o0: String!, $n0: String!, $q0: String!, $o1: String!, $n1: String!, $q1: String!) {
    r0: repository(owner: $o0, name: $n0) { ref(qualifiedName: $q0) { target { oid } } }
    r1: repository(owner: $o1, name: $n1) { ref(qualifiedName: $q1) { target { oid } } }
    r2: repository(owner: "octo", name: "demo") { ref(qualifiedName: "refs/heads/absent") { target { oid } } }
    rateLimit { cost remaining resetAt }
  }`;

  test("aliased heads resolve; a missing repository is null plus a NOT_FOUND error", async () => {
    emulator.resetLog();
    const response = await graphql(query, {
      o0: "octo",
      n0: "demo",
      q0: "refs/heads/feature/x",
      o1: "octo",
      n1: "missing",
      q1: "refs/heads/main",
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-ratelimit-resource")).toBe("graphql");
    const body = await json(response);
    expect(body.data.r0).toEqual({ ref: { target: { oid: shas.feature } } });
    expect(body.data.r1).toBeNull();
    expect(body.data.r2).toEqual({ ref: null });
    expect(body.data.rateLimit).toMatchObject({ cost: 1, remaining: expect.any(Number) });
    expect(body.errors).toMatchObject([{ type: "NOT_FOUND", path: ["r1"] }]);
    expect(emulator.requests).toMatchObject([{ resource: "graphql", counted: true }]);
  });

  test("over the GraphQL quota the answer is 200 with a RATE_LIMITED error", async () => {
    const resetAt = Date.now() + 600_000;
    emulator.setRateLimit({ remaining: 0, resetAt, resource: "graphql" });
    try {
      const response = await graphql(query, {});
      expect(response.status).toBe(200);
      expect(response.headers.get("x-ratelimit-remaining")).toBe("0");
      expect((await json(response)).errors[0].type).toBe("RATE_LIMITED");
      // The core quota is separate.
      expect((await get("/user")).status).toBe(200);
    } finally {
      emulator.setRateLimit({ remaining: 5000, resource: "graphql" });
    }
  });
});

describe("faults and limits", () => {
  test("an exhausted core quota is 403 with remaining 0 and the reset time", async () => {
    const resetAt = Date.now() + 900_000;
    emulator.setRateLimit({ remaining: 0, resetAt, resource: "core" });
    try {
      const response = await get("/repos/octo/demo/branches/main");
      expect(response.status).toBe(403);
      expect(response.headers.get("x-ratelimit-remaining")).toBe("0");
      expect(response.headers.get("x-ratelimit-reset")).toBe(String(Math.floor(resetAt / 1000)));
    } finally {
      emulator.setRateLimit({ remaining: 5000, resource: "core" });
    }
  });

  test("a new rate-limit window fills every quota again, with a reset an hour away", async () => {
    emulator.setRateLimit({ remaining: 0, resetAt: Date.now() + 900_000 });
    emulator.newRateLimitWindow();
    const before = Date.now();
    const response = await get("/repos/octo/demo/branches/main");
    expect(response.status).toBe(200);
    expect(response.headers.get("x-ratelimit-remaining")).toBe("4999");
    expect(response.headers.get("x-ratelimit-used")).toBe("1");
    const reset = Number(response.headers.get("x-ratelimit-reset")) * 1000;
    expect(reset).toBeGreaterThan(before + 3_590_000);
    const graphqlAnswer = await graphql("query { rateLimit { remaining } }");
    expect(graphqlAnswer.headers.get("x-ratelimit-remaining")).toBe("4999");
  });

  test("faults apply to matching requests the given number of times", async () => {
    emulator.fault({ path: "/branches/", times: 1 }, { kind: "5xx", status: 503 });
    emulator.fault({ path: "/user", times: 1 }, { kind: "secondary-rate-limit", retryAfter: 7 });
    emulator.fault({ path: "/user", times: 1, method: "GET" }, "primary-rate-limit");
    expect((await get("/repos/octo/demo/branches/main")).status).toBe(503);
    expect((await get("/repos/octo/demo/branches/main")).status).toBe(200);
    const secondary = await get("/user");
    expect(secondary.status).toBe(403);
    expect(secondary.headers.get("retry-after")).toBe("7");
    expect((await json(secondary)).message).toContain("secondary rate limit");
    const primary = await get("/user");
    expect(primary.status).toBe(403);
    expect(primary.headers.get("x-ratelimit-remaining")).toBe("0");
    expect((await get("/user")).status).toBe(200);
  });

  test("drop resets the connection; delay answers late; clearFaults removes them", async () => {
    emulator.fault({ path: "/user" }, "drop");
    await expect(get("/user")).rejects.toThrow();
    emulator.clearFaults();
    emulator.fault({ path: "/user", times: 1 }, { kind: "delay", ms: 150 });
    const started = Date.now();
    expect((await get("/user")).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    emulator.clearFaults();
  });
});

describe("enterprise prefix and standalone mode", () => {
  test("with prefix /api/v3, REST lives under it and GraphQL at /api/graphql", async () => {
    const enterprise = startGithubEmulator({
      repos: { "octo/demo": repo.dir },
      prefix: "/api/v3",
      token: "ghe-token-123456",
    });
    try {
      expect(enterprise.url).toEndWith("/api/v3");
      expect(enterprise.graphqlUrl).toEndWith("/api/graphql");
      const auth = { authorization: "token ghe-token-123456" };
      expect((await fetch(`${enterprise.url}/user`, { headers: auth })).status).toBe(200);
      const root = enterprise.url.replace("/api/v3", "");
      expect((await fetch(`${root}/user`, { headers: auth })).status).toBe(404);
      const response = await fetch(enterprise.graphqlUrl, {
        method: "POST",
        headers: auth,
        body: JSON.stringify({
          query:
            'query { r0: repository(owner: "octo", name: "demo") { ref(qualifiedName: "main") { target { oid } } } }',
        }),
      });
      expect((await json(response)).data.r0.ref.target.oid).toBe(shas.four);
    } finally {
      await enterprise.stop();
    }
  });

  test("runs standalone with --port and --repo until SIGTERM", async () => {
    const port = await freePort();
    const proc = spawn(
      [process.execPath, join(import.meta.dir, "github.ts"), "--port", String(port)].concat([
        "--repo",
        `octo/demo=${repo.dir}`,
      ]),
      { stdout: "pipe", stderr: "pipe" },
    );
    try {
      const reader = proc.stdout.getReader();
      let text = "";
      while (!/token \S+\n/.test(text)) {
        const chunk = await reader.read();
        if (chunk.done) break;
        text += new TextDecoder().decode(chunk.value);
      }
      const match = /github emulator listening on (\S+) token (\S+)/.exec(text);
      expect(match?.[1]).toBe(`http://127.0.0.1:${port}`);
      const response = await fetch(`${match?.[1]}/repos/octo/demo/branches/main`, {
        headers: { authorization: `token ${match?.[2]}` },
      });
      expect((await json(response)).commit.sha).toBe(shas.four);
      reader.releaseLock();
    } finally {
      proc.kill("SIGTERM");
    }
    expect(await proc.exited).toBe(0);
  });
});
