/**
 * Reading raw commit objects (`git cat-file --batch`): names, emails, dates and messages as the
 * commit stores them. Raw objects are length-prefixed bytes, so no message content (NUL, `|`,
 * lines that look like headers, non-UTF-8 text) can confuse the parser.
 */

export interface CommitObject {
  sha: string;
  authorName: string;
  authorEmail: string;
  /** Committer date in UTC, `YYYY-MM-DDTHH:MM:SSZ`. */
  committerDate: string;
  message: string;
}

/**
 * Bytes as text: the commit's declared `encoding`, else UTF-8, else Windows-1252 — a commit
 * without an encoding header whose bytes are not UTF-8 is almost always Latin-1 text written by
 * an old tool, and reads better so than with replacement characters. Never throws.
 */
export function decodeText(bytes: Uint8Array, encoding?: string): string {
  if (encoding) {
    try {
      return new TextDecoder(encoding as ConstructorParameters<typeof TextDecoder>[0]).decode(
        bytes,
      );
    } catch {
      // An unknown label: fall through to the guesses below.
    }
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return new TextDecoder("windows-1252").decode(bytes);
  }
}

/** Epoch seconds → `YYYY-MM-DDTHH:MM:SSZ`; out-of-range values give the epoch. */
export function utcSeconds(seconds: number): string {
  const date = new Date(seconds * 1000);
  if (Number.isNaN(date.getTime())) return "1970-01-01T00:00:00Z";
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

const IDENT = /^(.*?) ?<([^>]*)> (-?\d+)(?: [+-]\d{4})?$/;

function indexOfBytes(haystack: Uint8Array, needle: readonly number[], from: number): number {
  outer: for (let i = from; i <= haystack.length - needle.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** One raw commit object (`tree …\nparent …\nauthor …\n…\n\nmessage`). */
export function parseCommitObject(sha: string, raw: Uint8Array): CommitObject {
  const split = indexOfBytes(raw, [10, 10], 0);
  const headerBytes = split < 0 ? raw : raw.subarray(0, split);
  const messageBytes = split < 0 ? new Uint8Array() : raw.subarray(split + 2);
  const headers = new Map<string, Uint8Array>();
  let start = 0;
  while (start < headerBytes.length) {
    let end = headerBytes.indexOf(10, start);
    if (end < 0) end = headerBytes.length;
    const line = headerBytes.subarray(start, end);
    const space = line.indexOf(32);
    // Continuation lines (signatures) start with a space and belong to the previous header.
    if (space > 0) {
      const key = new TextDecoder().decode(line.subarray(0, space));
      if (!headers.has(key)) headers.set(key, line.subarray(space + 1));
    }
    start = end + 1;
  }
  const encodingBytes = headers.get("encoding");
  const encoding = encodingBytes ? new TextDecoder().decode(encodingBytes) : undefined;
  const ident = (key: string) =>
    IDENT.exec(decodeText(headers.get(key) ?? new Uint8Array(), encoding));
  const author = ident("author");
  const committer = ident("committer");
  return {
    sha,
    authorName: author?.[1] ?? "",
    authorEmail: author?.[2] ?? "",
    committerDate: utcSeconds(Number(committer?.[3] ?? 0)),
    message: decodeText(messageBytes, encoding).replace(/\n+$/, ""),
  };
}

/**
 * Splits `git cat-file --batch` output (`<sha> commit <size>\n<bytes>\n` per object) into
 * parsed commits, in input order. Throws naming the first object that is missing or not a commit.
 */
export function parseCatFileBatch(output: Uint8Array): CommitObject[] {
  const commits: CommitObject[] = [];
  let position = 0;
  while (position < output.length) {
    const newline = output.indexOf(10, position);
    if (newline < 0) break;
    const header = new TextDecoder().decode(output.subarray(position, newline));
    const [sha = "", type, size] = header.split(" ");
    if (type !== "commit" || size === undefined) {
      throw new Error(`object ${sha} is not a commit in the mirror (${header})`);
    }
    const end = newline + 1 + Number(size);
    commits.push(parseCommitObject(sha, output.subarray(newline + 1, end)));
    position = end + 1;
  }
  return commits;
}
