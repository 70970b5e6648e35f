/**
 * Addresses derived from the configured GitHub API base URL: the GraphQL endpoint and the web
 * host that commit links point at, for github.com, GitHub Enterprise Server (`/api/v3`) and
 * GitHub-compatible or local servers.
 */

function trimSlashes(url: string): string {
  return url.replace(/\/+$/, "");
}

/**
 * `https://api.github.com` → `https://api.github.com/graphql`;
 * `https://host/api/v3` → `https://host/api/graphql`; anything else → `<base>/graphql`.
 */
export function graphqlUrlFor(baseUrl: string): string {
  const base = trimSlashes(baseUrl);
  if (/\/api\/v3$/.test(base)) return base.replace(/\/api\/v3$/, "/api/graphql");
  return `${base}/graphql`;
}

/**
 * The web host for commit links: `api.github.com` → `https://github.com` (also
 * `api.X.ghe.com` → `X.ghe.com`); `https://host/api/v3` → `https://host`; otherwise the origin.
 */
export function webUrlFor(baseUrl: string): string {
  const url = new URL(trimSlashes(baseUrl));
  const host = url.hostname.startsWith("api.") ? url.host.slice(4) : url.host;
  return `${url.protocol}//${host}`;
}

/** `owner/name` split in two, or null when it is not of that form. */
export function parseRepo(repo: string): { owner: string; name: string } | null {
  const match = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/.exec(repo);
  if (!match) return null;
  return { owner: match[1] as string, name: (match[2] as string).replace(/\.git$/, "") };
}

/** `https://github.com/{owner}/{repo}/commit/{sha}` on the right host. */
export function commitWebUrl(webUrl: string, repo: string, sha: string): string {
  return `${trimSlashes(webUrl)}/${repo}/commit/${sha}`;
}
