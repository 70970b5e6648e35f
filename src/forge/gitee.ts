/**
 * The Gitee v5 `Forge`: domain operations on top of `GiteeHttp`.
 *
 * Gitee quirks handled here (see docs: forge-apis §1, §10): a missing file answers `200 []` on
 * gitee.com but 404 (or, on GitCode, 400) on compatible forges — both mean "absent" once the
 * repository and branch are known to exist, and a list answering 404 for a repository that exists
 * is empty; issue numbers are strings and pull numbers integers; "already exists" is a 400 whose text is
 * undocumented (partly Chinese), so it is never decided from the message — every write that fails
 * or loses its answer is followed by a read that shows what the forge actually holds.
 */
import { ConflictError, NotFoundError, RejectedError, TransientError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { encodePath, errorText, GiteeHttp, type GiteeHttpOptions } from "./gitee-http.ts";
import {
  type BeforeSend,
  type EnsureOutcome,
  type FilesCommit,
  type Forge,
  type ForgeEntry,
  type ForgeFile,
  type ForgeIssue,
  type ForgePull,
  ISSUE_STATES,
  type IssueState,
  type PullRequestSpec,
  type PullState,
  type RepoPath,
} from "./types.ts";

interface ContentObject {
  type?: string;
  path?: string;
  content?: string;
  sha?: string;
  size?: number | string | null;
}

/** `GET .../git/blobs/{sha}`; Gitee's model types `size` as a string. */
interface BlobObject {
  sha?: string;
  size?: number | string;
  encoding?: string;
  content?: string;
}

interface IssueObject {
  number: string;
  title: string;
  html_url: string;
}

interface PullObject {
  number: number;
  html_url: string;
  state?: string;
  merged_at?: string | null;
  head?: { ref?: string };
  base?: { ref?: string };
}

/** How many pages of the bot's issues to search for a title (newest first). */
const ISSUE_SEARCH_PAGES = 5;
/** Attempts of one ensure operation before its error is passed on. */
const ENSURE_ATTEMPTS = 3;
/** How long a repository or branch seen to exist is trusted when a 404 must be interpreted. */
const EXISTENCE_TTL_MS = 10 * 60_000;

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64");
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a).equals(Buffer.from(b));
}

/** Key of `existing`: the repository, or one of its branches. */
function existenceKey(repo: RepoPath, branch?: string): string {
  return `${repo.owner}/${repo.name}${branch === undefined ? "" : `\u0000${branch}`}`;
}

function repoApi(repo: RepoPath): string {
  return `/repos/${encodeURIComponent(repo.owner)}/${encodeURIComponent(repo.name)}`;
}

/** True for failures after which the forge may or may not hold the write. */
function outcomeUnknown(error: unknown): boolean {
  return (
    error instanceof TransientError ||
    error instanceof RejectedError ||
    error instanceof ConflictError
  );
}

/**
 * The look-up after a write whose outcome is unknown. When it fails as well, the write's own
 * error is passed on: what matters to the caller is that the write may have landed.
 */
async function lookBack<T>(writeError: unknown, look: () => Promise<T>): Promise<T> {
  try {
    return await look();
  } catch {
    throw writeError;
  }
}

export interface GiteeForgeOptions extends Omit<GiteeHttpOptions, "log"> {
  log: Logger;
}

export class GiteeForge implements Forge {
  private readonly http: GiteeHttp;
  private login: string | null = null;
  /** `owner/name` or `owner/name\0branch` → until when its existence is trusted. */
  private readonly existing = new Map<string, number>();

  constructor(private readonly options: GiteeForgeOptions) {
    this.http = new GiteeHttp(options);
  }

  async whoami(): Promise<string> {
    if (this.login) return this.login;
    const { data } = await this.http.request<{ login: string }>("GET", "/user", {
      tokenCheck: true,
    });
    this.login = data.login;
    return data.login;
  }

