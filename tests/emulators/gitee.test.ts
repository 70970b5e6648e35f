import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawn } from "bun";
import { tempDir } from "../helpers/temp.ts";
import { startGiteeEmulator } from "./gitee.ts";

const gitee = startGiteeEmulator();
afterAll(() => gitee.stop());
afterEach(() => gitee.clearFaults());

interface CallInit {
  json?: unknown;
  form?: Record<string, string>;
  /** Token for the Authorization header; null sends none. */
  token?: string | null;
  scheme?: "Bearer" | "token";
  /** Gives up after this many milliseconds, as a client's timeout does. */
  timeoutMs?: number;
}

function call(method: string, path: string, init: CallInit = {}): Promise<Response> {
  const headers: Record<string, string> = {};
  const token = init.token === undefined ? gitee.token : init.token;
  if (token !== null) headers.authorization = `${init.scheme ?? "Bearer"} ${token}`;
  let body: string | URLSearchParams | undefined;
  if (init.json !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(init.json);
  } else if (init.form) {
    body = new URLSearchParams(init.form);
  }
  const signal = init.timeoutMs === undefined ? undefined : AbortSignal.timeout(init.timeoutMs);
  return fetch(`${gitee.url}${path}`, { method, headers, body, signal });
}

async function json(response: Response): Promise<any> {
  expect(response.headers.get("content-type")).toBe("application/json; charset=utf-8");
  return response.json();
}

const b64 = (text: string | Uint8Array) => Buffer.from(text).toString("base64");

function gitHashObject(bytes: Uint8Array): string {
  const result = Bun.spawnSync(["git", "hash-object", "--stdin"], { stdin: bytes });
  return result.stdout.toString().trim();
}

let repoCounter = 0;
/** A fresh repository per test, so tests do not depend on each other's writes. */
function freshRepo(files: Record<string, string | Uint8Array> = {}, defaultBranch?: string) {
  const path = `src-openeuler/pkg${++repoCounter}`;
  gitee.addRepo(path, { files, defaultBranch });
  return path;
}

describe("authentication and routing", () => {
  test("accepts the token as Bearer or token header, query parameter, form or JSON field", async () => {
    const repo = freshRepo();
    gitee.resetLog();
    expect((await call("GET", "/user")).status).toBe(200);
    expect((await call("GET", "/user", { scheme: "token" })).status).toBe(200);
    const viaQuery = await call("GET", `/user?access_token=${gitee.token}`, { token: null });
    expect((await json(viaQuery)).login).toBe(gitee.login);
    const form = { refs: "master", branch_name: "a", access_token: gitee.token };
    expect((await call("POST", `/repos/${repo}/branches`, { token: null, form })).status).toBe(201);
    const body = { refs: "master", branch_name: "b", access_token: gitee.token };
    expect(
      (await call("POST", `/repos/${repo}/branches`, { token: null, json: body })).status,
    ).toBe(201);
    expect(gitee.requests.map((record) => record.tokenVia)).toEqual([
      "header",
      "header",
      "query",
      "body",
      "body",
    ]);
    // The log never holds the token.
    expect(JSON.stringify(gitee.requests)).not.toContain(gitee.token);
    expect(gitee.requests[3]?.body).toEqual({ refs: "master", branch_name: "a" });
  });

  test("a missing or wrong token gets 401 with Gitee's message", async () => {
    const expected = { message: "401 Unauthorized: Access token does not exist" };
    for (const response of [
      await call("GET", "/user", { token: null }),
      await call("GET", "/user", { token: "wrong" }),
      await call("GET", "/user?access_token=wrong", { token: null }),
      await call("POST", "/repos/a/b/branches", { token: null, form: { access_token: "x" } }),
    ]) {
      expect(response.status).toBe(401);
      expect(await json(response)).toEqual(expected);
    }
  });

  test("unknown routes, wrong methods and paths outside /api/v5 get 404 Not Found", async () => {
    const root = gitee.url.replace("/api/v5", "");
    for (const response of [
      await call("GET", "/nothing/here"),
      await call("DELETE", "/user"),
      await call("PATCH", "/repos/a/b/branches"),
      await fetch(`${root}/user`, { headers: { authorization: `Bearer ${gitee.token}` } }),
    ]) {
      expect(response.status).toBe(404);
      expect(await json(response)).toEqual({ message: "Not Found" });
    }
  });

  test("GET /user answers the bot's UserDetail", async () => {
    const user = await json(await call("GET", "/user"));
    expect(user).toMatchObject({ login: gitee.login, name: expect.any(String) });
    expect(Number.isInteger(user.id)).toBe(true);
  });
});

