import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DivergedError, NotFoundError, RejectedError, TransientError } from "../src/errors.ts";
import { git } from "../src/git.ts";
import { createLogger, silentLogger } from "../src/log.ts";
import { createGitUpstream, type GitUpstreamOptions } from "../src/scan/upstream/git.ts";
import { parseCommitObject } from "../src/scan/upstream/git-commit-object.ts";
import { branchProblem, displayUrl, mirrorName, urlProblem } from "../src/scan/upstream/git-url.ts";
import type { HeadResult, UpstreamCommit } from "../src/scan/upstream/types.ts";
import { GitRepo } from "./helpers/git-repo.ts";
import { freePort } from "./helpers/net.ts";
import { tempDir } from "./helpers/temp.ts";

const root = tempDir("git-upstream-");
let up: GitRepo;
const sha: Record<string, string> = {};
let allMain: UpstreamCommit[] = [];
let counter = 0;

const LATIN1_MESSAGE = new Uint8Array([
  ...new TextEncoder().encode("Caf"),
  0xe9,
  ...new TextEncoder().encode(" au lait\n\nR"),
  0xe9,
  ...new TextEncoder().encode("sum"),
  0xe9,
  0x0a,
]);
const BINARY_V1 = new Uint8Array(Array.from({ length: 300 }, (_, i) => i % 256));
const BINARY_V2 = new Uint8Array(Array.from({ length: 300 }, (_, i) => (i * 7) % 256));

/** A git upstream with its own fresh mirror folder (file transport allowed for tests). */
function upstream(options: Partial<GitUpstreamOptions> = {}) {
  return createGitUpstream({
    basePath: join(root, `mirrors-${++counter}`),
    log: silentLogger,
    timeoutMs: 20_000,
    allowProtocols: "file",
    ...options,
  });
}

function shaOf(result: HeadResult | undefined): string {
  if (!result || "error" in result) throw result?.error ?? new Error("no result");
  return result.sha;
}

function errorOf(result: HeadResult | undefined): Error {
  if (!result || !("error" in result))
    throw new Error(`expected an error: ${JSON.stringify(result)}`);
  return result.error;
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a rejection");
}

function latin1(bytes: Uint8Array): string {
  return new TextDecoder("latin1").decode(bytes);
}

function byMessage(subject: string): UpstreamCommit {
  const commit = allMain.find((c) => c.message.split("\n")[0] === subject);
  if (!commit) throw new Error(`no commit ${subject}`);
  return commit;
}

/** A fresh upstream repository with three commits on main. */
async function smallRepo(name: string): Promise<{ repo: GitRepo; shas: string[] }> {
  const repo = await GitRepo.init(join(root, name));
  const shas = [
    await repo.commit("one", { "f.txt": "1\n" }),
    await repo.commit("two", { "f.txt": "1\n2\n" }),
    await repo.commit("three", { "f.txt": "1\n2\n3\n" }),
  ];
  return { repo, shas };
}

