/**
 * Heads of http(s) git upstreams from their ref advertisement, in-process: against git's own
 * `http-backend` (real smart HTTP), one request per URL, the same heads `git ls-remote` sees;
 * every answer that is not the plain case falls back to git; per-host politeness holds.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { startGitHttpServer } from "../bench/git-http-server.ts";
import { NotFoundError } from "../src/errors.ts";
import { silentLogger } from "../src/log.ts";
import { createGitUpstream } from "../src/scan/upstream/git.ts";
import { advertisable, parseAdvertisement } from "../src/scan/upstream/git-http-refs.ts";
import type { HeadResult } from "../src/scan/upstream/types.ts";
import { GitRepo } from "./helpers/git-repo.ts";
import { tempDir } from "./helpers/temp.ts";

const root = tempDir();
const up = await GitRepo.init(join(root, "up"));
const mainHead = await up.commit("first", { "a.c": "int a;\n" });
await up.git(["branch", "feature/main"]);
await up.git(["branch", "主线"]);
await up.git(["tag", "v1"]);
for (let i = 0; i < 50; i++) await up.git(["branch", `b${i}`]);
const sideHead = await up.commit("second", { "b.c": "int b;\n" });

let active = 0;
let maxActive = 0;
const server = startGitHttpServer({
  latencyMs: 20,
  resolve: (name) => (/^(org\/)?u\d+\.git$/.test(name) ? join(up.dir, ".git") : null),
});
const probe = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname.startsWith("/dumb/")) return new Response("ref: x\n", { status: 200 });
    if (url.pathname.startsWith("/moved/")) {
      return Response.redirect(`${server.origin}/u1.git/info/refs${url.search}`, 301);
    }
    return new Response("not found\n", { status: 404 });
  },
});
afterAll(async () => {
  await server.stop();
  probe.stop(true);
});

function upstream(extra: { allowProtocols?: string; host?: number; lookup?: number } = {}) {
  return createGitUpstream({
    basePath: join(tempDir(), "mirrors"),
    log: silentLogger,
    timeoutMs: 20_000,
    allowProtocols: extra.allowProtocols ?? "http",
    headsLimits: { lookupConcurrency: extra.lookup ?? 32, hostConcurrency: extra.host ?? 8 },
  });
}

const shaOf = (result: HeadResult | undefined) => (result && "sha" in result ? result.sha : null);

describe("heads from the ref advertisement", () => {
  test("one GET per URL, the heads git has, branches matched exactly", async () => {
    const git = upstream();
    server.requests.length = 0;
    const url = `${server.origin}/u1.git`;
    const results = await git.heads([
      { repo: url, branch: "main" },
      { repo: url, branch: "主线" },
      { repo: url, branch: "b49" },
      { repo: url, branch: "v1" },
      { repo: url, branch: "ain" },
    ]);
    expect(shaOf(results[0])).toBe(sideHead);
    expect(shaOf(results[1])).toBe(mainHead);
    expect(shaOf(results[2])).toBe(mainHead);
    // A tag is not a branch; a suffix of a branch name is not that branch.
    expect(results[3] && "error" in results[3] && results[3].error).toBeInstanceOf(NotFoundError);
    expect(results[4] && "error" in results[4] && results[4].error).toBeInstanceOf(NotFoundError);
    expect(server.requests).toEqual([{ method: "GET", path: "/u1.git/info/refs", status: 200 }]);
    expect(git.stats).toMatchObject({ advertisements: 1, lsRemotes: 0 });
  });

  test("a 404, a redirect and a dumb answer go to git ls-remote, which decides", async () => {
    const git = upstream();
    const base = `http://127.0.0.1:${probe.port}`;
    const [missing, moved, dumb] = await git.heads([
      { repo: `${base}/none/r.git`, branch: "main" },
      { repo: `${base}/moved/r.git`, branch: "main" },
      { repo: `${base}/dumb/r.git`, branch: "main" },
    ]);
    expect(missing && "error" in missing && missing.error).toBeInstanceOf(NotFoundError);
    // git follows the redirect of the first request, as it always did.
    expect(shaOf(moved)).toBe(sideHead);
    expect(dumb && "error" in dumb).toBe(true);
    expect(git.stats).toMatchObject({ advertisements: 3, lsRemotes: 3 });
  });

  test("a transport GIT_ALLOW_PROTOCOL does not list is never fetched in-process", async () => {
    const git = upstream({ allowProtocols: "https" });
    server.requests.length = 0;
    const [head] = await git.heads([{ repo: `${server.origin}/u2.git`, branch: "main" }]);
    expect(head && "error" in head).toBe(true);
    expect(server.requests).toEqual([]);
    expect(git.stats.advertisements).toBe(0);
  });

  test("at most GIT_HOST_CONCURRENCY look-ups per host, hosts in parallel", async () => {
    const git = upstream({ host: 3, lookup: 32 });
    const counting = startGitHttpServer({
      latencyMs: 40,
      resolve: (name) => (/^u\d+\.git$/.test(name) ? join(up.dir, ".git") : null),
      onRequest(delta) {
        active += delta;
        maxActive = Math.max(maxActive, active);
      },
    });
    const refs = [];
    const port = new URL(counting.origin).port;
    for (let i = 0; i < 24; i++) {
      // Two host names for the same server: 127.0.0.1 and localhost.
      const host = i % 2 === 0 ? "127.0.0.1" : "localhost";
      refs.push({ repo: `http://${host}:${port}/u${i}.git`, branch: "main" });
    }
    const results = await git.heads(refs);
    await counting.stop();
    expect(results.map(shaOf)).toEqual(refs.map(() => sideHead));
    expect(maxActive).toBeGreaterThan(3);
    expect(maxActive).toBeLessThanOrEqual(6);
  }, 30_000);
});

describe("advertisement rules", () => {
  test("only plain http(s) URLs the allow-list admits, without credentials or query", () => {
    expect(advertisable("https://x.org/r.git", "https:ssh")).toBe(true);
    expect(advertisable("http://x.org/r.git", "https:ssh")).toBe(false);
    expect(advertisable("https://u:p@x.org/r.git", "https")).toBe(false);
    expect(advertisable("https://x.org/r.git?x=1", "https")).toBe(false);
    expect(advertisable("git://x.org/r.git", "git:https")).toBe(false);
    expect(advertisable("git@x.org:r.git", "ssh:https")).toBe(false);
  });

  const pkt = (text: string) =>
    `${(Buffer.byteLength(text) + 4).toString(16).padStart(4, "0")}${text}`;
  const sha = "a".repeat(40);

  test("parses refs with capabilities, sha-256 and non-ASCII names; rejects anything else", () => {
    const good = `${pkt("# service=git-upload-pack\n")}0000${pkt(`${sha} HEAD\0multi_ack symref=HEAD:refs/heads/main\n`)}${pkt(`${sha} refs/heads/main\n`)}${pkt(`${"b".repeat(64)} refs/heads/分支\n`)}${pkt(`${sha} refs/tags/v1\n`)}0000`;
    expect(parseAdvertisement(Buffer.from(good))).toEqual(
      new Map([
        ["refs/heads/main", sha],
        ["refs/heads/分支", "b".repeat(64)],
      ]),
    );
    const empty = `${pkt("# service=git-upload-pack\n")}0000${pkt(`${"0".repeat(40)} capabilities^{}\0agent=x\n`)}0000`;
    expect(parseAdvertisement(Buffer.from(empty))).toEqual(new Map());
    for (const bad of [
      "",
      "hello",
      `${pkt("# service=git-receive-pack\n")}0000${pkt(`${sha} refs/heads/main\n`)}0000`,
      `${pkt("# service=git-upload-pack\n")}0000${pkt("version 2\n")}0000`,
      `${pkt("# service=git-upload-pack\n")}0000${pkt(`${sha} refs/heads/main\n`)}`,
      `${pkt("# service=git-upload-pack\n")}0000zzzz0000`,
      `${pkt("# service=git-upload-pack\n")}00000fff${sha}`,
    ]) {
      expect(parseAdvertisement(Buffer.from(bad))).toBeNull();
    }
  });
});