describe("repositories and branches", () => {
  test("GET repo answers Project; every repo-scoped endpoint answers Not Found Project", async () => {
    const repo = freshRepo({}, "main");
    const project = await json(await call("GET", `/repos/${repo}`));
    expect(project).toMatchObject({
      full_name: repo,
      default_branch: "main",
      html_url: `https://gitee.com/${repo}`,
    });
    const missing = "/repos/nobody/nothing";
    for (const [method, path, body] of [
      ["GET", missing, undefined],
      ["GET", `${missing}/branches`, undefined],
      ["GET", `${missing}/branches/master`, undefined],
      ["POST", `${missing}/branches`, { refs: "master", branch_name: "x" }],
      ["GET", `${missing}/contents/a.spec`, undefined],
      ["POST", `${missing}/contents/a.spec`, { content: b64("x"), message: "m" }],
      ["PUT", `${missing}/contents/a.spec`, { content: b64("x"), message: "m", sha: "0" }],
      ["DELETE", `${missing}/contents/a.spec?sha=0&message=m`, undefined],
      ["GET", `${missing}/issues`, undefined],
      ["GET", `${missing}/issues/I12345`, undefined],
      ["POST", "/repos/nobody/issues", { repo: "nothing", title: "t" }],
      ["GET", `${missing}/pulls`, undefined],
      ["GET", `${missing}/pulls/1`, undefined],
      ["POST", `${missing}/pulls`, { title: "t", head: "a", base: "b" }],
    ] as const) {
      const response = await call(method, path, { json: body });
      expect(`${method} ${path} ${response.status}`).toBe(`${method} ${path} 404`);
      expect(await json(response)).toEqual({ message: "Not Found Project" });
    }
  });

  test("the branch list pages with per_page (max 100) and total_count/total_page headers", async () => {
    const repo = freshRepo();
    for (let i = 1; i < 25; i++) gitee.addBranch(repo, `b${String(i).padStart(2, "0")}`);
    const page3 = await call("GET", `/repos/${repo}/branches?per_page=10&page=3`);
    expect(page3.headers.get("total_count")).toBe("25");
    expect(page3.headers.get("total_page")).toBe("3");
    expect((await json(page3)).map((branch: any) => branch.name)).toEqual([
      "b21",
      "b22",
      "b23",
      "b24",
      "master",
    ]);
    const byDefault = await call("GET", `/repos/${repo}/branches`);
    expect((await json(byDefault)).length).toBe(20);
    expect(byDefault.headers.get("total_page")).toBe("2");
    const capped = await call("GET", `/repos/${repo}/branches?per_page=500`);
    expect((await json(capped)).length).toBe(25);
    expect(capped.headers.get("total_page")).toBe("1");
  });

  test("a branch whose name has a slash is found raw and %2F-encoded; a missing one is 404", async () => {
    const repo = freshRepo();
    gitee.addBranch(repo, "patch-tracking/20240101120000000000");
    const head = gitee.repo(repo).branches.master?.sha;
    for (const name of [
      "patch-tracking/20240101120000000000",
      "patch-tracking%2F20240101120000000000",
    ]) {
      const branch = await json(await call("GET", `/repos/${repo}/branches/${name}`));
      expect(branch).toMatchObject({
        name: "patch-tracking/20240101120000000000",
        commit: { sha: head },
        protected: false,
      });
    }
    const missing = await call("GET", `/repos/${repo}/branches/patch-tracking%2Fnope`);
    expect(missing.status).toBe(404);
    expect(await json(missing)).toEqual({ message: "404 Branch Not Found" });
  });

  test("POST branches answers 201 CompleteBranch; existing, missing start and missing name fail", async () => {
    const repo = freshRepo({ "a.spec": "v1" });
    gitee.addBranch(repo, "openEuler-22.03-LTS");
    const source = gitee.setFile(repo, "openEuler-22.03-LTS", "a.spec", "v2");
    const form = { refs: "openEuler-22.03-LTS", branch_name: "patch-tracking/1" };
    const created = await call("POST", `/repos/${repo}/branches`, { form });
    expect(created.status).toBe(201);
    expect(await json(created)).toMatchObject({
      name: "patch-tracking/1",
      commit: { sha: source },
      protected: false,
    });
    const again = await call("POST", `/repos/${repo}/branches`, { form });
    expect(again.status).toBe(400);
    expect((await json(again)).message).toBe("分支名已存在");
    const badStart = await call("POST", `/repos/${repo}/branches`, {
      json: { refs: "no-such-branch", branch_name: "x" },
    });
    expect(badStart.status).toBe(404);
    expect(await json(badStart)).toEqual({ message: "404 Branch Not Found" });
    const badName = await call("POST", `/repos/${repo}/branches`, {
      json: { refs: "master", branch_name: "bad name.." },
    });
    expect(badName.status).toBe(400);
    const noName = await call("POST", `/repos/${repo}/branches`, { json: { refs: "master" } });
    expect(noName.status).toBe(400);
    expect(await json(noName)).toEqual({ messages: ["branch_name is empty"] });

    // Copy on branch: a write to the new branch leaves its source alone.
    gitee.setFile(repo, "patch-tracking/1", "a.spec", "v3");
    const state = gitee.repo(repo);
    expect(state.branches["openEuler-22.03-LTS"]?.files["a.spec"]?.text).toBe("v2");
    expect(state.branches["patch-tracking/1"]?.files["a.spec"]?.text).toBe("v3");
    expect(state.branches.master?.files["a.spec"]?.text).toBe("v1");
  });
});