beforeAll(async () => {
  up = await GitRepo.init(join(root, "up"));
  sha.root = await up.commit("init", {
    "README.md": "hello\n",
    "a.txt": Array.from({ length: 20 }, (_, i) => `line ${i}\n`).join(""),
  });
  sha.linear = await up.commit("linear 1", { "b.txt": "b\n" });
  sha.pipes = await up.commit("fix: a | b | c\n\nbody | with | pipes\n", { "b.txt": "b\nc\n" });
  sha.empty = await up.emptyCommit("nothing changes here");
  sha.binaryAdd = await up.commit("add binary", { "data/blob.bin": BINARY_V1 });
  sha.binaryChange = await up.commit("change binary", { "data/blob.bin": BINARY_V2 });
  sha.rename = await up.rename("a.txt", "docs/a.txt", "move a.txt into docs");
  sha.latin1 = await up.commitRaw(LATIN1_MESSAGE, { "b.txt": "b\nc\nd\n" });
  sha.declared = await up.commit(
    new Uint8Array([0x53, 0x74, 0x72, 0x61, 0xdf, 0x65, 0x0a]),
    { "e.txt": "e\n" },
    { encoding: "ISO-8859-1" },
  );
  await up.checkout("topic", { create: true });
  sha.topic1 = await up.commit("topic 1", { "t1.txt": "t1\n" });
  sha.topic2 = await up.commit("topic 2", { "t2.txt": "t2\n", "README.md": "hello topic\n" });
  await up.checkout("main");
  sha.mainSide = await up.commit("main while topic", { "c.txt": "c\n" });
  sha.merge = await up.merge("topic", "Merge branch 'topic'");
  sha.last = await up.commit(
    "after merge",
    { "c.txt": "c\nc2\n" },
    { authorDate: "2024-02-01T08:00:00+05:00", committerDate: "2024-03-01T12:30:45+02:00" },
  );
  // A branch whose name ends in "main": `ls-remote --heads main` would also match it.
  await up.branch("feature/main", sha.linear as string);
  await up.branch("dev", sha.pipes as string);
  allMain = await upstream().commitsSince(
    { repo: up.url, branch: "main" },
    sha.root as string,
    sha.last as string,
  );
});

