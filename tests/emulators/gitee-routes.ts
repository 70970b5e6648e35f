/**
 * The endpoints of the Gitee emulator (forge-apis.md §0, §1.6–§1.10): routing on the decoded
 * path segments below `/api/v5`, and one handler per endpoint answering with Gitee's status
 * codes and error bodies. Handlers are synchronous, so every write is atomic.
 *
 * Where the real wording or status is unknown (forge-apis.md §8), the choice is marked
 * "Assumption" and kept plausible; clients must not depend on such texts anyway.
 */
import {
  branchItem,
  commentJson,
  commitJson,
  completeBranch,
  directoryEntry,
  fileBasic,
  fileJson,
  issueJson,
  projectJson,
  pullJson,
  type Site,
  userDetail,
} from "./gitee-shapes.ts";
import {
  blobSha,
  branchFrom,
  type CommentRecord,
  commit,
  findRepo,
  headSha,
  type IssueRecord,
  listDirectory,
  newIssueNumber,
  type PullRecord,
  type RepoState,
  resolveRef,
  type Store,
  takeId,
} from "./gitee-store.ts";

export interface Reply {
  status: number;
  /** Serialised as JSON unless `html` is set. */
  json?: unknown;
  html?: string;
  headers?: Record<string, string>;
}

export interface ApiRequest {
  method: string;
  /** Percent-decoded path segments below the API base. */
  segments: string[];
  query: URLSearchParams;
  /** Parsed JSON or form body (`{}` when none). */
  body: Record<string, unknown>;
}

export interface World {
  site: Site;
  store: Store;
  /** Which forge is imitated where they differ (see gitee.ts). */
  flavor: "gitee" | "gitcode";
  /** The answer to a read of a missing file, or null for Gitee's 200 []. */
  missingFile: { status: number; json: unknown } | null;
}

export type Handler = (world: World, request: ApiRequest) => Reply;

const NOT_FOUND_PROJECT: Reply = { status: 404, json: { message: "Not Found Project" } };
const BRANCH_NOT_FOUND: Reply = { status: 404, json: { message: "404 Branch Not Found" } };

export function reply(status: number, json: unknown, headers?: Record<string, string>): Reply {
  return headers ? { status, json, headers } : { status, json };
}

/** Gitee's validation errors carry a `messages` array (forge-apis.md §1.3). */
function missing(...fields: string[]): Reply {
  return reply(400, { messages: fields.map((field) => `${field} is empty`) });
}

/** A body or query value as text; booleans and numbers from JSON bodies are stringified. */
function text(source: Record<string, unknown> | URLSearchParams, key: string): string | undefined {
  const value = source instanceof URLSearchParams ? source.get(key) : source[key];
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return undefined;
}

/** Present and not blank. */
function given(value: string | undefined): value is string {
  return value !== undefined && value.trim() !== "";
}

/** A boolean from JSON (`true`) or a form body (`"true"`). */
function flag(value: unknown): boolean {
  return value === true || value === "true" || value === "1" || value === 1;
}

/** `page` and `per_page` (default 20, at most 100) with the `total_count`/`total_page` headers. */
function paginate<T>(items: T[], query: URLSearchParams, map: (item: T) => unknown): Reply {
  const page = Math.max(1, Number.parseInt(query.get("page") ?? "", 10) || 1);
  const asked = Number.parseInt(query.get("per_page") ?? "", 10) || 20;
  const perPage = Math.min(100, Math.max(1, asked));
  const slice = items.slice((page - 1) * perPage, page * perPage);
  return reply(200, slice.map(map), {
    total_count: String(items.length),
    total_page: String(Math.ceil(items.length / perPage)),
  });
}

function ordered<T extends { createdAt: number; updatedAt: number; id: number }>(
  items: T[],
  query: URLSearchParams,
): T[] {
  const key = query.get("sort") === "updated" ? "updatedAt" : "createdAt";
  const sign = query.get("direction") === "asc" ? 1 : -1;
  return [...items].sort((a, b) => sign * (a[key] - b[key] || a.id - b.id));
}