  /** Whether `repo` (and `branch`, when given) exist; positive answers are cached a while. */
  private async exists(repo: RepoPath, branch?: string): Promise<boolean> {
    const key = existenceKey(repo, branch);
    if ((this.existing.get(key) ?? 0) > Date.now()) return true;
    let found: boolean;
    try {
      if (branch === undefined) {
        await this.http.request("GET", repoApi(repo));
        found = true;
      } else {
        found = await this.branchExists(repo, branch);
      }
    } catch (error) {
      if (error instanceof NotFoundError) return false;
      throw error;
    }
    if (found) this.existing.set(key, Date.now() + EXISTENCE_TTL_MS);
    return found;
  }

  /**
   * A list that answered 404: empty when the repository exists, else the original error. Some
   * Gitee-compatible forges answer an empty list that way.
   */
  private async emptyIfRepoExists(repo: RepoPath, error: unknown): Promise<[]> {
    if (error instanceof NotFoundError && (await this.exists(repo))) return [];
    throw error;
  }

  webUrl(repo: RepoPath): string {
    return `${this.http.webBase()}/${repo.owner}/${repo.name}`;
  }

  async branchExists(repo: RepoPath, branch: string): Promise<boolean> {
    // The list avoids the undocumented handling of '/' (work branches have one) in the path form.
    const branches = await this.http.list<{ name: string }>(`${repoApi(repo)}/branches`);
    return branches.some((item) => item.name === branch);
  }

  async ensureBranch(repo: RepoPath, branch: string, from: string): Promise<EnsureOutcome> {
    if (await this.branchExists(repo, branch)) return "existed";
    try {
      await this.http.request("POST", `${repoApi(repo)}/branches`, {
        body: { refs: from, branch_name: branch },
      });
      return "created";
    } catch (error) {
      if (outcomeUnknown(error) && (await this.branchExists(repo, branch))) return "created";
      throw error;
    }
  }

  async readFile(repo: RepoPath, branch: string, path: string): Promise<ForgeFile | null> {
    const missing = this.http.profile.missingFileStatuses;
    const { status, data } = await this.http.request<ContentObject | ContentObject[]>(
      "GET",
      `${repoApi(repo)}/contents/${encodePath(path)}`,
      { query: { ref: branch }, accept: [...missing] },
    );
    if (missing.includes(status)) {
      // "No such file" — or no such repository or branch, which must stay an error.
      if (await this.exists(repo, branch)) return null;
      throw new NotFoundError(
        "gitee",
        `GET contents/${path}: ${status} ${errorText(JSON.stringify(data))}; ${repo.owner}/${repo.name} or its branch ${branch} does not exist`,
        404,
      );
    }
    if (Array.isArray(data)) {
      if (data.length === 0) return null;
      throw new RejectedError("gitee", `${path} on ${branch} is a directory, not a file`);
    }
    if (typeof data?.content !== "string" || typeof data.sha !== "string") {
      throw new TransientError("gitee", `unexpected answer reading ${path} on ${branch}`);
    }
    return {
      content: new Uint8Array(Buffer.from(data.content.replace(/\s+/g, ""), "base64")),
      sha: data.sha,
    };
  }

  async writeFile(
    repo: RepoPath,
    branch: string,
    path: string,
    content: Uint8Array,
    message: string,
    sha: string | null,
  ): Promise<void> {
    const body: Record<string, unknown> = { content: base64(content), message, branch };
    if (sha) body.sha = sha;
    try {
      await this.http.request(
        sha ? "PUT" : "POST",
        `${repoApi(repo)}/contents/${encodePath(path)}`,
        {
          body,
        },
      );
    } catch (error) {
      if (!(error instanceof RejectedError) || error.status !== 400) throw error;
      // A 400 means "exists already" (create) or "stale sha" (update) — or a real rejection.
      const current = await this.readFile(repo, branch, path);
      const conflict = sha ? current?.sha !== sha : current !== null;
      if (conflict)
        throw new ConflictError(
          "gitee",
          `${path} on ${branch} changed meanwhile: ${error.message}`,
          400,
        );
      throw error;
    }
  }