describe("commitsSince on a real repository", () => {
  test("lists the first-parent history oldest first, merged topic commits not separately", async () => {
    const expected = await up.revList(["--first-parent", "--reverse", `${sha.root}..${sha.last}`]);
    expect(allMain.map((c) => c.sha)).toEqual(expected);
    expect(allMain.map((c) => c.sha)).toEqual([
      sha.linear,
      sha.pipes,
      sha.empty,
      sha.binaryAdd,
      sha.binaryChange,
      sha.rename,
      sha.latin1,
      sha.declared,
      sha.mainSide,
      sha.merge,
      sha.last,
    ] as string[]);
    expect(allMain.map((c) => c.sha)).not.toContain(sha.topic1 as string);
    for (const commit of allMain) {
      expect(commit.url).toBeNull();
      expect(latin1(commit.patch).startsWith(`From ${commit.sha} `)).toBe(true);
    }
  });

  test("carries committer date in UTC, author, message and parents", () => {
    const last = byMessage("after merge");
    expect(last).toMatchObject({
      sha: sha.last,
      date: "2024-03-01T10:30:45Z",
      message: "after merge",
      authorName: "Ada Author",
      authorEmail: "ada@example.com",
      parents: [sha.merge],
      empty: false,
      url: null,
    });
    expect(byMessage("linear 1").date).toBe("2024-01-01T00:02:00Z");
    expect(byMessage("linear 1").parents).toEqual([sha.root as string]);
  });

  test("the patches rebuild the head tree with git am in a fresh clone", async () => {
    const clone = await GitRepo.clone(up.dir, join(root, "am-all"), { branch: "main" });
    await clone.resetHard(sha.root as string);
    await clone.am(allMain.map((c) => c.patch));
    expect(await clone.tree()).toBe(await up.tree(sha.last));
    // git am kept the authors and messages, one commit per patch.
    const log = await clone.git(["log", "--format=%an|%s", `${sha.root}..HEAD`]);
    expect(log.trim().split("\n")).toHaveLength(allMain.length);
    expect(log).toContain("Ada Author|fix: a | b | c");
  });

  test("a merge is one patch: its diff against the first parent", async () => {
    const merge = byMessage("Merge branch 'topic'");
    expect(merge.parents).toEqual([sha.mainSide, sha.topic2] as string[]);
    const text = latin1(merge.patch);
    expect(text).toContain("Subject: [PATCH] Merge branch 'topic'");
    expect(text).toContain("diff --git a/t1.txt b/t1.txt");
    expect(text).toContain("diff --git a/t2.txt b/t2.txt");
    expect(text).toContain("+hello topic");
    expect(text).not.toContain("c.txt");
    // Same change as the first-parent diff (patch ids ignore headers and whitespace).
    const patchId = async (input: Uint8Array | string) =>
      (await git(["patch-id", "--stable"], { cwd: up.dir, input })).split(" ")[0];
    const diff = await git(["diff", "--binary", `${sha.merge}^1`, sha.merge as string], {
      cwd: up.dir,
    });
    expect(await patchId(merge.patch)).toBe(await patchId(diff));
  });

  test("an empty commit is flagged and its patch has no diff", () => {
    const empty = byMessage("nothing changes here");
    expect(empty.empty).toBe(true);
    expect(latin1(empty.patch)).toContain("Subject: [PATCH] nothing changes here");
    expect(latin1(empty.patch)).not.toContain("diff --git");
    expect(allMain.filter((c) => c.empty).map((c) => c.sha)).toEqual([sha.empty as string]);
  });

  test("binary changes come as GIT binary patches that git apply accepts", async () => {
    const change = byMessage("change binary");
    expect(latin1(change.patch)).toContain("GIT binary patch");
    const clone = await GitRepo.clone(up.dir, join(root, "apply-binary"), { branch: "main" });
    await clone.resetHard(sha.binaryAdd as string);
    await git(["apply", "--index", "-"], { cwd: clone.dir, input: change.patch });
    const applied = await git(["hash-object", "data/blob.bin"], { cwd: clone.dir });
    const expected = await git(["rev-parse", `${sha.binaryChange}:data/blob.bin`], {
      cwd: up.dir,
    });
    expect(applied.trim()).toBe(expected.trim());
  });

  test("a rename is shown as rename from/to", () => {
    const text = latin1(byMessage("move a.txt into docs").patch);
    expect(text).toContain("rename from a.txt");
    expect(text).toContain("rename to docs/a.txt");
    expect(text).toContain("similarity index 100%");
  });

  test("a non-UTF-8 message keeps its bytes in the patch and is decoded without throwing", async () => {
    const commit = allMain.find((c) => c.sha === sha.latin1);
    if (!commit) throw new Error("latin1 commit missing");
    expect(commit.message).toBe("Café au lait\n\nRésumé");
    // The raw object really holds Latin-1, with no encoding header.
    const raw = latin1(await up.rawCommit(sha.latin1 as string));
    expect(raw).toContain("R\u00e9sum\u00e9");
    expect(raw).not.toContain("encoding");
    // The body's bytes are in the patch untouched (the subject is MIME-encoded by git).
    expect(latin1(commit.patch)).toContain("\n\nR\u00e9sum\u00e9\n");
    expect(latin1(commit.patch)).toContain("Subject: [PATCH] =?UTF-8?q?Caf=E9");
  });

  test("a message with a declared encoding is decoded with it", () => {
    const commit = allMain.find((c) => c.sha === sha.declared);
    expect(commit?.message).toBe("Straße");
  });

  test("a message with | survives whole", () => {
    const commit = byMessage("fix: a | b | c");
    expect(commit.message).toBe("fix: a | b | c\n\nbody | with | pipes");
    expect(latin1(commit.patch)).toContain("Subject: [PATCH] fix: a | b | c");
  });

  test("the root commit as base, and base equal to head", async () => {
    const git = upstream();
    const ref = { repo: up.url, branch: "main" };
    const one = await git.commitsSince(ref, sha.root as string, sha.linear as string);
    expect(one.map((c) => c.sha)).toEqual([sha.linear as string]);
    expect(await git.commitsSince(ref, sha.root as string, sha.root as string)).toEqual([]);
    // An abbreviated base naming the head is "nothing new" too.
    expect(
      await git.commitsSince(ref, (sha.linear as string).slice(0, 10), sha.linear as string),
    ).toEqual([]);
    const backwards = await rejection(
      git.commitsSince(ref, sha.linear as string, sha.root as string),
    );
    expect(backwards).toBeInstanceOf(DivergedError);
  });

  test("the raw object of a root commit (no parent header) parses", async () => {
    const raw = await up.rawCommit(sha.root as string);
    expect(parseCommitObject(sha.root as string, raw)).toMatchObject({
      authorName: "Ada Author",
      authorEmail: "ada@example.com",
      message: "init",
    });
  });
});