describe("contents", () => {
  const spec = `${"Name: demo\nVersion: 1.0\n".repeat(20)}%changelog\n`;
  const binary = Uint8Array.from({ length: 300 }, (_, i) => (i * 7) % 256);

  test("a file answers base64 in 60-character lines and git's blob sha", async () => {
    const repo = freshRepo({ "demo.spec": spec, "bin/blob.dat": binary });
    for (const [path, bytes] of [
      ["demo.spec", new TextEncoder().encode(spec)],
      ["bin/blob.dat", binary],
    ] as const) {
      const file = await json(await call("GET", `/repos/${repo}/contents/${path}?ref=master`));
      expect(file).toMatchObject({
        type: "file",
        encoding: "base64",
        name: path.split("/").at(-1),
        path,
        size: bytes.length,
        sha: gitHashObject(bytes),
        url: `${gitee.url}/repos/${repo}/contents/${path}`,
        html_url: `https://gitee.com/${repo}/blob/master/${path}`,
        download_url: `https://gitee.com/${repo}/raw/master/${path}`,
      });
      const lines = (file.content as string).split("\n");
      expect(lines.at(-1)).toBe("");
      expect(lines.slice(0, -2).every((line) => line.length === 60)).toBe(true);
      expect(lines.length).toBeGreaterThan(3);
      expect(Buffer.from(file.content, "base64")).toEqual(Buffer.from(bytes));
    }
  });

  test("a directory answers a list; a missing path answers 200 []; a missing ref 404", async () => {
    const repo = freshRepo({ "demo.spec": spec, "patches/a.patch": "a", "patches/deep/b": "b" });
    const root = await json(await call("GET", `/repos/${repo}/contents/`));
    expect(root.map((entry: any) => [entry.name, entry.type])).toEqual([
      ["demo.spec", "file"],
      ["patches", "dir"],
    ]);
    const dir = await json(await call("GET", `/repos/${repo}/contents/patches`));
    expect(dir.map((entry: any) => [entry.path, entry.type, entry.size])).toEqual([
      ["patches/a.patch", "file", 1],
      ["patches/deep", "dir", null],
    ]);
    const missing = await call("GET", `/repos/${repo}/contents/nothing.patch?ref=master`);
    expect(missing.status).toBe(200);
    expect(await json(missing)).toEqual([]);
    const noRef = await call("GET", `/repos/${repo}/contents/demo.spec?ref=nope`);
    expect(noRef.status).toBe(404);
    expect(await json(noRef)).toEqual({ message: "404 Branch Not Found" });
    // A commit sha works as ref too.
    const head = gitee.repo(repo).branches.master?.sha;
    expect((await call("GET", `/repos/${repo}/contents/demo.spec?ref=${head}`)).status).toBe(200);
  });

  test("POST creates a file with a commit (201); existing file, no message, no branch fail", async () => {
    const repo = freshRepo({ "demo.spec": spec });
    gitee.addBranch(repo, "work");
    const before = gitee.repo(repo).branches.work?.sha;
    const patch = "From abc\nSubject: fix\n";
    const created = await call("POST", `/repos/${repo}/contents/abc.patch`, {
      json: { content: b64(patch), message: "add patch", branch: "work" },
    });
    expect(created.status).toBe(201);
    const answer = await json(created);
    const state = gitee.repo(repo).branches.work;
    expect(answer.content.sha).toBe(gitHashObject(new TextEncoder().encode(patch)));
    expect(answer.commit.sha).toBe(state?.sha);
    expect(answer.commit.sha).not.toBe(before);
    expect(state?.commits.at(-1)?.message).toBe("add patch");
    expect(state?.files["abc.patch"]?.text).toBe(patch);
    expect(gitee.repo(repo).branches.master?.files["abc.patch"]).toBeUndefined();

    const exists = await call("POST", `/repos/${repo}/contents/abc.patch`, {
      form: { content: b64("other"), message: "again", branch: "work" },
    });
    expect(exists.status).toBe(400);
    expect(await json(exists)).toEqual({ message: "文件名已存在" });
    const noMessage = await call("POST", `/repos/${repo}/contents/x.patch`, {
      form: { content: b64("x"), branch: "work" },
    });
    expect(noMessage.status).toBe(400);
    expect(await json(noMessage)).toEqual({ messages: ["message is empty"] });
    const noBranch = await call("POST", `/repos/${repo}/contents/x.patch`, {
      form: { content: b64("x"), message: "m", branch: "gone" },
    });
    expect(noBranch.status).toBe(404);
    expect(await json(noBranch)).toEqual({ message: "404 Branch Not Found" });
    // Form-encoded, without branch: the default branch.
    const viaForm = await call("POST", `/repos/${repo}/contents/dir/y.patch`, {
      form: { content: b64("y\n"), message: "m" },
    });
    expect(viaForm.status).toBe(201);
    expect(gitee.repo(repo).branches.master?.files["dir/y.patch"]?.text).toBe("y\n");
  });

  test("PUT needs the current blob sha; DELETE takes sha and message in the query", async () => {
    const repo = freshRepo({ "demo.spec": spec });
    const current = gitee.repo(repo).branches.master?.files["demo.spec"]?.sha;
    const stale = await call("PUT", `/repos/${repo}/contents/demo.spec`, {
      json: { content: b64("new"), message: "m", sha: "0".repeat(40) },
    });
    expect(stale.status).toBe(400);
    expect(await json(stale)).toEqual({ message: "Blob SHA does not match" });
    const updated = await call("PUT", `/repos/${repo}/contents/demo.spec`, {
      form: {
        content: b64("new spec\n"),
        message: "update spec",
        sha: current ?? "",
        branch: "master",
      },
    });
    expect(updated.status).toBe(200);
    const answer = await json(updated);
    expect(answer.content.sha).toBe(gitHashObject(new TextEncoder().encode("new spec\n")));
    expect(gitee.repo(repo).branches.master?.files["demo.spec"]?.text).toBe("new spec\n");
    // The old sha is stale now.
    const again = await call("PUT", `/repos/${repo}/contents/demo.spec`, {
      json: { content: b64("newer"), message: "m", sha: current },
    });
    expect(again.status).toBe(400);

    const query = `sha=${answer.content.sha}&message=remove&branch=master`;
    const removed = await call("DELETE", `/repos/${repo}/contents/demo.spec?${query}`);
    expect(removed.status).toBe(200);
    expect(await json(await call("GET", `/repos/${repo}/contents/demo.spec`))).toEqual([]);
  });
});

