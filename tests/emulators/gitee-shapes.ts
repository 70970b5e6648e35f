/**
 * JSON bodies of the Gitee emulator, shaped like Gitee v5's models (UserDetail, Project,
 * Branch/CompleteBranch, Content, CommitContent, Issue, PullRequest; forge-apis.md §1.6–§1.10).
 * Only the fields clients read are filled with meaningful values; the rest keep the real key
 * names so a client that logs or passes them along sees a familiar object.
 */
import {
  type BranchState,
  blobSha,
  type CommentRecord,
  type CommitRecord,
  headSha,
  type IssueRecord,
  type PullRecord,
  type RepoState,
  treeSha,
} from "./gitee-store.ts";

export interface BotUser {
  id: number;
  login: string;
  name: string;
}

/** Where the emulator lives: API base (`…/api/v5`), web base for `html_url`s, the bot user. */
export interface Site {
  api: string;
  web: string;
  user: BotUser;
}

/** Gitee prints times in China Standard Time with an explicit offset, without milliseconds. */
export function giteeTime(epochMs: number): string {
  const shifted = new Date(epochMs + 8 * 3_600_000).toISOString();
  return `${shifted.slice(0, 19)}+08:00`;
}

/** Base64 broken into 60-character lines, each ending in a newline (Ruby's `encode64` layout). */
export function wrappedBase64(bytes: Uint8Array): string {
  const flat = Buffer.from(bytes).toString("base64");
  let out = "";
  for (let i = 0; i < flat.length; i += 60) out += `${flat.slice(i, i + 60)}\n`;
  return out;
}

function encodeSegments(path: string): string {
  return path.split("/").map(encodeURIComponent).join("/");
}

function repoApi(site: Site, repo: RepoState): string {
  return `${site.api}/repos/${encodeURIComponent(repo.owner)}/${encodeURIComponent(repo.name)}`;
}

function repoWeb(site: Site, repo: RepoState): string {
  return `${site.web}/${repo.owner}/${repo.name}`;
}

/** The short user object embedded in issues, pulls and repositories. */
export function userBasic(site: Site, login: string) {
  const own = login === site.user.login;
  return {
    id: own ? site.user.id : 100_000 + login.length,
    login,
    name: own ? site.user.name : login,
    avatar_url: `${site.web}/assets/no_portrait.png`,
    url: `${site.api}/users/${login}`,
    html_url: `${site.web}/${login}`,
    remark: "",
    type: "User",
  };
}

export function userDetail(site: Site) {
  return {
    ...userBasic(site, site.user.login),
    followers_url: `${site.api}/users/${site.user.login}/followers`,
    bio: "",
    blog: "",
    weibo: null,
    company: null,
    email: null,
    public_repos: 0,
    public_gists: 0,
    followers: 0,
    following: 0,
    stared: 0,
    watched: 0,
    created_at: giteeTime(Date.UTC(2020, 0, 1)),
    updated_at: giteeTime(Date.now()),
  };
}

export function projectJson(site: Site, repo: RepoState) {
  const fullName = `${repo.owner}/${repo.name}`;
  return {
    id: repo.id,
    full_name: fullName,
    human_name: `${repo.owner}/${repo.name}`,
    url: repoApi(site, repo),
    namespace: { type: "group", name: repo.owner, path: repo.owner },
    path: repo.name,
    name: repo.name,
    owner: userBasic(site, repo.owner),
    description: "",
    private: false,
    public: true,
    internal: false,
    fork: false,
    html_url: repoWeb(site, repo),
    ssh_url: `git@gitee.com:${fullName}.git`,
    default_branch: repo.defaultBranch,
    created_at: giteeTime(repo.createdAt),
    updated_at: giteeTime(Date.now()),
  };
}

function commitUrl(site: Site, repo: RepoState, sha: string): string {
  return `${repoApi(site, repo)}/commits/${sha}`;
}

function person(site: Site, time: number) {
  return {
    name: site.user.name,
    email: `${site.user.login}@user.noreply.gitee.com`,
    date: giteeTime(time),
  };
}

/** The `commit` of a CommitContent answer (file create/update/delete). */
export function commitJson(site: Site, repo: RepoState, branch: BranchState, record: CommitRecord) {
  const index = branch.commits.findIndex((item) => item.sha === record.sha);
  const parent = index > 0 ? branch.commits[index - 1] : undefined;
  return {
    sha: record.sha,
    author: person(site, record.time),
    committer: person(site, record.time),
    message: record.message,
    tree: { sha: treeSha(branch.files, ""), url: `${repoApi(site, repo)}/git/trees/x` },
    parents: parent ? [{ sha: parent.sha, url: commitUrl(site, repo, parent.sha) }] : [],
  };
}

/** An item of the branch list. */
export function branchItem(site: Site, repo: RepoState, branch: BranchState) {
  const sha = headSha(branch);
  return {
    name: branch.name,
    commit: { sha, url: commitUrl(site, repo, sha) },
    protected: false,
    protection_url: `${repoApi(site, repo)}/branches/${encodeURIComponent(branch.name)}/protection`,
  };
}

