import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import {
  AuthFailedError,
  DivergedError,
  NotFoundError,
  RateLimitedError,
  TransientError,
} from "../src/errors.ts";
import { git } from "../src/git.ts";
import { createLogger, silentLogger } from "../src/log.ts";
import { formatCommitPatch } from "../src/scan/upstream/format-patch.ts";
import { createGithubUpstream, type GithubUpstreamOptions } from "../src/scan/upstream/github.ts";
import { splitMbox } from "../src/scan/upstream/github-mbox.ts";
import { graphqlUrlFor, webUrlFor } from "../src/scan/upstream/github-urls.ts";
import type { HeadResult, UpstreamCommit } from "../src/scan/upstream/types.ts";
import { type GithubEmulator, startGithubEmulator } from "./emulators/github.ts";
import { GitRepo } from "./helpers/git-repo.ts";
import { tempDir } from "./helpers/temp.ts";

const REPO = "octo/lib";
const root = tempDir("gh-upstream-");
let repo: GitRepo;
let emulator: GithubEmulator;
const sha: Record<string, string> = {};
let long: string[] = [];
let thirty: string[] = [];

/** An upstream against the emulator with fast retries (milliseconds instead of seconds). */
function upstream(options: Partial<GithubUpstreamOptions> = {}) {
  return createGithubUpstream({
    baseUrl: emulator.url,
    token: emulator.token,
    log: silentLogger,
    timeoutMs: 5000,
    retryAfterBaseValue: 2,
    ...options,
  });
}

function ref(branch = "main") {
  return { repo: REPO, branch };
}

/** Requests charged to the quota since the last resetLog. */
function charged() {
  return emulator.requests.filter((request) => request.counted).length;
}

async function expectSamePatches(commits: UpstreamCommit[]) {
  for (const commit of commits) {
    const expected = await formatCommitPatch(repo.dir, commit.sha);
    expect({ sha: commit.sha, patch: new TextDecoder("latin1").decode(commit.patch) }).toEqual({
      sha: commit.sha,
      patch: new TextDecoder("latin1").decode(expected.patch),
    });
    expect(commit.empty).toBe(expected.empty);
  }
}

function shaOf(result: HeadResult | undefined): string {
  if (!result || "error" in result) throw result?.error ?? new Error("no result");
  return result.sha;
}

function errorOf(result: HeadResult | undefined): Error {
  if (!result || !("error" in result))
    throw new Error(`expected an error, got ${JSON.stringify(result)}`);
  return result.error;
}