describe("rewritten and unknown history", () => {
  test("a force-pushed branch throws DivergedError and returns nothing", async () => {
    const { repo, shas } = await smallRepo("forced");
    const [one, two, three] = shas as [string, string, string];
    const git = upstream();
    const ref = { repo: repo.url, branch: "main" };
    expect((await git.commitsSince(ref, one, three)).map((c) => c.sha)).toEqual([two, three]);
    await repo.resetHard(one);
    const rewritten = await repo.commit("rewritten", { "g.txt": "g\n" });
    const [head] = await git.heads([ref]);
    expect(shaOf(head)).toBe(rewritten);
    const error = await rejection(git.commitsSince(ref, three, rewritten));
    expect(error).toBeInstanceOf(DivergedError);
    expect(error.message).toContain("was rewritten");
    expect(error.message).toContain("no longer an ancestor");
    expect(error.message).toContain("branch main");
    expect((error as DivergedError).base).toBe(three);
    expect((error as DivergedError).head).toBe(rewritten);
    expect(git.stats).toEqual({ clones: 1, fetches: 1, lsRemotes: 1, advertisements: 0 });
  });

  test("an unknown base throws DivergedError naming it unknown", async () => {
    const git = upstream();
    const unknown = "deadbeef".repeat(5);
    const error = await rejection(
      git.commitsSince({ repo: up.url, branch: "main" }, unknown, sha.last as string),
    );
    expect(error).toBeInstanceOf(DivergedError);
    expect(error.message).toContain("unknown commit");
    expect(error.message).toContain("deadbeefdead");
  });

  test("a base that is not a sha is refused", async () => {
    const error = await rejection(
      upstream().commitsSince({ repo: up.url, branch: "main" }, "HEAD~1", sha.last as string),
    );
    expect(error).toBeInstanceOf(RejectedError);
  });
});