  async ensureFile(
    repo: RepoPath,
    branch: string,
    path: string,
    content: Uint8Array,
    message: string,
  ): Promise<EnsureOutcome> {
    let lastError: unknown;
    let existedAtFirst: boolean | undefined;
    for (let attempt = 0; attempt < ENSURE_ATTEMPTS; attempt++) {
      const current = await this.readFile(repo, branch, path);
      existedAtFirst ??= current !== null;
      if (current && sameBytes(current.content, content)) {
        // Equal on a later attempt means an earlier write took effect although its answer was lost.
        if (attempt === 0) return "existed";
        return existedAtFirst ? "updated" : "created";
      }
      try {
        await this.writeFile(repo, branch, path, content, message, current?.sha ?? null);
        return current ? "updated" : "created";
      } catch (error) {
        if (!outcomeUnknown(error)) throw error;
        lastError = error;
        this.options.log.debug("gitee write uncertain; reading back", { path, branch, error });
      }
    }
    throw lastError;
  }

  async commitFiles(repo: RepoPath, commit: FilesCommit): Promise<void> {
    if (this.http.profile.multiFileCommit) {
      await this.multiFileCommit(repo, commit);
      return;
    }
    // File by file: nothing is read first, the caller said what each file must be. A create
    // refused because the file exists, or an update refused for a stale sha, is a ConflictError.
    if (commit.startBranch) {
      await this.http.request("POST", `${repoApi(repo)}/branches`, {
        body: { refs: commit.startBranch, branch_name: commit.branch },
      });
      this.existing.set(existenceKey(repo, commit.branch), Date.now() + EXISTENCE_TTL_MS);
    }
    for (const change of commit.changes) {
      let sha: string | null = null;
      if (change.action === "update") {
        sha = change.sha ?? (await this.readFile(repo, commit.branch, change.path))?.sha ?? null;
        if (!sha) {
          throw new ConflictError("gitee", `${change.path} on ${commit.branch} is missing`, 404);
        }
      }
      const message = change.message ?? commit.message;
      await this.writeFile(repo, commit.branch, change.path, change.content, message, sha);
    }
  }

  /**
   * `POST /repos/{owner}/{repo}/commits` ("提交多个文件变更", docs/forge-requests.md): every change
   * in one commit, the branch created from `start_branch` on the way. All or nothing.
   */
  private async multiFileCommit(repo: RepoPath, commit: FilesCommit): Promise<void> {
    const body: Record<string, unknown> = {
      branch: commit.branch,
      message: commit.message,
      actions: commit.changes.map((change) => ({
        action: change.action,
        path: change.path,
        content: base64(change.content),
        encoding: "base64",
      })),
    };
    if (commit.startBranch) body.start_branch = commit.startBranch;
    await this.http.request("POST", `${repoApi(repo)}/commits`, { body });
    // The branch just made is known to exist: a missing file on it is then absent, not an error.
    if (commit.startBranch) {
      this.existing.set(existenceKey(repo, commit.branch), Date.now() + EXISTENCE_TTL_MS);
    }
  }

  async findIssue(repo: RepoPath, title: string): Promise<ForgeIssue | null> {
    const creator = await this.whoami();
    for (let page = 1; page <= ISSUE_SEARCH_PAGES; page++) {
      const { data } = await this.http
        .request<IssueObject[]>("GET", `${repoApi(repo)}/issues`, {
          query: { state: "all", creator, sort: "created", direction: "desc", page, per_page: 100 },
        })
        .catch(async (error) => ({ data: await this.emptyIfRepoExists(repo, error) }));
      const items = Array.isArray(data) ? data : [];
      const found = items.find((item) => item.title === title);
      if (found) return { number: String(found.number), url: found.html_url, title: found.title };
      if (items.length < 100) break;
    }
    return null;
  }