beforeAll(async () => {
  repo = await GitRepo.init(join(root, "lib"));
  sha.init = await repo.commit("init", {
    "README.md": "hello\n",
    "a.txt": Array.from({ length: 20 }, (_, i) => `line ${i}\n`).join(""),
  });
  sha.l1 = await repo.commit("linear 1", { "one.txt": "1\n" });
  sha.l2 = await repo.commit("linear 2", { "one.txt": "1\n2\n" });
  sha.l3 = await repo.commit("linear 3", { "two.txt": "2\n" });
  await repo.checkout("topic", { create: true });
  sha.t1 = await repo.commit("topic 1", { "topic.txt": "t1\n" });
  sha.t2 = await repo.commit("topic 2", { "topic.txt": "t1\nt2\n" });
  await repo.checkout("main");
  sha.b1 = await repo.commit("before merge", { "b.txt": "b\n" });
  sha.merge = await repo.merge("topic", "Merge branch 'topic'");
  sha.c1 = await repo.commit("after merge", { "c.txt": "c\n" });
  sha.empty = await repo.commit("an empty change");
  sha.binary = await repo.commit("add a binary file", {
    "logo.bin": new Uint8Array([0, 1, 2, 255, 254, 0, 10, 13, 128, 0, 7]),
  });
  sha.rename = await repo.rename("a.txt", "docs/a.txt", "move a.txt into docs");
  sha.latin1 = await repo.commit(
    new Uint8Array(
      Buffer.from("Caf\xe9 cr\xe8me br\xfbl\xe9e\n\nLatin-1 body \xe0 la carte\n", "latin1"),
    ),
    { "menu.txt": "dessert\n" },
  );
  // Long subjects are folded, at places that depend on the "[PATCH n/m] " prefix length.
  sha.longAscii = await repo.commit(
    "A long plain subject that format-patch has to fold over two lines because it is long",
    { "long1.txt": "1\n" },
  );
  sha.longUtf8 = await repo.commit(
    "修复解析器在处理超长输入时的内存泄漏问题 über naïve 😀 and a few more words to fold it",
    { "long2.txt": "2\n" },
  );
  sha.tricky = await repo.commit(
    [
      "Fix the | column | table",
      "",
      "From the start this was broken.",
      `From ${sha.binary} Mon Sep 17 00:00:00 2001`,
      "From: Mallory <mallory@example.com>",
      `From ${"0123456789".repeat(4)} Mon Sep 17 00:00:00 2001`,
      "From: Nobody <nobody@example.com>",
      "",
    ].join("\n"),
    { "table.md": "| a | b |\n" },
  );
  sha.last = await repo.commit("last one", { "z.txt": "z\n" });

  await repo.git(["checkout", "-q", "-b", "rewritten", sha.l1]);
  sha.rewritten = await repo.commit("rewritten history", { "r.txt": "r\n" });
  await repo.checkout("orphan", { orphan: true });
  sha.orphan = await repo.commit("unrelated root", { "o.txt": "o\n" });
  await repo.git(["checkout", "-q", "-b", "long", sha.init]);
  long = await repo.bulk(300, "long");
  await repo.git(["checkout", "-q", "-b", "thirty", sha.init]);
  thirty = await repo.bulk(30, "thirty");
  await repo.branch("old-name", sha.l1);
  await repo.checkout("main");
  // 150 branches for the batched head look-ups, in one git call.
  const creates = Array.from({ length: 150 }, (_, i) => `create refs/heads/many/${i} ${sha.l2}\n`);
  await git(["update-ref", "--stdin"], { cwd: repo.dir, input: creates.join("") });

  emulator = startGithubEmulator({ repos: { [REPO]: repo.dir } });
});

afterAll(() => emulator.stop());