describe("mirrors", () => {
  test("two trackings of one URL share one mirror; fetches are incremental", async () => {
    const { repo, shas } = await smallRepo("shared");
    await repo.branch("dev", shas[0]);
    const git = upstream();
    const base = git.mirrorPath(repo.url).replace(/\/[^/]+$/, "");
    const main = { repo: repo.url, branch: "main" };
    const dev = { repo: repo.url, branch: "dev" };
    const heads1 = (await git.heads([main, dev])).map(shaOf);
    expect(git.stats).toEqual({ clones: 0, fetches: 0, lsRemotes: 1, advertisements: 0 });
    expect(await git.commitsSince(main, shas[0] as string, heads1[0] as string)).toHaveLength(2);
    expect(await git.commitsSince(dev, shas[0] as string, heads1[1] as string)).toEqual([]);
    await git.commitsSince(dev, shas[1] as string, heads1[0] as string);
    expect(git.stats).toEqual({ clones: 1, fetches: 0, lsRemotes: 1, advertisements: 0 });
    expect(readdirSync(base)).toEqual([git.mirrorPath(repo.url).split("/").pop() as string]);
    const inode = statSync(git.mirrorPath(repo.url)).ino;

    // New commits on both branches: one fetch serves both trackings.
    const newMain = await repo.commit("four", { "f.txt": "1\n2\n3\n4\n" });
    await repo.checkout("dev");
    const newDev = await repo.commit("dev work", { "d.txt": "d\n" });
    await repo.checkout("main");
    const heads2 = (await git.heads([main, dev])).map(shaOf);
    expect(heads2).toEqual([newMain, newDev]);
    const mainCommits = await git.commitsSince(main, heads1[0] as string, newMain);
    const devCommits = await git.commitsSince(dev, shas[0] as string, newDev);
    expect(mainCommits.map((c) => c.message)).toEqual(["four"]);
    expect(devCommits.map((c) => c.message)).toEqual(["dev work"]);
    expect(git.stats).toEqual({ clones: 1, fetches: 1, lsRemotes: 2, advertisements: 0 });
    expect(statSync(git.mirrorPath(repo.url)).ino).toBe(inode);

    // A restarted service finds the mirror and neither clones nor fetches.
    const again = createGitUpstream({
      basePath: base,
      log: silentLogger,
      timeoutMs: 20_000,
      allowProtocols: "file",
    });
    expect(await again.commitsSince(main, shas[2] as string, newMain)).toHaveLength(1);
    expect(again.stats).toEqual({ clones: 0, fetches: 0, lsRemotes: 0, advertisements: 0 });
  });

  test("concurrent scans of one new URL clone it once", async () => {
    const { repo, shas } = await smallRepo("concurrent");
    const git = upstream();
    const ref = { repo: repo.url, branch: "main" };
    const results = await Promise.all([
      git.commitsSince(ref, shas[0] as string, shas[2] as string),
      git.commitsSince(ref, shas[1] as string, shas[2] as string),
      git.commitsSince(ref, shas[0] as string, shas[1] as string),
    ]);
    expect(results.map((r) => r.length)).toEqual([2, 1, 1]);
    expect(git.stats.clones).toBe(1);
    expect(git.stats.fetches).toBe(0);
  });

  test("a half-made mirror and old temp directories are replaced", async () => {
    const { repo, shas } = await smallRepo("half");
    const git = upstream();
    const dir = git.mirrorPath(repo.url);
    const base = dir.replace(/\/[^/]+$/, "");
    // As if a clone was killed: a bare repository without objects or the completion mark.
    await GitRepo.init(dir, { bare: true });
    const leftover = join(base, `.tmp-${mirrorName(repo.url)}-1-abcdef01`);
    mkdirSync(join(leftover, "objects"), { recursive: true });
    utimesSync(leftover, new Date(2020, 0, 1), new Date(2020, 0, 1));
    const commits = await git.commitsSince(
      { repo: repo.url, branch: "main" },
      shas[0] as string,
      shas[2] as string,
    );
    expect(commits).toHaveLength(2);
    expect(git.stats.clones).toBe(1);
    expect(readdirSync(base)).toEqual([mirrorName(repo.url)]);
    const config = await Bun.file(join(dir, "config")).text();
    expect(config).toContain("complete = true");
  });

  test("an empty directory in the mirror's place is rebuilt", async () => {
    const { repo, shas } = await smallRepo("emptydir");
    const git = upstream();
    mkdirSync(git.mirrorPath(repo.url), { recursive: true });
    const ref = { repo: repo.url, branch: "main" };
    expect(await git.commitsSince(ref, shas[1] as string, shas[2] as string)).toHaveLength(1);
    expect(git.stats.clones).toBe(1);
  });

  test("stale lock files left by a killed git do not block the next fetch", async () => {
    const { repo, shas } = await smallRepo("locked");
    const git = upstream();
    const ref = { repo: repo.url, branch: "main" };
    await git.commitsSince(ref, shas[0] as string, shas[2] as string);
    const lock = join(git.mirrorPath(repo.url), "refs", "heads", "main.lock");
    writeFileSync(lock, "");
    utimesSync(lock, new Date(2020, 0, 1), new Date(2020, 0, 1));
    const four = await repo.commit("four", { "f.txt": "4\n" });
    expect((await git.commitsSince(ref, shas[2] as string, four)).map((c) => c.sha)).toEqual([
      four,
    ]);
    expect(git.stats.fetches).toBe(1);
    expect(existsSync(lock)).toBe(false);
  });

  test("a fetch that hangs is killed and reported as transient", async () => {
    const { repo, shas } = await smallRepo("slow");
    const git = upstream({ timeoutMs: 400 });
    const ref = { repo: repo.url, branch: "main" };
    await git.commitsSince(ref, shas[0] as string, shas[1] as string);
    // The remote side stalls before answering (stderr closed so only git holds our pipes).
    await git_(git.mirrorPath(repo.url), [
      "config",
      "remote.origin.uploadpack",
      "exec 2>/dev/null; sleep 30; git-upload-pack",
    ]);
    const four = await repo.commit("four", { "f.txt": "4\n" });
    const started = Date.now();
    const error = await rejection(git.commitsSince(ref, shas[2] as string, four));
    expect(error).toBeInstanceOf(TransientError);
    expect(error.message).toContain("timed out");
    // Killed at its 400 ms timeout, not waiting out the remote's 30 s (a wide margin: the
    // machine may be busy).
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});

/** git with GIT_DIR set (for poking at a mirror directly). */
function git_(dir: string, args: string[]) {
  return git(args, { env: { GIT_DIR: dir } });
}

describe("heads", () => {
  test("several branches of one URL cost one ls-remote; names match exactly", async () => {
    const other = await smallRepo("other");
    const git = upstream();
    const results = await git.heads([
      { repo: up.url, branch: "main" },
      { repo: other.repo.url, branch: "main" },
      { repo: up.url, branch: "dev" },
      { repo: up.url, branch: "feature/main" },
      { repo: up.url, branch: "main" },
    ]);
    expect(results.map(shaOf)).toEqual([
      sha.last,
      other.shas[2],
      sha.pipes,
      sha.linear,
      sha.last,
    ] as string[]);
    expect(git.stats).toEqual({ clones: 0, fetches: 0, lsRemotes: 2, advertisements: 0 });
    expect(existsSync(git.mirrorPath(up.url))).toBe(false);
  });

  test("a missing branch is NotFoundError naming it; other branches still answer", async () => {
    const git = upstream();
    const results = await git.heads([
      { repo: up.url, branch: "nope" },
      { repo: up.url, branch: "main" },
    ]);
    const error = errorOf(results[0]);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error.message).toContain("branch nope");
    expect(error.message).toContain(up.url);
    expect(shaOf(results[1])).toBe(sha.last as string);
  });

  test("a missing repository is NotFoundError naming the URL", async () => {
    const git = upstream();
    const missing = `${up.url}-missing`;
    const [head] = await git.heads([{ repo: missing, branch: "main" }]);
    expect(errorOf(head)).toBeInstanceOf(NotFoundError);
    expect(errorOf(head).message).toContain(missing);
    const error = await rejection(
      git.commitsSince({ repo: missing, branch: "main" }, "a".repeat(40), "b".repeat(40)),
    );
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error.message).toContain(missing);
  });

  test("bad branch names and URLs are refused before git runs", async () => {
    const git = upstream();
    const results = await git.heads([
      { repo: up.url, branch: "--upload-pack=touch /tmp/x" },
      { repo: up.url, branch: "a..b" },
      { repo: "--upload-pack=sh", branch: "main" },
      { repo: "relative/path", branch: "main" },
    ]);
    for (const result of results) expect(errorOf(result)).toBeInstanceOf(RejectedError);
    expect(git.stats.lsRemotes).toBe(0);
  });

  test("a mirror folder inside another repository ignores that repository's config", async () => {
    const outer = await GitRepo.init(join(root, "outer"));
    const missing = "file:///nonexistent/upstream.git";
    // Were git to read the outer config, the missing URL would be rewritten to the real one.
    await outer.git(["config", `url.${up.url}.insteadOf`, missing]);
    const git = createGitUpstream({
      basePath: join(outer.dir, "mirrors"),
      log: silentLogger,
      timeoutMs: 20_000,
      allowProtocols: "file",
    });
    const [head] = await git.heads([{ repo: missing, branch: "main" }]);
    expect(errorOf(head)).toBeInstanceOf(NotFoundError);
  });

  test("transports outside the allowed list are refused", async () => {
    const git = upstream({ allowProtocols: "https" });
    const [head] = await git.heads([{ repo: up.dir, branch: "main" }]);
    expect(errorOf(head)).toBeInstanceOf(RejectedError);
    expect(errorOf(head).message).toContain("'file' transport is not allowed");
  });
});