describe("commits with several files (POST /repos/{owner}/{repo}/commits)", () => {
  const commitPath = (repo: string) => `/repos/${repo}/commits`;

  test("start_branch makes the branch and every action lands in one commit (201)", async () => {
    const repo = freshRepo({ "demo.spec": "v1\n", "old.patch": "old\n" });
    const before = gitee.repo(repo).branches.master!;
    const response = await call("POST", commitPath(repo), {
      json: {
        branch: "patch-tracking/1",
        start_branch: "master",
        message: "add two patches, update spec",
        actions: [
          { action: "create", path: "a.patch", content: b64("A\n"), encoding: "base64" },
          { action: "create", path: "b.patch", content: "B\n" },
          { action: "update", path: "demo.spec", content: b64("v2\n"), encoding: "base64" },
          { action: "delete", path: "old.patch" },
        ],
      },
    });
    expect(response.status).toBe(201);
    const answer = await json(response);
    const state = gitee.repo(repo);
    const work = state.branches["patch-tracking/1"]!;
    expect(answer.sha).toBe(work.sha);
    expect(answer.commit.message).toBe("add two patches, update spec");
    expect(answer.parents).toEqual([expect.objectContaining({ sha: before.sha })]);
    expect(answer.files.map((file: any) => [file.filename, file.status])).toEqual([
      ["a.patch", "added"],
      ["b.patch", "added"],
      ["demo.spec", "modified"],
      ["old.patch", "removed"],
    ]);
    // One commit on top of the start point; the text encoding is the default.
    expect(work.commits).toHaveLength(before.commits.length + 1);
    expect(Object.keys(work.files).sort()).toEqual(["a.patch", "b.patch", "demo.spec"]);
    expect(work.files["b.patch"]!.text).toBe("B\n");
    expect(work.files["demo.spec"]!.text).toBe("v2\n");
    expect(state.branches.master!.files["demo.spec"]!.text).toBe("v1\n");
  });

  test("all or nothing: one refused action leaves the branch (and its creation) undone", async () => {
    const repo = freshRepo({ "demo.spec": "v1\n" });
    const refused: [string, unknown[], string][] = [
      [
        "create over an existing file",
        [{ action: "create", path: "demo.spec", content: "x" }],
        "文件名已存在: demo.spec",
      ],
      [
        "update of a missing file",
        [{ action: "update", path: "none.spec", content: "x" }],
        "文件不存在: none.spec",
      ],
      [
        "delete of a missing file",
        [{ action: "delete", path: "none.spec" }],
        "文件不存在: none.spec",
      ],
      [
        "move from a missing file",
        [{ action: "move", path: "b", previous_path: "none" }],
        "文件不存在: none",
      ],
      [
        "bad base64",
        [{ action: "create", path: "c", content: "%%", encoding: "base64" }],
        "actions[1].content is not valid base64",
      ],
      [
        "an unknown action",
        [{ action: "rename", path: "c" }],
        "actions[1].action is not valid: rename",
      ],
      [
        "last_commit_id, not emulated",
        [{ action: "update", path: "demo.spec", content: "x", last_commit_id: "abc" }],
        "last_commit_id is not emulated",
      ],
    ];
    for (const [why, failing, message] of refused) {
      const response = await call("POST", commitPath(repo), {
        json: {
          branch: "patch-tracking/2",
          start_branch: "master",
          message: why,
          actions: [{ action: "create", path: "first.patch", content: "1" }, ...failing],
        },
      });
      expect([why, response.status]).toEqual([why, 400]);
      expect((await json(response)).message).toBe(message);
    }
    const state = gitee.repo(repo);
    expect(Object.keys(state.branches)).toEqual(["master"]);
    expect(state.branches.master!.commits).toHaveLength(1);
  });

  test("the same commit sent twice lands once: the branch or the created files exist by then", async () => {
    const repo = freshRepo({ "demo.spec": "v1\n" });
    const body = {
      branch: "patch-tracking/3",
      start_branch: "master",
      message: "m",
      actions: [{ action: "create", path: "a.patch", content: "A" }],
    };
    expect((await call("POST", commitPath(repo), { json: body })).status).toBe(201);
    const again = await call("POST", commitPath(repo), { json: body });
    expect(again.status).toBe(400);
    expect(await json(again)).toEqual({ message: "分支名已存在" });
    // Onto the existing branch (no start_branch), a create of an existing file is refused too.
    const onto = await call("POST", commitPath(repo), {
      json: { ...body, start_branch: undefined },
    });
    expect(onto.status).toBe(400);
    expect(gitee.repo(repo).branches["patch-tracking/3"]!.commits).toHaveLength(2);
  });

  test("a missing branch, start point, field or repository is refused", async () => {
    const repo = freshRepo({ "demo.spec": "v1\n" });
    const actions = [{ action: "create", path: "a.patch", content: "A" }];
    const noBranch = await call("POST", commitPath(repo), {
      json: { branch: "gone", message: "m", actions },
    });
    expect(noBranch.status).toBe(404);
    expect(await json(noBranch)).toEqual({ message: "404 Branch Not Found" });
    const noStart = await call("POST", commitPath(repo), {
      json: { branch: "new", start_branch: "gone", message: "m", actions },
    });
    expect(noStart.status).toBe(404);
    const badName = await call("POST", commitPath(repo), {
      json: { branch: "bad name..", start_branch: "master", message: "m", actions },
    });
    expect(badName.status).toBe(400);
    const empty = await call("POST", commitPath(repo), { json: { branch: "master", actions: [] } });
    expect(empty.status).toBe(400);
    expect(await json(empty)).toEqual({ messages: ["message is empty", "actions is empty"] });
    const noRepo = await call("POST", commitPath("src-openeuler/none"), {
      json: { branch: "master", message: "m", actions },
    });
    expect(noRepo.status).toBe(404);
    expect(await json(noRepo)).toEqual({ message: "Not Found Project" });
  });

  test("GitCode mode has no such route (whether api.gitcode.com has it is unknown)", async () => {
    const gitcode = startGiteeEmulator({ flavor: "gitcode" });
    try {
      gitcode.addRepo("src-openeuler/gc", { files: { "gc.spec": "v1\n" } });
      const response = await fetch(`${gitcode.url}/repos/src-openeuler/gc/commits`, {
        method: "POST",
        headers: { "private-token": gitcode.token, "content-type": "application/json" },
        body: JSON.stringify({
          branch: "master",
          message: "m",
          actions: [{ action: "create", path: "a.patch", content: "A" }],
        }),
      });
      expect(response.status).toBe(404);
      expect(gitcode.repo("src-openeuler/gc").branches.master!.files["a.patch"]).toBeUndefined();
    } finally {
      await gitcode.stop();
    }
  });
});