describe("commitsSince", () => {
  test("linear history: every commit oldest first, with metadata and format-patch patches", async () => {
    emulator.resetLog();
    const commits = await upstream().commitsSince(ref(), sha.init as string, sha.l3 as string);
    expect(commits.map((commit) => commit.sha)).toEqual([sha.l1, sha.l2, sha.l3] as string[]);
    expect(commits[0]).toMatchObject({
      message: "linear 1",
      authorName: "Ada Author",
      authorEmail: "ada@example.com",
      date: expect.stringMatching(/^2024-01-01T00:\d\d:00Z$/),
      parents: [sha.init],
      empty: false,
      url: `${emulator.url}/${REPO}/commit/${sha.l1}`,
    });
    await expectSamePatches(commits);
    // One compare page and one mailbox.
    expect(charged()).toBe(2);
  });

  test("a merge is one entry with its first-parent diff; side commits are not listed", async () => {
    emulator.resetLog();
    const commits = await upstream().commitsSince(ref(), sha.l3 as string, sha.c1 as string);
    const expected = await repo.revList(["--first-parent", "--reverse", `${sha.l3}..${sha.c1}`]);
    expect(commits.map((commit) => commit.sha)).toEqual(expected);
    expect(expected).toEqual([sha.b1, sha.merge, sha.c1] as string[]);
    const merge = commits[1] as UpstreamCommit;
    expect(merge.parents).toEqual([sha.b1, sha.t2] as string[]);
    expect(new TextDecoder().decode(merge.patch)).toContain("+t1\n+t2\n");
    await expectSamePatches(commits);
    // The mailbox has no merges: the merge's patch came from its own request.
    expect(charged()).toBe(3);
    const single = emulator.requests.filter((request) => request.path.includes("/commits/"));
    expect(single.map((request) => request.path)).toEqual([`/repos/${REPO}/commits/${sha.merge}`]);
  });

  test("empty, binary, rename, latin1, long and tricky messages come through byte for byte", async () => {
    emulator.resetLog();
    const commits = await upstream().commitsSince(ref(), sha.c1 as string, sha.last as string);
    expect(commits.map((commit) => commit.sha)).toEqual([
      sha.empty,
      sha.binary,
      sha.rename,
      sha.latin1,
      sha.longAscii,
      sha.longUtf8,
      sha.tricky,
      sha.last,
    ] as string[]);
    await expectSamePatches(commits);
    const byName = (name: string) =>
      commits.find((commit) => commit.sha === sha[name]) as UpstreamCommit;
    const text = (name: string) => new TextDecoder("latin1").decode(byName(name).patch);
    expect(byName("empty").empty).toBe(true);
    expect(commits.filter((commit) => commit.empty)).toHaveLength(1);
    expect(text("binary")).toContain("GIT binary patch");
    expect(text("rename")).toContain("rename from a.txt\nrename to docs/a.txt");
    // git takes a non-UTF-8 message for latin1 and writes it as UTF-8 (same as format-patch.ts).
    expect(text("latin1")).toContain("Subject: [PATCH] =?UTF-8?q?Caf=C3=A9=20cr=C3=A8me");
    expect(byName("latin1").message).toStartWith("Caf");
    expect(byName("tricky").message).toStartWith("Fix the | column | table\n\nFrom the start");
    expect(text("tricky")).toContain("Subject: [PATCH] Fix the | column | table");
    expect(text("tricky")).toContain("+| a | b |");
    // Compare page + mailbox + the empty commit, which format-patch leaves out of the mailbox.
    expect(charged()).toBe(3);
  });

  test("more than 250 commits are all collected by paging, oldest first", async () => {
    emulator.resetLog();
    const commits = await upstream().commitsSince(
      ref("long"),
      sha.init as string,
      long.at(-1) as string,
    );
    expect(commits.map((commit) => commit.sha)).toEqual(long);
    await expectSamePatches([commits[0], commits[149], commits[299]] as UpstreamCommit[]);
    const compares = emulator.requests.filter((request) => request.path.includes("/compare/"));
    expect(compares.map((request) => request.query.page ?? "mbox")).toEqual([
      "1",
      "2",
      "3",
      "mbox",
    ]);
    expect(compares.every((request) => request.status === 200)).toBe(true);
  });

  test("30 new commits cost a constant number of requests", async () => {
    emulator.resetLog();
    const commits = await upstream().commitsSince(
      ref("thirty"),
      sha.init as string,
      thirty.at(-1) as string,
    );
    expect(commits).toHaveLength(30);
    expect(charged()).toBeLessThanOrEqual(3);
  });

  test("a force-pushed branch is DivergedError and no patch is fetched", async () => {
    emulator.resetLog();
    const error = await upstream()
      .commitsSince(ref("rewritten"), sha.l3 as string, sha.rewritten as string)
      .catch((caught) => caught);
    expect(error).toBeInstanceOf(DivergedError);
    expect(error.message).toContain("no longer an ancestor");
    expect(error.message).toContain("force-pushed");
    expect(emulator.requests).toHaveLength(1);
    expect(emulator.requests.some((request) => request.accept?.includes("patch"))).toBe(false);

    const gone = await upstream()
      .commitsSince(ref(), "1".repeat(40), sha.l3 as string)
      .catch((caught) => caught);
    expect(gone).toBeInstanceOf(NotFoundError);
    expect(gone.message).toContain("force-push may have removed");

    const unrelated = await upstream()
      .commitsSince(ref("orphan"), sha.l3 as string, sha.orphan as string)
      .catch((caught) => caught);
    expect(unrelated).toBeInstanceOf(DivergedError);
    expect(unrelated.message).toContain("No common ancestor");
  });

  test("identical base and head mean nothing new", async () => {
    expect(await upstream().commitsSince(ref(), sha.l3 as string, sha.l3 as string)).toEqual([]);
    expect(
      await upstream()
        .commitsSince(ref(), sha.l3 as string, sha.l2 as string)
        .catch((e) => e),
    ).toBeInstanceOf(DivergedError);
  });
});

