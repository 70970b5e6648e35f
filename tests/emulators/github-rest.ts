/**
 * The REST endpoints of the GitHub emulator, answered from the git repositories: the user, a
 * repository, branches (with 301 for renamed ones), the commit list, one commit in JSON and the
 * patch/diff/sha media types, and compare with paging, the 250-commit default and mbox output.
 */
import { formatCommitPatch } from "../../src/scan/upstream/format-patch.ts";
import {
  branchHead,
  type CommitInfo,
  countRange,
  defaultBranch,
  diffFiles,
  diffText,
  emptyTreeSha,
  formatPatchRange,
  mergeBase,
  readCommit,
  readCommits,
  resolveRef,
} from "./github-git.ts";
import {
  DOCS,
  intParam,
  jsonReply,
  type MediaFormat,
  mediaFormat,
  mediaReply,
  notFound,
  type Reply,
} from "./github-reply.ts";

export interface RestContext {
  /** Lower-cased `owner/name` → the repository. */
  repos: Map<string, { name: string; dir: string }>;
  /** Lower-cased `owner/name` → old branch name → new branch name. */
  redirects: Map<string, Map<string, string>>;
  /** REST path prefix (`/api/v3`), or "". */
  prefix: string;
}

function commitJson(api: string, web: string, repo: string, commit: CommitInfo) {
  return {
    sha: commit.sha,
    node_id: `C_${commit.sha.slice(0, 24)}`,
    commit: {
      author: commit.author,
      committer: commit.committer,
      message: commit.message,
      tree: { sha: commit.tree, url: `${api}/repos/${repo}/git/trees/${commit.tree}` },
      url: `${api}/repos/${repo}/git/commits/${commit.sha}`,
      comment_count: 0,
      verification: { verified: false, reason: "unsigned", signature: null, payload: null },
    },
    url: `${api}/repos/${repo}/commits/${commit.sha}`,
    html_url: `${web}/${repo}/commit/${commit.sha}`,
    comments_url: `${api}/repos/${repo}/commits/${commit.sha}/comments`,
    author: null,
    committer: null,
    parents: commit.parents.map((sha) => ({
      sha,
      url: `${api}/repos/${repo}/commits/${sha}`,
      html_url: `${web}/${repo}/commit/${sha}`,
    })),
  };
}

function linkHeader(base: string, params: URLSearchParams, page: number, last: number): string {
  const link = (n: number, rel: string) => {
    const next = new URLSearchParams(params);
    next.set("page", String(n));
    return `<${base}?${next}>; rel="${rel}"`;
  };
  const parts: string[] = [];
  if (page > 1) parts.push(link(page - 1, "prev"), link(1, "first"));
  if (page < last) parts.push(link(page + 1, "next"), link(last, "last"));
  return parts.join(", ");
}

interface Route {
  api: string;
  web: string;
  url: URL;
  format: MediaFormat;
  repo: { name: string; dir: string };
  rest: string[];
}

async function branchRoute(
  { api, web, repo, rest }: Route,
  redirects: RestContext["redirects"],
): Promise<Reply> {
  const branch = decodeURIComponent(rest.join("/"));
  const head = await branchHead(repo.dir, branch);
  const renamed = redirects.get(repo.name.toLowerCase())?.get(branch);
  if (!head && renamed) {
    const location = `${api}/repos/${repo.name}/branches/${encodeURIComponent(renamed)}`;
    return jsonReply(
      301,
      { message: "Moved Permanently", url: location, documentation_url: DOCS },
      { headers: { location } },
    );
  }
  if (!head) return notFound("Branch not found");
  const commit = await readCommit(repo.dir, head);
  return jsonReply(200, {
    name: branch,
    commit: commitJson(api, web, repo.name, commit),
    _links: {
      self: `${api}/repos/${repo.name}/branches/${encodeURIComponent(branch)}`,
      html: `${web}/${repo.name}/tree/${branch}`,
    },
    protected: false,
    protection: { enabled: false, required_status_checks: { enforcement_level: "off" } },
    protection_url: `${api}/repos/${repo.name}/branches/${encodeURIComponent(branch)}/protection`,
  });
}

async function commitListRoute({ api, web, repo, url }: Route): Promise<Reply> {
  const ref = url.searchParams.get("sha");
  const start = ref
    ? await resolveRef(repo.dir, ref)
    : await branchHead(repo.dir, await defaultBranch(repo.dir));
  if (!start) return notFound(ref ? `No commit found for SHA: ${ref}` : "Git Repository is empty.");
  const perPage = Math.min(100, intParam(url.searchParams.get("per_page"), 30));
  const page = intParam(url.searchParams.get("page"), 1);
  const commits = await readCommits(repo.dir, [
    `--skip=${(page - 1) * perPage}`,
    `--max-count=${perPage + 1}`,
    start,
  ]);
  const more = commits.length > perPage;
  const link = linkHeader(
    `${api}/repos/${repo.name}/commits`,
    url.searchParams,
    page,
    more ? page + 1 : page,
  );
  return jsonReply(
    200,
    commits.slice(0, perPage).map((commit) => commitJson(api, web, repo.name, commit)),
    { headers: link ? { link } : {} },
  );
}