/** CompleteBranch: one branch with its head commit spelled out. */
export function completeBranch(site: Site, repo: RepoState, branch: BranchState) {
  const head = branch.commits.at(-1);
  const item = branchItem(site, repo, branch);
  return {
    name: branch.name,
    commit: {
      sha: item.commit.sha,
      url: item.commit.url,
      html_url: `${repoWeb(site, repo)}/commit/${item.commit.sha}`,
      commit: head ? commitJson(site, repo, branch, head) : null,
      author: userBasic(site, site.user.login),
      committer: userBasic(site, site.user.login),
    },
    _links: {
      html: `${repoWeb(site, repo)}/tree/${branch.name}`,
      self: `${repoApi(site, repo)}/branches/${encodeURIComponent(branch.name)}`,
    },
    protected: false,
    protection_url: item.protection_url,
  };
}

function contentLinks(site: Site, repo: RepoState, branch: string, path: string, kind: string) {
  const url = `${repoApi(site, repo)}/contents/${encodeSegments(path)}`;
  const html = `${repoWeb(site, repo)}/${kind}/${branch}/${path}`;
  return { url, html_url: html, _links: { self: url, html } };
}

/** ContentBasic of a file, without its bytes (as inside CommitContent). */
export function fileBasic(
  site: Site,
  repo: RepoState,
  branch: BranchState,
  path: string,
  bytes: Uint8Array,
) {
  const links = contentLinks(site, repo, branch.name, path, "blob");
  return {
    name: path.split("/").at(-1) ?? path,
    path,
    size: bytes.length,
    sha: blobSha(bytes),
    type: "file",
    url: links.url,
    html_url: links.html_url,
    download_url: `${repoWeb(site, repo)}/raw/${branch.name}/${path}`,
    _links: links._links,
  };
}

/** Content of a file: ContentBasic plus the base64 bytes. */
export function fileJson(
  site: Site,
  repo: RepoState,
  branch: BranchState,
  path: string,
  bytes: Uint8Array,
) {
  return {
    ...fileBasic(site, repo, branch, path, bytes),
    encoding: "base64",
    content: wrappedBase64(bytes),
  };
}

/** One entry of a directory listing; directories have no size and no download link. */
export function directoryEntry(
  site: Site,
  repo: RepoState,
  branch: BranchState,
  path: string,
  kind: "file" | "dir",
) {
  if (kind === "file") {
    return fileBasic(site, repo, branch, path, branch.files.get(path) ?? new Uint8Array());
  }
  const links = contentLinks(site, repo, branch.name, path, "tree");
  return {
    name: path.split("/").at(-1) ?? path,
    path,
    size: null,
    sha: treeSha(branch.files, path),
    type: "dir",
    url: links.url,
    html_url: links.html_url,
    download_url: null,
    _links: links._links,
  };
}

export function commentJson(site: Site, comment: CommentRecord) {
  return {
    id: comment.id,
    body: comment.body,
    user: userBasic(site, comment.creator),
    created_at: giteeTime(comment.createdAt),
    updated_at: giteeTime(comment.createdAt),
  };
}

export function issueJson(site: Site, repo: RepoState, issue: IssueRecord) {
  const api = `${repoApi(site, repo)}/issues/${issue.number}`;
  return {
    id: issue.id,
    url: api,
    repository_url: repoApi(site, repo),
    labels_url: `${api}/labels`,
    comments_url: `${api}/comments`,
    html_url: `${repoWeb(site, repo)}/issues/${issue.number}`,
    parent_url: null,
    number: issue.number,
    parent_id: 0,
    depth: 0,
    state: issue.state,
    title: issue.title,
    body: issue.body,
    user: userBasic(site, issue.creator),
    labels: issue.labels.map((name, index) => ({ id: index + 1, name, color: "409EFF" })),
    assignee: null,
    collaborators: [],
    repository: projectJson(site, repo),
    milestone: null,
    created_at: giteeTime(issue.createdAt),
    updated_at: giteeTime(issue.updatedAt),
    plan_started_at: null,
    deadline: null,
    finished_at: null,
    scheduled_time: 0,
    comments: issue.comments.length,
    priority: 0,
    issue_type: "任务",
    security_hole: false,
  };
}

function pullSide(site: Site, repo: RepoState, ref: string, sha: string) {
  return {
    label: `${repo.owner}:${ref}`,
    ref,
    sha,
    user: userBasic(site, repo.owner),
    repo: projectJson(site, repo),
  };
}

export function pullJson(site: Site, repo: RepoState, pull: PullRecord) {
  const api = `${repoApi(site, repo)}/pulls/${pull.number}`;
  const web = `${repoWeb(site, repo)}/pulls/${pull.number}`;
  return {
    id: pull.id,
    url: api,
    html_url: web,
    diff_url: `${web}.diff`,
    patch_url: `${web}.patch`,
    issue_url: `${api}/issues`,
    commits_url: `${api}/commits`,
    comments_url: `${api}/comments`,
    number: pull.number,
    state: pull.state,
    title: pull.title,
    body: pull.body,
    assignees: [],
    testers: [],
    labels: [],
    milestone: null,
    locked: false,
    created_at: giteeTime(pull.createdAt),
    updated_at: giteeTime(pull.updatedAt),
    closed_at: pull.state === "open" ? null : giteeTime(pull.updatedAt),
    merged_at: pull.state === "merged" ? giteeTime(pull.updatedAt) : null,
    mergeable: pull.state === "open",
    can_merge_check: false,
    draft: false,
    prune_branch: pull.pruneSourceBranch,
    head: pullSide(site, repo, pull.head, pull.headSha),
    base: pullSide(site, repo, pull.base, pull.baseSha),
    user: userBasic(site, pull.creator),
  };
}