describe("heads", () => {
  test("150 unchanged branches cost at most 2 rate-limited requests", async () => {
    emulator.resetLog();
    const refs = Array.from({ length: 150 }, (_, i) => ref(`many/${i}`));
    const results = await upstream().heads(refs);
    expect(results.map(shaOf)).toEqual(Array.from({ length: 150 }, () => sha.l2 as string));
    expect(charged()).toBeLessThanOrEqual(2);
    expect(emulator.requests.every((request) => request.resource === "graphql")).toBe(true);
  });

  test("a missing repository or branch is a per-ref NotFoundError; the rest resolve", async () => {
    const results = await upstream().heads([
      ref("main"),
      { repo: "octo/missing", branch: "main" },
      ref("no-such-branch"),
      ref("main"),
    ]);
    expect(shaOf(results[0])).toBe(sha.last as string);
    expect(errorOf(results[1])).toBeInstanceOf(NotFoundError);
    expect(errorOf(results[1]).message).toContain("octo/missing");
    expect(errorOf(results[2])).toBeInstanceOf(NotFoundError);
    expect(shaOf(results[3])).toBe(sha.last as string);
  });

  test("a single branch is a conditional request: the second look-up is a free 304", async () => {
    const github = upstream();
    emulator.resetLog();
    expect(shaOf((await github.heads([ref("topic")]))[0])).toBe(sha.t2 as string);
    expect(shaOf((await github.heads([ref("topic")]))[0])).toBe(sha.t2 as string);
    // A branch name with a slash travels percent-encoded.
    expect(shaOf((await github.heads([ref("many/7")]))[0])).toBe(sha.l2 as string);
    expect(emulator.requests.map((request) => [request.status, request.counted])).toEqual([
      [200, true],
      [304, false],
      [200, true],
    ]);
    expect(emulator.requests[2]?.path).toBe(`/repos/${REPO}/branches/many%2F7`);
  });

  test("a renamed branch is reported with its new name, alone or in a batch", async () => {
    await emulator.renameBranch(REPO, "old-name", "new-name");
    const single = errorOf((await upstream().heads([ref("old-name")]))[0]);
    expect(single).toBeInstanceOf(NotFoundError);
    expect(single.message).toContain("renamed to new-name");
    const batch = await upstream().heads([ref("main"), ref("old-name")]);
    expect(errorOf(batch[1]).message).toContain("renamed to new-name");
  });
});