async function commitRoute({ api, web, repo, rest, format }: Route): Promise<Reply> {
  const ref = decodeURIComponent(rest.join("/"));
  const sha = await resolveRef(repo.dir, ref);
  if (!sha) {
    return jsonReply(422, {
      message: `No commit found for SHA: ${ref}`,
      documentation_url: DOCS,
    });
  }
  if (format === "sha") return { ...mediaReply("sha", sha), etag: `"${sha}"` };
  if (format === "patch")
    return mediaReply("patch", (await formatCommitPatch(repo.dir, sha)).patch);
  const commit = await readCommit(repo.dir, sha);
  const parent = commit.parents[0] ?? (await emptyTreeSha(repo.dir));
  if (format === "diff") return mediaReply("diff", await diffText(repo.dir, parent, sha));
  const files = await diffFiles(repo.dir, parent, sha);
  const additions = files.reduce((sum, file) => sum + file.additions, 0);
  const deletions = files.reduce((sum, file) => sum + file.deletions, 0);
  return jsonReply(200, {
    ...commitJson(api, web, repo.name, commit),
    stats: { total: additions + deletions, additions, deletions },
    files,
  });
}

async function compareRoute({ api, web, repo, rest, url, format }: Route): Promise<Reply> {
  const spec = decodeURIComponent(rest.join("/"));
  const dots = spec.indexOf("...");
  if (dots < 0) return notFound();
  const base = spec.slice(0, dots);
  const head = spec.slice(dots + 3);
  const [baseSha, headSha] = await Promise.all([
    resolveRef(repo.dir, base),
    resolveRef(repo.dir, head),
  ]);
  if (!baseSha || !headSha) return notFound();
  const mergeBaseSha = await mergeBase(repo.dir, baseSha, headSha);
  if (!mergeBaseSha) return notFound(`No common ancestor between ${base} and ${head}.`);
  // Pagination parameters do not apply to the media types (GitHub docs).
  if (format === "patch") {
    return mediaReply("patch", await formatPatchRange(repo.dir, baseSha, headSha));
  }
  if (format === "diff") return mediaReply("diff", await diffText(repo.dir, mergeBaseSha, headSha));

  const [ahead, behind, all, baseCommit, mergeBaseCommit] = await Promise.all([
    countRange(repo.dir, baseSha, headSha),
    countRange(repo.dir, headSha, baseSha),
    readCommits(repo.dir, ["--reverse", "--topo-order", `${baseSha}..${headSha}`]),
    readCommit(repo.dir, baseSha),
    readCommit(repo.dir, mergeBaseSha),
  ]);
  const status =
    ahead === 0 && behind === 0
      ? "identical"
      : behind === 0
        ? "ahead"
        : ahead === 0
          ? "behind"
          : "diverged";
  const paged = url.searchParams.has("page") || url.searchParams.has("per_page");
  const perPage = Math.min(100, intParam(url.searchParams.get("per_page"), 30));
  const page = intParam(url.searchParams.get("page"), 1);
  // Without paging parameters GitHub returns at most 250 commits: the newest ones.
  const commits = paged ? all.slice((page - 1) * perPage, page * perPage) : all.slice(-250);
  const withFiles = !paged || page === 1;
  const self = `${api}/repos/${repo.name}/compare/${encodeURIComponent(spec)}`;
  const lastPage = Math.max(1, Math.ceil(all.length / perPage));
  const link = paged ? linkHeader(self, url.searchParams, page, lastPage) : "";
  return jsonReply(
    200,
    {
      url: self,
      html_url: `${web}/${repo.name}/compare/${spec}`,
      permalink_url: `${web}/${repo.name}/compare/${baseSha}...${headSha}`,
      diff_url: `${web}/${repo.name}/compare/${spec}.diff`,
      patch_url: `${web}/${repo.name}/compare/${spec}.patch`,
      base_commit: commitJson(api, web, repo.name, baseCommit),
      merge_base_commit: commitJson(api, web, repo.name, mergeBaseCommit),
      status,
      ahead_by: ahead,
      behind_by: behind,
      total_commits: ahead,
      commits: commits.map((commit) => commitJson(api, web, repo.name, commit)),
      ...(withFiles ? { files: await diffFiles(repo.dir, mergeBaseSha, headSha) } : {}),
    },
    { headers: link ? { link } : {} },
  );
}

export async function restRoute(
  ctx: RestContext,
  request: Request,
  url: URL,
  api: string,
  web: string,
): Promise<Reply> {
  if (request.method !== "GET") return notFound();
  const parts = url.pathname.slice(ctx.prefix.length).split("/").filter(Boolean);
  if (parts.length === 1 && parts[0] === "user") {
    return jsonReply(200, { login: "emulator-bot", id: 1, type: "User", name: "Emulator Bot" });
  }
  if (parts[0] !== "repos" || parts.length < 3) return notFound();
  const repoName = `${decodeURIComponent(parts[1] as string)}/${decodeURIComponent(parts[2] as string)}`;
  const repo = ctx.repos.get(repoName.toLowerCase());
  if (!repo) return notFound();
  const route: Route = {
    api,
    web,
    url,
    format: mediaFormat(request.headers.get("accept")),
    repo,
    rest: parts.slice(4),
  };
  const section = parts[3];
  if (section === undefined) {
    const [owner, name] = repo.name.split("/");
    return jsonReply(200, {
      id: 1,
      name,
      full_name: repo.name,
      owner: { login: owner },
      private: false,
      html_url: `${web}/${repo.name}`,
      default_branch: await defaultBranch(repo.dir),
    });
  }
  if (section === "branches" && route.rest.length > 0) return branchRoute(route, ctx.redirects);
  if (section === "commits" && route.rest.length === 0) return commitListRoute(route);
  if (section === "commits") return commitRoute(route);
  if (section === "compare" && route.rest.length > 0) return compareRoute(route);
  return notFound();
}