/** Strips the `owner:` prefix Gitee allows on `head` (forks are not emulated). */
function refName(value: string): string {
  return value.replace(/^[^:/]+:/, "");
}

/** git's ref-name rules, reduced to what a client could plausibly get wrong. */
function validBranchName(name: string): boolean {
  if (/[\s~^:?*[\\]/.test(name)) return false;
  if ([...name].some((char) => char.charCodeAt(0) < 0x20 || char.charCodeAt(0) === 0x7f)) {
    return false;
  }
  if (name.includes("..") || name.includes("@{") || name.includes("//")) return false;
  if (/^[-/.]|[/.]$|\.lock$/.test(name)) return false;
  return !name.split("/").some((part) => part.startsWith("."));
}

function withRepo(
  world: World,
  owner: string | undefined,
  name: string | undefined,
  then: (repo: RepoState) => Reply,
): Reply {
  const repo = owner && name ? findRepo(world.store, owner, name) : undefined;
  return repo ? then(repo) : NOT_FOUND_PROJECT;
}

function getUser(world: World): Reply {
  return reply(200, userDetail(world.site));
}

function getRepo(world: World, request: ApiRequest): Reply {
  const [, owner, name] = request.segments;
  return withRepo(world, owner, name, (repo) => reply(200, projectJson(world.site, repo)));
}

function listBranches(world: World, request: ApiRequest): Reply {
  const [, owner, name] = request.segments;
  return withRepo(world, owner, name, (repo) => {
    const branches = [...repo.branches.values()].sort((a, b) => a.name.localeCompare(b.name));
    return paginate(branches, request.query, (branch) => branchItem(world.site, repo, branch));
  });
}

function getBranch(world: World, request: ApiRequest): Reply {
  const [, owner, name, , ...rest] = request.segments;
  return withRepo(world, owner, name, (repo) => {
    // Raw slashes split the name into several segments, `%2F` keeps it in one: both work.
    const branch = repo.branches.get(rest.join("/"));
    if (!branch) return BRANCH_NOT_FOUND;
    return reply(200, completeBranch(world.site, repo, branch));
  });
}

function createBranch(world: World, request: ApiRequest): Reply {
  const [, owner, name] = request.segments;
  return withRepo(world, owner, name, (repo) => {
    const newName = text(request.body, "branch_name");
    if (!given(newName)) return missing("branch_name");
    // The spec defaults `refs` to master.
    const from = resolveRef(repo, text(request.body, "refs") || "master");
    // Assumption: an unknown start point answers like other missing branches.
    if (!from) return BRANCH_NOT_FOUND;
    // Assumption: the wording of both refusals below is not documented (forge-apis.md §8).
    if (repo.branches.has(newName)) return reply(400, { message: "分支名已存在" });
    if (!validBranchName(newName)) return reply(400, { message: "分支名不合法" });
    const branch = branchFrom(repo, newName, from);
    return reply(201, completeBranch(world.site, repo, branch));
  });
}

function contentPath(request: ApiRequest): string {
  return request.segments
    .slice(4)
    .join("/")
    .replace(/^\/+|\/+$/g, "");
}

function getContents(world: World, request: ApiRequest): Reply {
  const [, owner, name] = request.segments;
  return withRepo(world, owner, name, (repo) => {
    const branch = resolveRef(repo, request.query.get("ref") || repo.defaultBranch);
    if (!branch) return BRANCH_NOT_FOUND;
    const path = contentPath(request);
    const bytes = branch.files.get(path);
    if (bytes) return reply(200, fileJson(world.site, repo, branch, path, bytes));
    const children = listDirectory(branch.files, path);
    // A missing path is not an error on gitee.com: it answers 200 with an empty list. Compatible
    // forges (and GitCode) answer 404 instead.
    if (children.size === 0 && world.missingFile) {
      return reply(world.missingFile.status, world.missingFile.json);
    }
    return reply(
      200,
      [...children].map(([child, kind]) =>
        directoryEntry(world.site, repo, branch, path ? `${path}/${child}` : child, kind),
      ),
    );
  });
}

/** `git/blobs/{sha}`: a blob of any branch, by its git blob sha (404 when no branch has it). */
function getBlob(world: World, request: ApiRequest): Reply {
  const [, owner, name, , , sha] = request.segments;
  return withRepo(world, owner, name, (repo) => {
    for (const branch of repo.branches.values()) {
      for (const bytes of branch.files.values()) {
        if (blobSha(bytes) !== sha) continue;
        return reply(200, {
          sha,
          size: String(bytes.length),
          url: `${world.site.api}/repos/${repo.owner}/${repo.name}/git/blobs/${sha}`,
          content: Buffer.from(bytes).toString("base64"),
          encoding: "base64",
        });
      }
    }
    return { status: 404, json: { message: "Not Found" } };
  });
}

/** Decodes a base64 body field strictly, so a client that forgot to encode is caught. */
function decodeBase64(value: string): Uint8Array | null {
  const compact = value.replace(/\s+/g, "");
  if (compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) return null;
  return new Uint8Array(Buffer.from(compact, "base64"));
}

/** Shared checks of the three contents writes; returns the target or the refusal. */
function writeTarget(
  world: World,
  request: ApiRequest,
  source: Record<string, unknown> | URLSearchParams,
  required: string[],
): Reply | { repo: RepoState; path: string; branchName: string; message: string } {
  const [, owner, name] = request.segments;
  const repo = owner && name ? findRepo(world.store, owner, name) : undefined;
  if (!repo) return NOT_FOUND_PROJECT;
  const absent = required.filter((field) => !given(text(source, field)));
  if (absent.length > 0) return missing(...absent);
  const path = contentPath(request);
  if (path === "") return missing("path");
  return {
    repo,
    path,
    branchName: text(source, "branch") || repo.defaultBranch,
    message: text(source, "message") ?? "",
  };
}

function createFile(world: World, request: ApiRequest): Reply {
  const target = writeTarget(world, request, request.body, ["content", "message"]);
  if ("status" in target) return target;
  const { repo, path, message } = target;
  const bytes = decodeBase64(text(request.body, "content") ?? "");
  // Assumption: Gitee's answer to malformed base64 is unknown.
  if (!bytes) return reply(400, { message: "content is not valid base64" });
  const branch = repo.branches.get(target.branchName);
  if (!branch) return BRANCH_NOT_FOUND;
  if (branch.files.has(path) || listDirectory(branch.files, path).size > 0) {
    return reply(400, { message: "文件名已存在" });
  }
  const record = commit(world.store, branch, message, (files) => files.set(path, bytes));
  return reply(201, {
    content: fileBasic(world.site, repo, branch, path, bytes),
    commit: commitJson(world.site, repo, branch, record),
  });
}

/** PUT and DELETE need the current blob sha: Gitee's optimistic lock. */
function changeFile(world: World, request: ApiRequest, remove: boolean): Reply {
  // DELETE takes its parameters from the query string; accept a body too.
  const source = remove ? { ...request.body, ...Object.fromEntries(request.query) } : request.body;
  const required = remove ? ["sha", "message"] : ["content", "sha", "message"];
  const target = writeTarget(world, request, source, required);
  if ("status" in target) return target;
  const { repo, path, message } = target;
  const bytes = remove ? new Uint8Array() : decodeBase64(text(source, "content") ?? "");
  if (!bytes) return reply(400, { message: "content is not valid base64" });
  const branch = repo.branches.get(target.branchName);
  if (!branch) return BRANCH_NOT_FOUND;
  const current = branch.files.get(path);
  // Assumption: the status for updating or deleting a path that does not exist is unknown.
  if (!current) return reply(404, { message: "File Not Found" });
  if (blobSha(current) !== text(source, "sha")) {
    return reply(400, { message: "Blob SHA does not match" });
  }
  const record = commit(world.store, branch, message, (files) => {
    if (remove) files.delete(path);
    else files.set(path, bytes);
  });
  return reply(200, {
    content: remove ? null : fileBasic(world.site, repo, branch, path, bytes),
    commit: commitJson(world.site, repo, branch, record),
  });
}

const COMMIT_ACTIONS = ["create", "update", "delete", "move", "chmod"] as const;

/**
 * `POST /repos/{owner}/{repo}/commits` ("提交多个文件变更", docs/forge-requests.md): several file
 * actions as one commit on `branch`, which `start_branch` creates when given. All or nothing: every
 * action is checked against the files as the earlier actions left them, and the branch changes
 * only when all pass. `create` refuses an existing file, `update`/`delete`/`chmod` a missing one,
 * `move` a missing `previous_path` or an existing `path`. Assumptions (not confirmed on gitee.com):
 * the statuses and texts of the refusals (modelled on the contents API's, forge-apis §1.3), that
 * `start_branch` naming another branch refuses a `branch` that exists (GitLab's API, which this one
 * copies, does), and the 201 answer. `last_commit_id` is not emulated: a request using it is
 * refused rather than answered with made-up semantics. GitCode mode has no such route (unknown).
 */
function createCommit(world: World, request: ApiRequest): Reply {
  const [, owner, name] = request.segments;
  return withRepo(world, owner, name, (repo) => {
    const absent = ["branch", "message"].filter((key) => !given(text(request.body, key)));
    const actions = request.body.actions;
    if (!Array.isArray(actions) || actions.length === 0) absent.push("actions");
    if (absent.length > 0 || !Array.isArray(actions)) return missing(...absent);
    const branchName = text(request.body, "branch") ?? "";
    const startName = text(request.body, "start_branch");
    let start = repo.branches.get(branchName);
    if (given(startName) && startName !== branchName) {
      if (start) return reply(400, { message: "分支名已存在" });
      if (!validBranchName(branchName)) return reply(400, { message: "分支名不合法" });
      start = repo.branches.get(startName);
    }
    if (!start) return BRANCH_NOT_FOUND;
    const files = new Map(start.files);
    const changed: { filename: string; status: string }[] = [];
    for (const [index, raw] of actions.entries()) {
      const action = (raw ?? {}) as Record<string, unknown>;
      const kind = text(action, "action");
      const path = (text(action, "path") ?? "").replace(/^\/+|\/+$/g, "");
      if (!kind || !(COMMIT_ACTIONS as readonly string[]).includes(kind)) {
        return reply(400, { message: `actions[${index}].action is not valid: ${kind ?? ""}` });
      }
      if (path === "") return missing(`actions[${index}].path`);
      if (text(action, "last_commit_id") !== undefined) {
        return reply(400, { message: "last_commit_id is not emulated" });
      }
      let bytes: Uint8Array | null = null;
      const content = text(action, "content");
      if (content !== undefined) {
        const encoding = text(action, "encoding") ?? "text";
        if (encoding !== "text" && encoding !== "base64") {
          return reply(400, { message: `actions[${index}].encoding is not valid: ${encoding}` });
        }
        bytes = encoding === "base64" ? decodeBase64(content) : new TextEncoder().encode(content);
        if (!bytes) return reply(400, { message: `actions[${index}].content is not valid base64` });
      }
      const exists = files.has(path) || listDirectory(files, path).size > 0;
      if (kind === "create") {
        if (exists) return reply(400, { message: `文件名已存在: ${path}` });
        files.set(path, bytes ?? new Uint8Array());
        changed.push({ filename: path, status: "added" });
      } else if (kind === "move") {
        const from = text(action, "previous_path") ?? "";
        const old = files.get(from);
        if (!old) return reply(400, { message: `文件不存在: ${from}` });
        if (exists) return reply(400, { message: `文件名已存在: ${path}` });
        files.delete(from);
        files.set(path, bytes ?? old);
        changed.push({ filename: path, status: "renamed" });
      } else {
        if (!files.has(path)) return reply(400, { message: `文件不存在: ${path}` });
        if (kind === "update") files.set(path, bytes ?? new Uint8Array());
        if (kind === "delete") files.delete(path);
        changed.push({ filename: path, status: kind === "delete" ? "removed" : "modified" });
      }
    }
    const branch = repo.branches.get(branchName) ?? branchFrom(repo, branchName, start);
    const message = text(request.body, "message") ?? "";
    const record = commit(world.store, branch, message, (current) => {
      current.clear();
      for (const [path, bytes] of files) current.set(path, bytes);
    });
    const shape = commitJson(world.site, repo, branch, record);
    return reply(201, {
      sha: record.sha,
      url: `${world.site.api}/repos/${repo.owner}/${repo.name}/commits/${record.sha}`,
      html_url: `${world.site.web}/${repo.owner}/${repo.name}/commit/${record.sha}`,
      commit: shape,
      author: shape.author,
      committer: shape.committer,
      parents: shape.parents,
      files: changed,
      truncated: false,
    });
  });
}

function createIssue(world: World, request: ApiRequest): Reply {
  const [, owner] = request.segments;
  const repoField = text(request.body, "repo");
  if (!given(repoField)) return missing("repo");
  // The original client sends the bare name; `owner/name` is accepted too.
  const name = repoField.includes("/")
    ? repoField.slice(repoField.lastIndexOf("/") + 1)
    : repoField;
  return withRepo(world, owner, name, (repo) => {
    const title = text(request.body, "title");
    if (!given(title)) return missing("title");
    const now = Date.now();
    const issue: IssueRecord = {
      id: takeId(world.store),
      number: newIssueNumber(repo),
      title,
      body: text(request.body, "body") ?? "",
      state: "open",
      creator: world.site.user.login,
      labels: (text(request.body, "labels") ?? "").split(",").filter(Boolean),
      comments: [],
      createdAt: now,
      updatedAt: now,
    };
    repo.issues.push(issue);
    return reply(201, issueJson(world.site, repo, issue));
  });
}

function listIssues(world: World, request: ApiRequest): Reply {
  const [, owner, name] = request.segments;
  return withRepo(world, owner, name, (repo) => {
    const state = request.query.get("state") || "open";
    const creator = request.query.get("creator");
    const matching = repo.issues.filter(
      (issue) =>
        (state === "all" || issue.state === state) && (!creator || issue.creator === creator),
    );
    return paginate(ordered(matching, request.query), request.query, (issue) =>
      issueJson(world.site, repo, issue),
    );
  });
}

function getIssue(world: World, request: ApiRequest): Reply {
  const [, owner, name, , number] = request.segments;
  return withRepo(world, owner, name, (repo) => {
    // Issue numbers are case-sensitive.
    const issue = repo.issues.find((item) => item.number === number);
    // Assumption: the wording of a missing issue.
    if (!issue) return reply(404, { message: "Not Found Issue" });
    return reply(200, issueJson(world.site, repo, issue));
  });
}

function createPull(world: World, request: ApiRequest): Reply {
  const [, owner, name] = request.segments;
  return withRepo(world, owner, name, (repo) => {
    const absent = ["title", "head", "base"].filter((key) => !given(text(request.body, key)));
    if (absent.length > 0) return missing(...absent);
    const head = refName(text(request.body, "head") ?? "");
    const base = refName(text(request.body, "base") ?? "");
    const headBranch = repo.branches.get(head);
    const baseBranch = repo.branches.get(base);
    // Assumption: these refusals' statuses and texts are not documented (forge-apis.md §8).
    if (!headBranch) return reply(400, { message: `源分支 ${head} 不存在` });
    if (!baseBranch) return reply(400, { message: `目标分支 ${base} 不存在` });
    if (head === base) return reply(400, { message: "源分支与目标分支不能相同" });
    const open = repo.pulls.some(
      (pull) => pull.state === "open" && pull.head === head && pull.base === base,
    );
    if (open) return reply(400, { message: "已存在相同源分支、目标分支的 Pull Request" });
    const now = Date.now();
    const pull: PullRecord = {
      id: takeId(world.store),
      number: repo.pulls.length + 1,
      title: text(request.body, "title") ?? "",
      body: text(request.body, "body") ?? "",
      state: "open",
      head,
      base,
      headSha: headSha(headBranch),
      baseSha: headSha(baseBranch),
      pruneSourceBranch: flag(request.body.prune_source_branch),
      creator: world.site.user.login,
      comments: [],
      createdAt: now,
      updatedAt: now,
    };
    repo.pulls.push(pull);
    return reply(201, pullJson(world.site, repo, pull));
  });
}

function listPulls(world: World, request: ApiRequest): Reply {
  const [, owner, name] = request.segments;
  return withRepo(world, owner, name, (repo) => {
    const { query } = request;
    const state = query.get("state") || "open";
    const head = query.get("head") ? refName(query.get("head") ?? "") : null;
    const base = query.get("base");
    const matching = repo.pulls.filter(
      (pull) =>
        (state === "all" || pull.state === state) &&
        (!head || pull.head === head) &&
        (!base || pull.base === base),
    );
    return paginate(ordered(matching, query), query, (pull) => pullJson(world.site, repo, pull));
  });
}

function getPull(world: World, request: ApiRequest): Reply {
  const [, owner, name, , number] = request.segments;
  return withRepo(world, owner, name, (repo) => {
    const pull = repo.pulls.find((item) => String(item.number) === number);
    // Assumption: the wording of a missing pull request.
    if (!pull) return reply(404, { message: "Not Found PullRequest" });
    return reply(200, pullJson(world.site, repo, pull));
  });
}

const ISSUE_STATES = ["open", "progressing", "closed", "rejected"] as const;

/**
 * `PATCH /repos/{owner}/issues/{number}` with `repo` in the body (forge-apis §10.1): Gitee edits
 * issues on the owner-level path; the repository-level path has no PATCH (404). GitCode mode
 * takes POST on the same path instead (§10.3).
 */
function updateIssue(world: World, request: ApiRequest): Reply {
  const [, owner, , number] = request.segments;
  const repoField = text(request.body, "repo");
  if (!given(repoField)) return missing("repo");
  const name = repoField.includes("/")
    ? repoField.slice(repoField.lastIndexOf("/") + 1)
    : repoField;
  return withRepo(world, owner, name, (repo) => {
    const issue = repo.issues.find((item) => item.number === number);
    if (!issue) return reply(404, { message: "Not Found Issue" });
    const state = text(request.body, "state");
    // Assumption: the wording for an unknown state is not documented.
    if (state !== undefined && !(ISSUE_STATES as readonly string[]).includes(state)) {
      return reply(400, { message: `state is not valid: ${state}` });
    }
    const title = text(request.body, "title");
    if (title !== undefined && !given(title)) return missing("title");
    const body = text(request.body, "body");
    Object.assign(issue, {
      ...(title !== undefined ? { title } : {}),
      ...(body !== undefined ? { body } : {}),
      ...(state !== undefined ? { state } : {}),
      updatedAt: Date.now(),
    });
    return reply(200, issueJson(world.site, repo, issue));
  });
}

/** `PATCH /repos/{owner}/{repo}/pulls/{number}`: title, body, state open/closed. */
function updatePull(world: World, request: ApiRequest): Reply {
  const [, owner, name, , number] = request.segments;
  return withRepo(world, owner, name, (repo) => {
    const pull = repo.pulls.find((item) => String(item.number) === number);
    if (!pull) return reply(404, { message: "Not Found PullRequest" });
    // Assumption: the status and wording for changing a merged pull request are not documented.
    if (pull.state === "merged") return reply(400, { message: "Pull Request 已经合并，不能修改" });
    const state = text(request.body, "state");
    if (state !== undefined && state !== "open" && state !== "closed") {
      return reply(400, { message: `state is not valid: ${state}` });
    }
    const title = text(request.body, "title");
    const body = text(request.body, "body");
    Object.assign(pull, {
      ...(title !== undefined ? { title } : {}),
      ...(body !== undefined ? { body } : {}),
      ...(state !== undefined ? { state } : {}),
      updatedAt: Date.now(),
    });
    return reply(200, pullJson(world.site, repo, pull));
  });
}

/** The issue or pull request a comments path names, or the 404 for it. */
function commentTarget(
  world: World,
  request: ApiRequest,
): Reply | { repo: RepoState; comments: CommentRecord[] } {
  const [, owner, name, kind, number] = request.segments;
  const repo = owner && name ? findRepo(world.store, owner, name) : undefined;
  if (!repo) return NOT_FOUND_PROJECT;
  if (kind === "issues") {
    const issue = repo.issues.find((item) => item.number === number);
    return issue ? { repo, comments: issue.comments } : reply(404, { message: "Not Found Issue" });
  }
  const pull = repo.pulls.find((item) => String(item.number) === number);
  return pull
    ? { repo, comments: pull.comments }
    : reply(404, { message: "Not Found PullRequest" });
}

function listComments(world: World, request: ApiRequest): Reply {
  const target = commentTarget(world, request);
  if ("status" in target) return target;
  return paginate(target.comments, request.query, (comment) => commentJson(world.site, comment));
}

function createComment(world: World, request: ApiRequest): Reply {
  const target = commentTarget(world, request);
  if ("status" in target) return target;
  const body = text(request.body, "body");
  if (!given(body)) return missing("body");
  const comment: CommentRecord = {
    id: takeId(world.store),
    body,
    creator: world.site.user.login,
    createdAt: Date.now(),
  };
  target.comments.push(comment);
  return reply(201, commentJson(world.site, comment));
}

/** The handler for a method and decoded path, or null (Gitee then answers 404 Not Found). */
export function findRoute(
  method: string,
  segments: string[],
  flavor: "gitee" | "gitcode" = "gitee",
): Handler | null {
  const [root, , , resource] = segments;
  // Editing an issue: /repos/{owner}/issues/{number}, with the forge's own verb.
  if (root === "repos" && segments.length === 4 && segments[2] === "issues") {
    return method === (flavor === "gitcode" ? "POST" : "PATCH") ? updateIssue : null;
  }
  if (segments.length === 1 && root === "user") return method === "GET" ? getUser : null;
  if (root !== "repos" || segments.length < 3) return null;
  if (segments.length === 3) {
    if (method === "GET") return getRepo;
    return method === "POST" && segments[2] === "issues" ? createIssue : null;
  }
  if (segments.length === 6 && segments[5] === "comments") {
    if (resource !== "issues" && resource !== "pulls") return null;
    if (method === "GET") return listComments;
    return method === "POST" ? createComment : null;
  }
  if (segments.length === 6 && resource === "git" && segments[4] === "blobs") {
    return method === "GET" ? getBlob : null;
  }
  const deep = segments.length > 4;
  switch (`${method} ${resource}${deep ? "/*" : ""}`) {
    case "GET branches":
      return listBranches;
    case "POST branches":
      return createBranch;
    case "GET branches/*":
      return getBranch;
    case "POST commits":
      return flavor === "gitee" ? createCommit : null;
    case "GET contents":
    case "GET contents/*":
      return getContents;
    case "POST contents/*":
      return createFile;
    case "PUT contents/*":
      return (world, request) => changeFile(world, request, false);
    case "DELETE contents/*":
      return (world, request) => changeFile(world, request, true);
    case "GET issues":
      return listIssues;
    case "GET issues/*":
      return segments.length === 5 ? getIssue : null;
    case "GET pulls":
      return listPulls;
    case "POST pulls":
      return createPull;
    case "GET pulls/*":
      return segments.length === 5 ? getPull : null;
    case "PATCH pulls/*":
      return segments.length === 5 ? updatePull : null;
    default:
      return null;
  }
}