describe("errors and limits", () => {
  test("an exhausted quota is RateLimitedError with the reset time, without retrying", async () => {
    const resetAt = Date.now() + 1_800_000;
    emulator.setRateLimit({ remaining: 0, resetAt, resource: "core" });
    emulator.resetLog();
    try {
      const error = await upstream()
        .commitsSince(ref(), sha.init as string, sha.l3 as string)
        .catch((caught) => caught);
      expect(error).toBeInstanceOf(RateLimitedError);
      expect(error.resetAt).toBe(Math.floor(resetAt / 1000) * 1000);
      expect(emulator.requests).toHaveLength(1);
    } finally {
      emulator.setRateLimit({ remaining: 5000, resource: "core" });
    }
  });

  test("an exhausted GraphQL quota gives every ref a RateLimitedError", async () => {
    const resetAt = Date.now() + 600_000;
    emulator.setRateLimit({ remaining: 0, resetAt, resource: "graphql" });
    try {
      const results = await upstream().heads([ref("main"), ref("topic")]);
      for (const result of results) {
        const error = errorOf(result) as RateLimitedError;
        expect(error).toBeInstanceOf(RateLimitedError);
        expect(error.resetAt).toBe(Math.floor(resetAt / 1000) * 1000);
      }
    } finally {
      emulator.setRateLimit({ remaining: 5000, resource: "graphql" });
    }
  });

  test("a short secondary limit is waited out; a long one is RateLimitedError", async () => {
    emulator.resetLog();
    emulator.fault(
      { path: "/compare/", times: 1 },
      { kind: "secondary-rate-limit", retryAfter: 1 },
    );
    const commits = await upstream().commitsSince(ref(), sha.init as string, sha.l3 as string);
    expect(commits).toHaveLength(3);
    expect(emulator.requests.map((request) => request.status).slice(0, 2)).toEqual([403, 200]);

    emulator.fault(
      { path: "/compare/", times: 1 },
      { kind: "secondary-rate-limit", status: 429, retryAfter: 3600 },
    );
    const before = Date.now();
    const error = await upstream()
      .commitsSince(ref(), sha.init as string, sha.l3 as string)
      .catch((caught) => caught);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error.resetAt).toBeGreaterThanOrEqual(before + 3_600_000);
    emulator.clearFaults();
  });

  test("5xx and dropped connections are retried; persistent 5xx is TransientError", async () => {
    emulator.resetLog();
    emulator.fault({ path: "/compare/", times: 1 }, { kind: "5xx", status: 502 });
    emulator.fault({ path: "/compare/", times: 1 }, "drop");
    const commits = await upstream().commitsSince(ref(), sha.init as string, sha.l3 as string);
    expect(commits).toHaveLength(3);
    expect(emulator.requests.map((request) => request.status).slice(0, 3)).toEqual([502, 0, 200]);

    emulator.fault({ path: "/compare/" }, { kind: "5xx", status: 503 });
    emulator.resetLog();
    const error = await upstream({ retries: 2 })
      .commitsSince(ref(), sha.init as string, sha.l3 as string)
      .catch((caught) => caught);
    expect(error).toBeInstanceOf(TransientError);
    expect(emulator.requests).toHaveLength(3);
    emulator.clearFaults();
  });

  test("a request slower than the timeout is abandoned once, not repeated: TransientError(timeout)", async () => {
    // Fail fast: an attempt that used up its timeout already waited REQUEST_TIMEOUT; waiting
    // for it again (and again) is what made an unreachable GitHub cost 40 s per call.
    emulator.resetLog();
    emulator.fault({ path: "/user", times: 1 }, { kind: "delay", ms: 1000 });
    const github = upstream({ timeoutMs: 200, retries: 1 });
    const started = Date.now();
    const error = await github.checkToken().catch((caught) => caught);
    expect(Date.now() - started).toBeLessThan(900);
    expect(error).toBeInstanceOf(TransientError);
    expect(error.message).toContain("timed out");
    expect(error.transport).toBe("timeout");
    expect(emulator.requests.map((request) => request.path)).toEqual(["/user"]);
    // The next call is answered normally.
    expect(await github.checkToken()).toBe("emulator-bot");
  });

  test("a bad token is AuthFailedError everywhere; checkToken returns the login", async () => {
    expect(await upstream().checkToken()).toBe("emulator-bot");
    const bad = upstream({ token: "wrong-github-token-for-tests" });
    expect(await bad.checkToken().catch((caught) => caught)).toBeInstanceOf(AuthFailedError);
    const heads = await bad.heads([ref("main"), ref("topic")]);
    expect(errorOf(heads[0])).toBeInstanceOf(AuthFailedError);
    expect(errorOf((await bad.heads([ref("main")]))[0])).toBeInstanceOf(AuthFailedError);
    const since = await bad
      .commitsSince(ref(), sha.init as string, sha.l3 as string)
      .catch((e) => e);
    expect(since).toBeInstanceOf(AuthFailedError);
  });

  test("tokens never reach the log, even at debug level with failures", async () => {
    const lines: string[] = [];
    const log = createLogger({ level: "debug", sink: { write: (line) => lines.push(line) } });
    const github = upstream({ log });
    emulator.fault({ path: "/compare/", times: 1 }, { kind: "5xx" });
    await github.commitsSince(ref(), sha.init as string, sha.l3 as string);
    await github.heads([ref("main"), ref("topic")]);
    await upstream({ log, token: "wrong-github-token-for-tests" })
      .checkToken()
      .catch(() => {});
    expect(lines.length).toBeGreaterThan(0);
    const output = lines.join("");
    expect(output).not.toContain(emulator.token);
    expect(output).not.toContain("wrong-github-token-for-tests");
  });
});