  async ensureIssue(
    repo: RepoPath,
    title: string,
    body: string,
    mayExist = true,
    beforeSend?: BeforeSend,
  ) {
    const existing = mayExist ? await this.findIssue(repo, title) : null;
    if (existing) return { ...existing, outcome: "existed" as const };
    beforeSend?.();
    try {
      const { data } = await this.http.request<IssueObject>(
        "POST",
        `/repos/${encodeURIComponent(repo.owner)}/issues`,
        { body: { repo: repo.name, title, body } },
      );
      return {
        number: String(data.number),
        url: data.html_url,
        title: data.title,
        outcome: "created" as const,
      };
    } catch (error) {
      if (!outcomeUnknown(error)) throw error;
      const found = await lookBack(error, () => this.findIssue(repo, title));
      if (found) return { ...found, outcome: "created" as const };
      throw error;
    }
  }

  async findPull(repo: RepoPath, head: string, base: string): Promise<ForgePull | null> {
    const pulls = await this.http
      .list<PullObject>(`${repoApi(repo)}/pulls`, { state: "all", head, base }, 5)
      .catch((error) => this.emptyIfRepoExists(repo, error));
    const found = pulls.find((pull) => pull.head?.ref === head && pull.base?.ref === base);
    return found ? { number: found.number, url: found.html_url, head, base } : null;
  }

  async ensurePull(
    repo: RepoPath,
    spec: PullRequestSpec,
    mayExist = true,
    beforeSend?: BeforeSend,
  ) {
    const existing = mayExist ? await this.findPull(repo, spec.head, spec.base) : null;
    if (existing) return { ...existing, outcome: "existed" as const };
    beforeSend?.();
    try {
      const { data } = await this.http.request<PullObject>("POST", `${repoApi(repo)}/pulls`, {
        body: { ...spec, prune_source_branch: true },
      });
      return {
        number: data.number,
        url: data.html_url,
        head: spec.head,
        base: spec.base,
        outcome: "created" as const,
      };
    } catch (error) {
      if (!outcomeUnknown(error)) throw error;
      const found = await lookBack(error, () => this.findPull(repo, spec.head, spec.base));
      if (found) return { ...found, outcome: "created" as const };
      throw error;
    }
  }

  async pullState(repo: RepoPath, number: number): Promise<PullState> {
    const { data } = await this.http.request<PullObject>("GET", `${repoApi(repo)}/pulls/${number}`);
    // Gitee answers "merged" in `state`; `merged_at` guards against a forge that says "closed".
    if (data.state === "merged" || data.merged_at) return "merged";
    if (data.state === "open") return "open";
    if (data.state === "closed") return "closed";
    throw new TransientError("gitee", `pull request ${number}: unexpected state ${data.state}`);
  }

  async issueState(repo: RepoPath, number: string): Promise<IssueState> {
    const { data } = await this.http.request<{ state?: string }>(
      "GET",
      `${repoApi(repo)}/issues/${encodeURIComponent(number)}`,
    );
    const state = ISSUE_STATES.find((known) => known === data?.state);
    if (!state)
      throw new TransientError("gitee", `issue ${number}: unexpected state ${data?.state}`);
    return state;
  }

  async updateIssue(repo: RepoPath, number: string, body: string): Promise<void> {
    // forge-apis §10.1: the owner-level path, with the repository in the body. The verb is the
    // profile's: Gitee PATCH, GitCode POST (§10.3).
    await this.http.request(
      this.http.profile.updateIssueMethod,
      `/repos/${encodeURIComponent(repo.owner)}/issues/${encodeURIComponent(number)}`,
      { body: { repo: repo.name, body } },
    );
  }

  /** Whether the comment list at `path` (an issue's or a pull request's) holds `body`. */
  private async hasComment(repo: RepoPath, path: string, body: string): Promise<boolean> {
    const comments = await this.http
      .list<{ body?: string }>(path, {}, 5)
      .catch((error) => this.emptyIfRepoExists(repo, error));
    return comments.some((comment) => comment.body?.trim() === body.trim());
  }