describe("issues", () => {
  test("POST /repos/{owner}/issues answers 201 with a string number; title is required", async () => {
    const repo = freshRepo();
    const [owner, name] = repo.split("/");
    const created = await call("POST", `/repos/${owner}/issues`, {
      form: { repo: name ?? "", title: "[patch tracking] master 20240101", body: "| Commit |" },
    });
    expect(created.status).toBe(201);
    const issue = await json(created);
    expect(issue.number).toMatch(/^I[A-Z0-9]{5}$/);
    expect(Number.isInteger(issue.id)).toBe(true);
    expect(issue).toMatchObject({
      html_url: `https://gitee.com/${repo}/issues/${issue.number}`,
      state: "open",
      title: "[patch tracking] master 20240101",
      body: "| Commit |",
      user: { login: gitee.login },
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$/),
    });
    const one = await json(await call("GET", `/repos/${repo}/issues/${issue.number}`));
    expect(one.id).toBe(issue.id);
    expect((await call("GET", `/repos/${repo}/issues/${issue.number.toLowerCase()}`)).status).toBe(
      404,
    );
    // multipart/form-data, which the 5.3.2 spec also declares.
    const multipart = new FormData();
    multipart.set("repo", repo);
    multipart.set("title", "via multipart");
    const viaMultipart = await fetch(`${gitee.url}/repos/${owner}/issues`, {
      method: "POST",
      headers: { authorization: `token ${gitee.token}` },
      body: multipart,
    });
    expect(viaMultipart.status).toBe(201);
    expect((await json(viaMultipart)).title).toBe("via multipart");
    const noTitle = await call("POST", `/repos/${owner}/issues`, { json: { repo: name } });
    expect(noTitle.status).toBe(400);
    expect(await json(noTitle)).toEqual({ messages: ["title is empty"] });
  });

  test("the list filters by state (default open) and creator, sorts, and pages", async () => {
    const repo = freshRepo();
    const [owner, name] = repo.split("/");
    const numbers: string[] = [];
    for (let i = 0; i < 3; i++) {
      const response = await call("POST", `/repos/${owner}/issues`, {
        json: { repo: name, title: `mine ${i}` },
      });
      numbers.push((await json(response)).number);
    }
    gitee.setIssueState(repo, numbers[0] ?? "", "closed");
    gitee.addIssue(repo, { title: "theirs", creator: "someone-else" });
    const titles = async (query: string) =>
      (await json(await call("GET", `/repos/${repo}/issues?${query}`))).map((i: any) => i.title);
    expect(await titles("")).toEqual(["theirs", "mine 2", "mine 1"]);
    expect(await titles(`state=all&creator=${gitee.login}`)).toEqual([
      "mine 2",
      "mine 1",
      "mine 0",
    ]);
    expect(await titles("state=all&direction=asc&sort=created")).toEqual([
      "mine 0",
      "mine 1",
      "mine 2",
      "theirs",
    ]);
    expect(await titles("state=closed")).toEqual(["mine 0"]);
    const page = await call("GET", `/repos/${repo}/issues?state=all&per_page=3&page=2`);
    expect(page.headers.get("total_count")).toBe("4");
    expect(page.headers.get("total_page")).toBe("2");
    expect((await json(page)).length).toBe(1);
  });
});

