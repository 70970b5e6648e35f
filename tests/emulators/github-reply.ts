/**
 * Answers of the GitHub emulator: JSON and media-type replies with GitHub's headers, ETags and
 * the Accept header's media format.
 */

export type MediaFormat = "json" | "patch" | "diff" | "sha";

export interface Reply {
  status: number;
  body?: string | Uint8Array;
  headers?: Record<string, string>;
  etag?: string;
  /** Not charged to the quota (rate-limit refusals, bad credentials). */
  free?: boolean;
}

export const DOCS = "https://docs.github.com/rest";
export const JSON_TYPE = "application/json; charset=utf-8";

export function jsonReply(status: number, body: unknown, extra: Partial<Reply> = {}): Reply {
  return {
    status,
    body: JSON.stringify(body),
    ...extra,
    headers: {
      "content-type": JSON_TYPE,
      "x-github-media-type": "github.v3; format=json",
      ...extra.headers,
    },
  };
}

/** Octokit only hands back text for a media type when the charset says UTF-8. */
export function mediaReply(format: Exclude<MediaFormat, "json">, body: string | Uint8Array): Reply {
  return {
    status: 200,
    body,
    headers: {
      "content-type": `application/vnd.github.v3.${format}; charset=utf-8`,
      "x-github-media-type": `github.v3; param=${format}`,
    },
  };
}

export function notFound(message = "Not Found"): Reply {
  return jsonReply(404, { message, documentation_url: DOCS, status: "404" });
}

export function mediaFormat(accept: string | null): MediaFormat {
  const match = /application\/vnd\.github(?:\.v3)?\.(patch|diff|sha)\b/.exec(accept ?? "");
  return (match?.[1] as MediaFormat | undefined) ?? "json";
}

export function weakEtag(body: string | Uint8Array): string {
  return `W/"${new Bun.CryptoHasher("sha1").update(body).digest("hex")}"`;
}

export function etagMatches(ifNoneMatch: string | null, etag: string): boolean {
  if (!ifNoneMatch) return false;
  const bare = (tag: string) => tag.trim().replace(/^W\//, "").replace(/^"|"$/g, "");
  return ifNoneMatch.split(",").some((tag) => tag.trim() === "*" || bare(tag) === bare(etag));
}

export function intParam(value: string | null, fallback: number): number {
  const parsed = Number.parseInt(value ?? "", 10);
  return Number.isFinite(parsed) && parsed > 0 ? parsed : fallback;
}