  /** Posts `body` to the comment list at `path` unless it is there (see ensurePullComment). */
  private async ensureComment(
    repo: RepoPath,
    path: string,
    body: string,
    mayExist: boolean,
    beforeSend?: BeforeSend,
  ): Promise<EnsureOutcome> {
    if (mayExist && (await this.hasComment(repo, path, body))) return "existed";
    beforeSend?.();
    try {
      await this.http.request("POST", path, { body: { body } });
      return "created";
    } catch (error) {
      if (outcomeUnknown(error) && (await lookBack(error, () => this.hasComment(repo, path, body))))
        return "created";
      throw error;
    }
  }

  ensurePullComment(
    repo: RepoPath,
    number: number,
    body: string,
    mayExist: boolean,
    beforeSend?: BeforeSend,
  ): Promise<EnsureOutcome> {
    const path = `${repoApi(repo)}/pulls/${number}/comments`;
    return this.ensureComment(repo, path, body, mayExist, beforeSend);
  }

  ensureIssueComment(
    repo: RepoPath,
    number: string,
    body: string,
    mayExist: boolean,
    beforeSend?: BeforeSend,
  ): Promise<EnsureOutcome> {
    const path = `${repoApi(repo)}/issues/${encodeURIComponent(number)}/comments`;
    return this.ensureComment(repo, path, body, mayExist, beforeSend);
  }

  async closeIssue(repo: RepoPath, number: string): Promise<void> {
    // The same owner-level edit as updateIssue (forge-apis §10.1); setting "closed" twice is
    // harmless, so a lost answer is simply asked again by the run's retry.
    await this.http.request(
      this.http.profile.updateIssueMethod,
      `/repos/${encodeURIComponent(repo.owner)}/issues/${encodeURIComponent(number)}`,
      { body: { repo: repo.name, state: "closed" } },
    );
  }

  async closePull(repo: RepoPath, number: number): Promise<void> {
    try {
      await this.http.request("PATCH", `${repoApi(repo)}/pulls/${number}`, {
        body: { state: "closed" },
      });
    } catch (error) {
      // A lost answer, or a refusal because it is closed (or merged) already: the state decides.
      if (outcomeUnknown(error) && (await this.pullState(repo, number)) !== "open") return;
      throw error;
    }
  }

  async listFiles(repo: RepoPath, branch: string, dir = ""): Promise<ForgeEntry[]> {
    const missing = this.http.profile.missingFileStatuses;
    const { status, data } = await this.http.request<ContentObject | ContentObject[]>(
      "GET",
      `${repoApi(repo)}/contents/${encodePath(dir)}`,
      { query: { ref: branch }, accept: [...missing] },
    );
    if (missing.includes(status)) {
      // A folder that does not exist, like a missing file, is empty once the branch exists.
      if (await this.exists(repo, branch)) return [];
      throw new NotFoundError(
        "gitee",
        `GET contents/${dir}: ${status}; ${repo.owner}/${repo.name} or its branch ${branch} does not exist`,
        404,
      );
    }
    if (!Array.isArray(data)) return [];
    return data.flatMap((entry) =>
      entry.type === "file" && typeof entry.path === "string" && typeof entry.sha === "string"
        ? [{ path: entry.path, sha: entry.sha, size: sizeOf(entry.size) }]
        : [],
    );
  }

  /**
   * `GET /v5/repos/{owner}/{repo}/git/blobs/{sha}` → `{sha, size, url, content, encoding}`
   * (docs/apply-check.md cites where this shape comes from). Blobs of any size come inline.
   */
  async readBlob(repo: RepoPath, sha: string): Promise<Uint8Array> {
    const { data } = await this.http.request<BlobObject>(
      "GET",
      `${repoApi(repo)}/git/blobs/${encodeURIComponent(sha)}`,
    );
    if (typeof data?.content !== "string" || (data.encoding && data.encoding !== "base64")) {
      throw new TransientError("gitee", `unexpected answer reading blob ${sha}`);
    }
    return new Uint8Array(Buffer.from(data.content.replace(/\s+/g, ""), "base64"));
  }
}

function sizeOf(value: number | string | null | undefined): number | null {
  const size = typeof value === "string" ? Number(value) : value;
  return typeof size === "number" && Number.isFinite(size) && size >= 0 ? size : null;
}