describe("pull requests", () => {
  test("POST answers 201 with an integer number; duplicates and missing branches fail", async () => {
    const repo = freshRepo({ "a.spec": "x" });
    gitee.addBranch(repo, "patch-tracking/1");
    const head = gitee.setFile(repo, "patch-tracking/1", "p.patch", "p");
    const form = {
      title: "[patch tracking] 1",
      head: "patch-tracking/1",
      base: "master",
      body: "#I6D3AV",
      prune_source_branch: "true",
    };
    const created = await call("POST", `/repos/${repo}/pulls`, { form });
    expect(created.status).toBe(201);
    const pull = await json(created);
    expect(pull).toMatchObject({
      number: 1,
      html_url: `https://gitee.com/${repo}/pulls/1`,
      state: "open",
      title: "[patch tracking] 1",
      body: "#I6D3AV",
      head: { ref: "patch-tracking/1", sha: head },
      base: { ref: "master" },
    });
    expect(gitee.repo(repo).pulls[0]?.pruneSourceBranch).toBe(true);

    const duplicate = await call("POST", `/repos/${repo}/pulls`, { form });
    expect(duplicate.status).toBe(400);
    expect(typeof (await json(duplicate)).message).toBe("string");
    const noHead = await call("POST", `/repos/${repo}/pulls`, {
      json: { title: "t", head: "gone", base: "master" },
    });
    expect(noHead.status).toBe(400);
    expect((await json(noHead)).message).toContain("gone");
    const noBase = await call("POST", `/repos/${repo}/pulls`, {
      json: { title: "t", head: "patch-tracking/1", base: "gone" },
    });
    expect(noBase.status).toBe(400);
    const incomplete = await call("POST", `/repos/${repo}/pulls`, { json: { title: "t" } });
    expect(await json(incomplete)).toEqual({ messages: ["head is empty", "base is empty"] });
    expect((await json(await call("GET", `/repos/${repo}/pulls/1`))).number).toBe(1);
    expect((await call("GET", `/repos/${repo}/pulls/2`)).status).toBe(404);
  });

  test("the list filters by state, head (with or without owner:) and base, and pages", async () => {
    const repo = freshRepo();
    const [owner] = repo.split("/");
    for (const branch of ["w1", "w2", "w3"]) {
      gitee.addBranch(repo, branch);
      const json = { title: branch, head: branch, base: "master", prune_source_branch: true };
      expect((await call("POST", `/repos/${repo}/pulls`, { json })).status).toBe(201);
    }
    gitee.setPullState(repo, 1, "merged");
    gitee.setPullState(repo, 2, "closed");
    const numbers = async (query: string) =>
      (await json(await call("GET", `/repos/${repo}/pulls?${query}`))).map((p: any) => p.number);
    expect(await numbers("")).toEqual([3]);
    expect(await numbers("state=merged")).toEqual([1]);
    expect(await numbers("state=closed")).toEqual([2]);
    expect(await numbers("state=all")).toEqual([3, 2, 1]);
    expect(await numbers("state=all&head=w2")).toEqual([2]);
    expect(await numbers(`state=all&head=${owner}:w1&base=master`)).toEqual([1]);
    expect(await numbers("state=all&base=other")).toEqual([]);
    const page = await call("GET", `/repos/${repo}/pulls?state=all&per_page=2`);
    expect(page.headers.get("total_count")).toBe("3");
    expect(page.headers.get("total_page")).toBe("2");
  });
});

describe("editing proposals (forge-apis §10.1)", () => {
  test("PATCH /repos/{owner}/issues/{number} edits body, title and state; repo goes in the body", async () => {
    const repo = freshRepo();
    const [owner, name] = repo.split("/");
    const issue = gitee.addIssue(repo, { title: "[patch tracking] master 1", body: "old" });
    const edited = await call("PATCH", `/repos/${owner}/issues/${issue.number}`, {
      form: { repo: name!, body: "| Commit | Datetime | Message |" },
    });
    expect(edited.status).toBe(200);
    expect(await json(edited)).toMatchObject({
      number: issue.number,
      title: "[patch tracking] master 1",
      body: "| Commit | Datetime | Message |",
      state: "open",
    });
    const closed = await call("PATCH", `/repos/${owner}/issues/${issue.number}`, {
      json: { repo: name, state: "closed" },
    });
    expect((await json(closed)).state).toBe("closed");
    // No repo: 400 with Gitee's validation shape; an unknown number: 404; a bad state: 400.
    const noRepo = await call("PATCH", `/repos/${owner}/issues/${issue.number}`, {
      json: { body: "x" },
    });
    expect(noRepo.status).toBe(400);
    expect(await json(noRepo)).toEqual({ messages: ["repo is empty"] });
    const missing = await call("PATCH", `/repos/${owner}/issues/IZZZZZ`, { json: { repo: name } });
    expect(missing.status).toBe(404);
    const badState = await call("PATCH", `/repos/${owner}/issues/${issue.number}`, {
      json: { repo: name, state: "done" },
    });
    expect(badState.status).toBe(400);
    // The repository-level path has no PATCH on Gitee.
    const repoLevel = await call("PATCH", `/repos/${repo}/issues/${issue.number}`, {
      json: { body: "x" },
    });
    expect(repoLevel.status).toBe(404);
    expect(gitee.repo(repo).issues[0]?.body).toBe("| Commit | Datetime | Message |");
  });

  test("a pull request's state: open, closed by PATCH, merged (then it cannot change)", async () => {
    const repo = freshRepo({ "a.spec": "Release: 1\n" });
    gitee.addBranch(repo, "patch-tracking/2");
    gitee.setFile(repo, "patch-tracking/2", "a.spec", "Release: 2\n");
    await call("POST", `/repos/${repo}/pulls`, {
      json: { title: "t", head: "patch-tracking/2", base: "master" },
    });
    const open = await json(await call("GET", `/repos/${repo}/pulls/1`));
    expect(open).toMatchObject({ state: "open", merged_at: null, closed_at: null });
    const closed = await call("PATCH", `/repos/${repo}/pulls/1`, { json: { state: "closed" } });
    expect(closed.status).toBe(200);
    expect(await json(closed)).toMatchObject({ state: "closed", merged_at: null });
    expect((await call("PATCH", `/repos/${repo}/pulls/1`, { json: { state: "x" } })).status).toBe(
      400,
    );
    expect(
      (await call("PATCH", `/repos/${repo}/pulls/9`, { json: { state: "closed" } })).status,
    ).toBe(404);
    // Re-opened and merged by a maintainer: the base takes the head's files.
    await call("PATCH", `/repos/${repo}/pulls/1`, { json: { state: "open" } });
    gitee.mergePull(repo, 1);
    const merged = await json(await call("GET", `/repos/${repo}/pulls/1`));
    expect(merged.state).toBe("merged");
    expect(typeof merged.merged_at).toBe("string");
    expect(gitee.repo(repo).branches.master?.files["a.spec"]?.text).toBe("Release: 2\n");
    const refused = await call("PATCH", `/repos/${repo}/pulls/1`, { json: { state: "closed" } });
    expect(refused.status).toBe(400);
    expect(gitee.repo(repo).pulls[0]?.state).toBe("merged");
  });

  test("comments on pull requests and issues: POST 201, GET lists them; body required", async () => {
    const repo = freshRepo();
    gitee.addBranch(repo, "patch-tracking/3");
    gitee.setFile(repo, "patch-tracking/3", "p.patch", "p");
    await call("POST", `/repos/${repo}/pulls`, {
      json: { title: "t", head: "patch-tracking/3", base: "master" },
    });
    const posted = await call("POST", `/repos/${repo}/pulls/1/comments`, {
      json: { body: "[patch tracking] added abc1234..def5678" },
    });
    expect(posted.status).toBe(201);
    expect(await json(posted)).toMatchObject({
      id: expect.any(Number),
      body: "[patch tracking] added abc1234..def5678",
      user: { login: gitee.login },
    });
    const listed = await json(await call("GET", `/repos/${repo}/pulls/1/comments`));
    expect(listed.map((comment: { body: string }) => comment.body)).toEqual([
      "[patch tracking] added abc1234..def5678",
    ]);
    const empty = await call("POST", `/repos/${repo}/pulls/1/comments`, { json: {} });
    expect(empty.status).toBe(400);
    expect(await json(empty)).toEqual({ messages: ["body is empty"] });
    expect(
      (await call("POST", `/repos/${repo}/pulls/7/comments`, { json: { body: "x" } })).status,
    ).toBe(404);
    const issue = gitee.addIssue(repo, { title: "i" });
    const onIssue = await call("POST", `/repos/${repo}/issues/${issue.number}/comments`, {
      form: { body: "noted" },
    });
    expect(onIssue.status).toBe(201);
    expect((await json(await call("GET", `/repos/${repo}/issues/${issue.number}`))).comments).toBe(
      1,
    );
    expect(gitee.repo(repo).issues[0]?.comments.map((comment) => comment.body)).toEqual(["noted"]);
  });
});

