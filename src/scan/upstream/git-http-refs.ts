/**
 * Branch heads of a smart-HTTP git server without starting git: one `GET
 * <url>/info/refs?service=git-upload-pack` (the ref advertisement every smart server answers,
 * protocol v0), parsed in-process. `git ls-remote` costs two round trips with protocol v2 plus
 * the start-up of git and git-remote-http; at 10,000 URLs that start-up is what dominates.
 *
 * Only the plain case is taken here: http(s) allowed by `GIT_ALLOW_PROTOCOL`, no credentials in
 * the URL, a 200 answer with the advertisement's content type that parses. Anything else (a
 * redirect, 401, 404, TLS trouble, a dumb server, an odd answer) returns null and the caller
 * asks `git ls-remote`, so errors, credentials and certificates keep git's behaviour. The one
 * exception is a host that does not answer within the look-up time: that is reported at once
 * (asking git would only wait as long again).
 */
import { TransientError } from "../../errors.ts";
import { displayUrl } from "./git-url.ts";

/** Largest advertisement read (all refs and tags of the repository); larger ones go to git. */
export const MAX_ADVERTISEMENT_BYTES = 16 * 2 ** 20;
const CONTENT_TYPE = "application/x-git-upload-pack-advertisement";

/** True when `url` may be asked in-process: http(s), allowed, no credentials, no query. */
export function advertisable(url: string, allowProtocols: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  const scheme = parsed.protocol.slice(0, -1);
  if (scheme !== "http" && scheme !== "https") return false;
  if (!allowProtocols.split(":").includes(scheme)) return false;
  return (
    parsed.username === "" && parsed.password === "" && !url.includes("?") && !url.includes("#")
  );
}

/**
 * `refs/heads/<name>` → sha from a protocol-v0 advertisement, or null when `bytes` is not one
 * (pkt-lines: `# service=git-upload-pack`, flush, `<sha> <ref>[\0caps]`…, flush).
 */
export function parseAdvertisement(bytes: Uint8Array): Map<string, string> | null {
  const decoder = new TextDecoder();
  const heads = new Map<string, string>();
  let at = 0;
  let flushes = 0; // after the service line, then after the refs
  while (at < bytes.length && flushes < 2) {
    // Each pkt-line starts with its length in bytes (four hex digits, the four included).
    const prefix = decoder.decode(bytes.subarray(at, at + 4));
    if (!/^[0-9a-f]{4}$/.test(prefix)) return null;
    const length = Number.parseInt(prefix, 16);
    if (length === 0) {
      at += 4;
      flushes++;
      continue;
    }
    if (length < 4 || at + length > bytes.length) return null;
    const line = decoder.decode(bytes.subarray(at + 4, at + length)).replace(/\n$/, "");
    at += length;
    if (flushes === 0) {
      if (line !== "# service=git-upload-pack") return null;
      continue;
    }
    const match = /^([0-9a-f]{40}|[0-9a-f]{64}) ([^\0]+)/.exec(line);
    if (!match) return null;
    const [, sha, ref] = match as unknown as [string, string, string];
    if (ref.startsWith("refs/heads/")) heads.set(ref, sha);
  }
  return flushes === 2 ? heads : null;
}

/**
 * The heads `url` advertises, or null when git should be asked instead. `request` is the
 * service's `fetch`, through its proxies.
 */
export async function advertisedHeads(
  url: string,
  timeoutMs: number,
  request: typeof fetch = fetch,
): Promise<Map<string, string> | null> {
  try {
    const response = await request(`${url.replace(/\/+$/, "")}/info/refs?service=git-upload-pack`, {
      headers: { "user-agent": "git/2 (patch-tracking)", accept: "*/*", pragma: "no-cache" },
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
    const type = response.headers.get("content-type") ?? "";
    const length = Number(response.headers.get("content-length") ?? 0);
    if (
      response.status !== 200 ||
      !type.startsWith(CONTENT_TYPE) ||
      length > MAX_ADVERTISEMENT_BYTES
    ) {
      await response.body?.cancel();
      return null;
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of response.body ?? []) {
      size += (chunk as Uint8Array).length;
      if (size > MAX_ADVERTISEMENT_BYTES) return null;
      chunks.push(chunk as Uint8Array);
    }
    return parseAdvertisement(Buffer.concat(chunks));
  } catch (error) {
    if ((error as Error | undefined)?.name === "TimeoutError") {
      throw new TransientError(
        "git",
        `git ls-remote ${displayUrl(url)}: timed out (no answer in ${timeoutMs} ms)`,
        undefined,
        "timeout",
      );
    }
    return null;
  }
}