describe("credentials in URLs", () => {
  let server: ReturnType<typeof Bun.serve>;
  const lines: string[] = [];
  const secret = "s3cretPassw0rd";

  beforeAll(() => {
    server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: () => new Response("not found", { status: 404 }),
    });
  });
  afterAll(() => server.stop(true));

  function credentialed() {
    return createGitUpstream({
      basePath: join(root, `mirrors-${++counter}`),
      log: createLogger({ level: "debug", sink: { write: (line) => lines.push(line) } }),
      timeoutMs: 10_000,
      allowProtocols: "http",
    });
  }

  test("never appear in errors or logs (not found)", async () => {
    const url = `http://robot:${secret}@127.0.0.1:${server.port}/org/repo.git`;
    const git = credentialed();
    const [head] = await git.heads([{ repo: url, branch: "main" }]);
    const error = errorOf(head);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error.message).toContain(`http://127.0.0.1:${server.port}/org/repo.git`);
    const failed = await rejection(
      git.commitsSince({ repo: url, branch: "main" }, "a".repeat(40), "b".repeat(40)),
    );
    expect(failed).toBeInstanceOf(NotFoundError);
    for (const text of [error.message, failed.message, ...lines]) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain("robot:");
    }
    expect(lines.length).toBeGreaterThan(0);
    expect(readdirSync(join(root, `mirrors-${counter}`))).toEqual([]);
  });

  test("never appear in errors (connection refused is transient)", async () => {
    const port = await freePort();
    const url = `http://robot:${secret}@127.0.0.1:${port}/org/repo.git`;
    const [head] = await credentialed().heads([{ repo: url, branch: "main" }]);
    expect(errorOf(head)).toBeInstanceOf(TransientError);
    expect(errorOf(head).message).not.toContain(secret);
    expect(errorOf(head).message).toContain(`127.0.0.1:${port}`);
  });
});