describe("faults", () => {
  test("status faults answer without acting, for the matching method and times only", async () => {
    const repo = freshRepo();
    gitee.fault({ method: "POST", path: "/branches", times: 1 }, { status: 502 });
    const form = { refs: "master", branch_name: "x" };
    expect((await call("GET", `/repos/${repo}/branches`)).status).toBe(200);
    const failed = await call("POST", `/repos/${repo}/branches`, { form });
    expect(failed.status).toBe(502);
    expect(failed.headers.get("content-type")).toBe("text/html");
    expect(await failed.text()).toContain("502 Bad Gateway");
    expect(gitee.repo(repo).branches.x).toBeUndefined();
    expect((await call("POST", `/repos/${repo}/branches`, { form })).status).toBe(201);

    gitee.fault({ path: /^\/user$/ }, { status: 500 });
    const internal = await call("GET", "/user");
    expect(internal.status).toBe(500);
    expect((await json(internal)).message).toContain("500");
    expect(gitee.requests.at(-1)).toMatchObject({ status: 500, fault: "status:500" });
  });

  test("rateLimit answers 429 with Retry-After; html403 answers nginx's HTML page", async () => {
    gitee.fault({ path: "/user", times: 1 }, { rateLimit: { retryAfterSeconds: 7 } });
    const limited = await call("GET", "/user");
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("7");
    gitee.fault({ path: "/user", times: 1 }, { html403: true });
    const forbidden = await call("GET", "/user");
    expect(forbidden.status).toBe(403);
    expect(forbidden.headers.get("content-type")).toBe("text/html");
    const page = await forbidden.text();
    expect(page).toContain("<center><h1>403 Forbidden</h1></center>");
    expect(page).toContain("nginx");
    expect((await call("GET", "/user")).status).toBe(200);
  });

  test("delayMs answers late but normally", async () => {
    gitee.fault({ path: "/user", times: 1 }, { delayMs: 150 });
    const started = performance.now();
    expect((await call("GET", "/user")).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });

  test("landsLate: the client times out with nothing written, the write lands afterMs later", async () => {
    const repo = freshRepo();
    const [owner, name] = repo.split("/");
    gitee.fault({ method: "POST", path: "/issues", times: 1 }, { landsLate: { afterMs: 400 } });
    gitee.resetLog();
    const sent = performance.now();
    const attempt = call("POST", `/repos/${owner}/issues`, {
      json: { repo: name, title: "late" },
      timeoutMs: 100,
    });
    await expect(attempt).rejects.toThrow();
    // What a client re-checking at once sees: nothing yet.
    const listed = await call("GET", `/repos/${repo}/issues?state=all`);
    expect(await json(listed)).toEqual([]);
    expect(gitee.inFlight()).toBe(1);
    while (gitee.inFlight() > 0) await Bun.sleep(20);
    expect(performance.now() - sent).toBeGreaterThanOrEqual(390);
    expect(gitee.repo(repo).issues.map((issue) => issue.title)).toEqual(["late"]);
    expect(gitee.requests.find((record) => record.method === "POST")).toMatchObject({
      fault: "landsLate",
      status: 201,
    });
  });

  test("drop closes the connection: fetch fails and nothing is written", async () => {
    const repo = freshRepo();
    const [owner, name] = repo.split("/");
    gitee.fault({ method: "POST", path: "/issues", times: 1 }, { drop: true });
    gitee.resetLog();
    const attempt = call("POST", `/repos/${owner}/issues`, { json: { repo: name, title: "t" } });
    await expect(attempt).rejects.toThrow();
    expect(gitee.repo(repo).issues).toEqual([]);
    expect(gitee.requests[0]).toMatchObject({ status: 0, fault: "drop" });
  });

  test("afterWrite {status} performs the write, then answers 500", async () => {
    const repo = freshRepo();
    gitee.fault({ method: "POST", path: "/contents/", times: 1 }, { afterWrite: { status: 500 } });
    gitee.resetLog();
    const response = await call("POST", `/repos/${repo}/contents/a.patch`, {
      json: { content: b64("patch\n"), message: "m", branch: "master" },
    });
    expect(response.status).toBe(500);
    expect(gitee.repo(repo).branches.master?.files["a.patch"]?.text).toBe("patch\n");
    expect(gitee.requests[0]).toMatchObject({
      status: 500,
      handledStatus: 201,
      fault: "afterWrite",
    });
    // The client's retry now meets the file it could not know it had written.
    const retry = await call("POST", `/repos/${repo}/contents/a.patch`, {
      json: { content: b64("patch\n"), message: "m", branch: "master" },
    });
    expect(retry.status).toBe(400);
  });

  test("afterWrite {drop} performs the write, then drops the connection", async () => {
    const repo = freshRepo();
    gitee.addBranch(repo, "w");
    gitee.fault({ method: "POST", path: "/pulls" }, { afterWrite: { drop: true } });
    const attempt = call("POST", `/repos/${repo}/pulls`, {
      json: { title: "t", head: "w", base: "master" },
    });
    await expect(attempt).rejects.toThrow();
    expect(gitee.repo(repo).pulls.map((pull) => pull.number)).toEqual([1]);
    expect(gitee.requests.at(-1)).toMatchObject({
      status: 0,
      handledStatus: 201,
      fault: "afterWrite:drop",
    });
  });
});

describe("request log", () => {
  test("writes() lists non-GET requests; expectRequests catches unexpected and missing calls", async () => {
    const repo = freshRepo();
    gitee.resetLog();
    await call("GET", `/repos/${repo}/branches/master`);
    await call("POST", `/repos/${repo}/branches`, { form: { refs: "master", branch_name: "w" } });
    await call("GET", `/repos/${repo}/contents/a.spec?ref=w`);
    expect(gitee.writes().map((record) => `${record.method} ${record.path}`)).toEqual([
      `POST /repos/${repo}/branches`,
    ]);
    expect(gitee.requests[2]?.query).toEqual({ ref: "w" });

    const expected: Array<[string, string | RegExp]> = [
      ["GET", `/repos/${repo}/branches/*`],
      ["POST", `/repos/${repo}/branches`],
      ["GET", /\/contents\/a\.spec$/],
    ];
    gitee.expectRequests(expected);
    gitee.expectRequests([["post", "*/branches"]], { writesOnly: true });
    gitee.expectRequests([expected[2]!, expected[0]!, expected[1]!], { ordered: false });
    expect(() => gitee.expectRequests([expected[2]!, expected[0]!, expected[1]!])).toThrow();

    await call("POST", `/repos/${repo}/branches`, { form: { refs: "master", branch_name: "w2" } });
    expect(() => gitee.expectRequests(expected)).toThrow(
      `unexpected: POST /repos/${repo}/branches → 201`,
    );
    expect(() => gitee.expectRequests([...expected, ["POST", "*"], ["PUT", "*"]])).toThrow(
      "missing:    PUT *",
    );
    gitee.resetLog();
    gitee.expectRequests([]);
  });
});

describe("standalone", () => {
  test("runs from the command line with fixture repositories until SIGTERM", async () => {
    const dir = tempDir("gitee-emu-");
    mkdirSync(join(dir, "sub"));
    writeFileSync(join(dir, "demo.spec"), "Name: demo\n");
    writeFileSync(join(dir, "sub", "x.patch"), "x\n");
    const proc = spawn(
      [
        process.execPath,
        join(import.meta.dir, "gitee.ts"),
        "--port",
        "0",
        "--token",
        "cli-token",
        "--repo",
        `src-openeuler/demo=${dir}`,
        "--branch",
        "src-openeuler/demo:openEuler-22.03-LTS",
      ],
      { stdout: "pipe", stderr: "pipe" },
    );
    try {
      const reader = proc.stdout.getReader();
      const { value } = await reader.read();
      const line = new TextDecoder().decode(value);
      const match = /^gitee emulator listening on (\S+\/api\/v5) token cli-token$/m.exec(line);
      expect(match).not.toBeNull();
      const headers = { authorization: "token cli-token" };
      const base = `${match?.[1]}/repos/src-openeuler/demo`;
      const file = await fetch(`${base}/contents/sub/x.patch?ref=openEuler-22.03-LTS`, { headers });
      expect(Buffer.from((await json(file)).content, "base64").toString()).toBe("x\n");
      reader.releaseLock();
      // The read-only view for the demo, outside the API.
      const view = await fetch(
        `${match?.[1]?.replace("/api/v5", "")}/_emulator/repos/src-openeuler/demo`,
      );
      expect((await json(view)).branches.map((branch: any) => branch.name)).toEqual([
        "master",
        "openEuler-22.03-LTS",
      ]);
    } finally {
      proc.kill("SIGTERM");
    }
    expect(await proc.exited).toBe(0);
  });
});
