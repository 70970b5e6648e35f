/**
 * Upstream git URLs and branch names: what is accepted, how a URL is named in messages (never
 * with its credentials), and the mirror directory name a URL maps to.
 */
import { createHash } from "node:crypto";

const SCHEME_URL = /^([a-z][a-z0-9+.-]*):\/\/./i;
/** `[user@]host:path` as git reads it: a colon before any slash. */
const SCP_LIKE = /^([^/@:]+@)?[^/:]+:/;
const USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)@/i;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we reject.
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Why `url` cannot be used as an upstream, or null. Accepted: `scheme://…`, scp-like
 * `user@host:path`, and absolute local paths. Relative paths and bare words are refused: git
 * would resolve them against its working directory or read them as a remote's name.
 */
export function urlProblem(url: string): string | null {
  if (!url) return "the git URL is empty";
  if (url.length > 2048) return "the git URL is longer than 2048 characters";
  if (CONTROL.test(url)) return "the git URL contains control characters";
  if (url.startsWith("-")) return "a git URL must not start with '-'";
  // Remote helpers that run commands or use file descriptors, whatever the protocol policy says.
  if (/^(ext|fd)::/i.test(url)) return "the ext:: and fd:: git transports are not accepted";
  if (SCHEME_URL.test(url) || url.startsWith("/") || SCP_LIKE.test(url)) return null;
  return "a git URL must be scheme://…, user@host:path or an absolute path";
}

/** Transports a `git` upstream may use unless `GIT_ALLOW_PROTOCOL` says otherwise. */
export const DEFAULT_GIT_ALLOW_PROTOCOL = "https:http:git:ssh";

/**
 * The transport git uses for `url`, in `GIT_ALLOW_PROTOCOL` words: the scheme of `scheme://…`
 * (`ssh` also for `git+ssh://` and `ssh+git://`), the helper of `helper::address`, `ssh` for the
 * scp-like `user@host:path`, and `file` for a local path.
 */
export function transportOf(url: string): string {
  const helper = /^([A-Za-z0-9][A-Za-z0-9+.-]*)::/.exec(url);
  if (helper?.[1]) return helper[1].toLowerCase();
  const scheme = SCHEME_URL.exec(url)?.[1]?.toLowerCase();
  if (scheme) return scheme === "git+ssh" || scheme === "ssh+git" ? "ssh" : scheme;
  if (url.startsWith("/")) return "file";
  return SCP_LIKE.test(url) ? "ssh" : "file";
}

/**
 * Why the transport of `url` is refused by `allowed` (colon-separated, `GIT_ALLOW_PROTOCOL`
 * syntax), or null when git may use it.
 */
export function transportProblem(url: string, allowed: string): string | null {
  const transport = transportOf(url);
  if (allowed.split(":").includes(transport)) return null;
  return `uses the '${transport}' transport, which GIT_ALLOW_PROTOCOL ("${allowed}") does not allow; the scanner could never read it`;
}

/** `url` without credentials: `https://user:secret@host/x.git` → `https://host/x.git`. */
export function displayUrl(url: string): string {
  return url.replace(USERINFO, "$1");
}

/**
 * `text` (a git error message) with every form of `url`'s credentials removed, and any other
 * `scheme://user@` prefix stripped, so it can go into errors and logs.
 */
export function scrubUrl(text: string, url: string): string {
  let out = text.split(url).join(displayUrl(url));
  const userinfo = USERINFO.exec(url)?.[2] ?? "";
  for (const part of userinfo.split(":")) {
    for (const form of new Set([part, safeDecode(part)])) {
      // Very short parts (a user name like "git") would mangle ordinary words.
      if (form.length >= 4) out = out.split(form).join("***");
    }
  }
  return out.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/\s'"@]*@/gi, "$1");
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * The mirror directory name of `url`: a readable slug of host and path plus 12 hex digits of the
 * SHA-256 of the whole URL, e.g. `github.com-openeuler-foo-3f2a9c0d1e4b.git`. Only `[a-z0-9._-]`
 * and never a leading dot, so it cannot leave the base folder or collide with work directories.
 */
export function mirrorName(url: string): string {
  const hash = createHash("sha256").update(url).digest("hex").slice(0, 12);
  const slug = displayUrl(url)
    .replace(/^[a-z][a-z0-9+.-]*:\/\//i, "")
    .replace(/^[^/@:]+@/, "")
    .replace(/\/+$/, "")
    .replace(/\.git$/i, "")
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, "-")
    .replace(/^[-._]+/, "")
    .slice(0, 60)
    .replace(/[-._]+$/, "");
  return `${slug || "repo"}-${hash}.git`;
}

/**
 * Why `branch` cannot be a branch name (git's `check-ref-format` rules for `refs/heads/<branch>`),
 * or null. A leading `-` is refused too, so a name can never be read as an option.
 */
export function branchProblem(branch: string): string | null {
  if (!branch) return "the branch name is empty";
  if (branch.length > 255) return "the branch name is longer than 255 characters";
  if (branch.startsWith("-")) return `branch name ${JSON.stringify(branch)} starts with '-'`;
  const bad =
    CONTROL.test(branch) ||
    /[ ~^:?*[\\]/.test(branch) ||
    branch.includes("..") ||
    branch.includes("@{") ||
    branch === "@" ||
    branch.endsWith(".") ||
    branch.split("/").some((part) => part === "" || part.startsWith(".") || part.endsWith(".lock"));
  return bad ? `${JSON.stringify(branch)} is not a valid git branch name` : null;
}