describe("URL and branch rules", () => {
  test("mirror names are readable, deterministic, safe and distinct", () => {
    const name = mirrorName("https://user:pw@github.com/OpenEuler/Foo.git");
    expect(name).toMatch(/^github\.com-openeuler-foo-[0-9a-f]{12}\.git$/);
    expect(name).toBe(mirrorName("https://user:pw@github.com/OpenEuler/Foo.git"));
    expect(name).not.toBe(mirrorName("https://github.com/OpenEuler/Foo.git"));
    expect(name).not.toContain("pw");
    for (const url of ["/../../etc/passwd", "file:///..", "ssh://h/../..", "git@h:../x", "/"]) {
      const other = mirrorName(url);
      expect(other).toMatch(/^[a-z0-9][a-z0-9._-]*-[0-9a-f]{12}\.git$/);
      expect(other).not.toContain("/");
    }
  });

  test("URLs are named without credentials", () => {
    expect(displayUrl("https://u:p@x.org/r.git")).toBe("https://x.org/r.git");
    expect(displayUrl("https://u:p@ss@x.org/r.git")).toBe("https://x.org/r.git");
    expect(displayUrl("git@x.org:r.git")).toBe("git@x.org:r.git");
  });

  test("accepted and refused URLs and branches", () => {
    for (const url of ["https://x.org/r.git", "git@x.org:r.git", "/srv/r.git", "file:///srv/r"]) {
      expect(urlProblem(url)).toBeNull();
    }
    for (const url of ["", "-u", "r.git", "./r", "https://x\n.org/r", "ext::sh -c touch% /tmp/x"]) {
      expect(urlProblem(url)).not.toBeNull();
    }
    for (const branch of ["main", "feature/x-1", "release/2.0", "v1.0_rc"]) {
      expect(branchProblem(branch)).toBeNull();
    }
    for (const branch of [
      "",
      "-x",
      "a..b",
      "a b",
      "a:b",
      "a/",
      "/a",
      "a//b",
      ".a",
      "a.lock",
      "@",
      "a@{1}",
      "a~1",
    ]) {
      expect(branchProblem(branch)).not.toBeNull();
    }
  });
});
