/**
 * Splitting GitHub's compare output in the patch media type — a mailbox of `git format-patch`
 * messages — into one patch per commit, on bytes, because messages and diffs need not be UTF-8.
 *
 * Every message starts with `From <sha> Mon Sep 17 00:00:00 2001`, but a commit message may hold
 * such a line too (quoted from another patch), so a line only counts as a separator when its sha
 * is one the compare JSON listed, has not been seen yet, and the next line is the `From:` header.
 */

import { unnumberSubject } from "./github-subject.ts";

const SEPARATOR = /^From ([0-9a-f]{40}|[0-9a-f]{64}) Mon Sep 17 00:00:00 2001\n(?=From: )/gm;
function latin1(bytes: Uint8Array): string {
  // latin1 maps every byte to one code unit, so string offsets are byte offsets.
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
}

/** The Subject header with its continuation lines: numbered in a range, refolded for one. */
const SUBJECT_HEADER = /^Subject: \[PATCH \d+\/\d+\] .*(?:\n[ \t].*)*/m;

/** Drops the range numbering from the Subject so a patch does not depend on its range. */
function unnumbered(message: string): string {
  const headerEnd = message.indexOf("\n\n");
  const header = headerEnd < 0 ? message : message.slice(0, headerEnd);
  const subject = SUBJECT_HEADER.exec(header);
  if (!subject) return message;
  return (
    message.slice(0, subject.index) +
    unnumberSubject(subject[0]) +
    message.slice(subject.index + subject[0].length)
  );
}

/**
 * The messages of `mbox` whose sha is in `known`, keyed by sha, each exactly as
 * `git format-patch -1` would print it. Commits the mailbox lacks (merges, empty commits, a cut
 * output) are simply absent from the map.
 */
export function splitMbox(mbox: Uint8Array, known: ReadonlySet<string>): Map<string, Uint8Array> {
  const text = latin1(mbox);
  const starts: Array<{ index: number; sha: string }> = [];
  const seen = new Set<string>();
  for (const match of text.matchAll(SEPARATOR)) {
    const sha = match[1] as string;
    if (!known.has(sha) || seen.has(sha)) continue;
    seen.add(sha);
    starts.push({ index: match.index, sha });
  }
  const patches = new Map<string, Uint8Array>();
  starts.forEach((start, i) => {
    const next = starts[i + 1];
    let message = text.slice(start.index, next ? next.index : text.length);
    // A mailbox separates two messages with a blank line that belongs to neither.
    if (next && message.endsWith("\n\n")) message = message.slice(0, -1);
    patches.set(start.sha, new Uint8Array(Buffer.from(unnumbered(message), "latin1")));
  });
  return patches;
}

/**
 * True when a format-patch message carries no diff (an empty commit). A commit message that
 * itself has a line starting with `diff --git ` makes this answer false, which only means an
 * empty patch gets proposed; a real change is never taken for empty.
 */
export function patchIsEmpty(patch: Uint8Array): boolean {
  return !/^diff --git /m.test(latin1(patch));
}