describe("enterprise and addresses", () => {
  test("an /api/v3 base URL uses /api/graphql and links commits to the host", async () => {
    const enterprise = startGithubEmulator({ repos: { [REPO]: repo.dir }, prefix: "/api/v3" });
    try {
      const github = createGithubUpstream({
        baseUrl: enterprise.url,
        token: enterprise.token,
        log: silentLogger,
        timeoutMs: 5000,
      });
      const heads = await github.heads([ref("main"), ref("topic")]);
      expect(heads.map(shaOf)).toEqual([sha.last, sha.t2] as string[]);
      const commits = await github.commitsSince(ref(), sha.init as string, sha.l2 as string);
      expect(commits.map((commit) => commit.url)).toEqual(
        [sha.l1, sha.l2].map((s) => `${enterprise.url.replace("/api/v3", "")}/${REPO}/commit/${s}`),
      );
      const paths = enterprise.requests.map((request) => request.path);
      expect(paths[0]).toBe("/api/graphql");
      expect(paths.slice(1).every((path) => path.startsWith("/api/v3/repos/"))).toBe(true);
    } finally {
      await enterprise.stop();
    }
  });

  test("GraphQL and web addresses are derived from the API base URL", () => {
    expect(graphqlUrlFor("https://api.github.com")).toBe("https://api.github.com/graphql");
    expect(graphqlUrlFor("https://ghe.example.com/api/v3/")).toBe(
      "https://ghe.example.com/api/graphql",
    );
    expect(graphqlUrlFor("http://127.0.0.1:8001")).toBe("http://127.0.0.1:8001/graphql");
    expect(webUrlFor("https://api.github.com")).toBe("https://github.com");
    expect(webUrlFor("https://ghe.example.com/api/v3")).toBe("https://ghe.example.com");
    expect(webUrlFor("http://127.0.0.1:8001")).toBe("http://127.0.0.1:8001");
  });

  test("the mailbox splitter ignores separators with unknown or repeated shas", () => {
    const a = "a".repeat(40);
    const b = "b".repeat(40);
    const message = (sha: string, body: string) =>
      `From ${sha} Mon Sep 17 00:00:00 2001\nFrom: X <x@example.com>\nSubject: [PATCH 1/2] s\n\n${body}`;
    const mbox = `${message(a, `From ${"c".repeat(40)} Mon Sep 17 00:00:00 2001\nFrom: Y <y@x>\n`)}\n${message(b, "diff\n")}`;
    const parts = splitMbox(new TextEncoder().encode(mbox), new Set([a, b]));
    expect([...parts.keys()]).toEqual([a, b]);
    expect(new TextDecoder().decode(parts.get(a))).toBe(
      message(a, `From ${"c".repeat(40)} Mon Sep 17 00:00:00 2001\nFrom: Y <y@x>\n`).replace(
        "[PATCH 1/2]",
        "[PATCH]",
      ),
    );
    expect(new TextDecoder().decode(parts.get(b))).toEndWith("\n\ndiff\n");
  });
});
