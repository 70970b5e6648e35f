/**
 * Rewriting a format-patch `Subject:` header from its numbered form (`[PATCH 03/30]`, as in a
 * range) to the single-commit form (`[PATCH]`), byte for byte as `git format-patch -1` writes it.
 *
 * The prefix length decides where git folds a long subject, so the folding is redone the way git
 * does it (pretty.c): a plain ASCII subject is word-wrapped at 78 columns with a one-space
 * continuation indent; anything else is one RFC 2047 `q` encoded-word per line, broken before a
 * character that would push a line past 76 columns, never inside a multi-byte character.
 */

const WIDTH = 78;
const ENCODED_WIDTH = 76;
const ENCODED_SUBJECT = /^=\?([^?]+)\?q\?([^?]*)\?=((?:\n =\?[^?]+\?q\?[^?]*\?=)*)$/i;

/** git's word wrap (utf8.c) for ASCII text: `used` columns are taken on the first line. */
function wrapPlain(text: string, used: number): string {
  let out = "";
  let i = 0;
  let bol = 0;
  let width = used;
  let indent = 0;
  // Before the first emitted word the "last space" is the start of the text.
  let space: number | null = 0;
  for (;;) {
    const c = text[i];
    if (c !== undefined && c !== " ") {
      width++;
      i++;
      continue;
    }
    if (width <= WIDTH || space === null) {
      if (c === undefined && i === bol) return out;
      let start = bol;
      if (space !== null) start = space;
      else out += " ".repeat(indent);
      out += text.slice(start, i);
      if (c === undefined) return out;
      space = i;
      width++;
      i++;
    } else {
      out += "\n";
      bol = space + (text[space] === " " ? 1 : 0);
      i = bol;
      space = null;
      width = indent = 1;
    }
  }
}

/** Splits q-encoded text into characters (multi-byte UTF-8 sequences stay together). */
function encodedCharacters(payload: string, utf8: boolean): string[] {
  const tokens = payload.match(/=[0-9A-F]{2}|[^=]/gi) ?? [];
  const chars: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    let token = tokens[i] as string;
    const lead = token.length === 3 ? Number.parseInt(token.slice(1), 16) : 0;
    const size = !utf8 || lead < 0xc0 ? 1 : lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
    for (let n = 1; n < size; n++) {
      const next = tokens[i + 1];
      const byte = next?.length === 3 ? Number.parseInt(next.slice(1), 16) : 0;
      if (byte < 0x80 || byte > 0xbf) break;
      token += next;
      i++;
    }
    chars.push(token);
  }
  return chars;
}

/** git's add_rfc2047 line breaking for already encoded characters. */
function foldEncoded(charset: string, chars: string[], used: number): string {
  let out = `=?${charset}?q?`;
  let length = used + charset.length + 5;
  for (const char of chars) {
    if (length + char.length + 2 > ENCODED_WIDTH) {
      out += `?=\n =?${charset}?q?`;
      length = charset.length + 5 + 1;
    }
    out += char;
    length += char.length;
  }
  return `${out}?=`;
}

/**
 * `header` is the whole Subject header including continuation lines and without the final
 * newline. Returns it with `[PATCH n/m]` replaced by `[PATCH]` and refolded, or unchanged when it
 * is not numbered.
 */
export function unnumberSubject(header: string): string {
  const match = /^Subject: \[PATCH \d+\/\d+\] ([\s\S]*)$/.exec(header);
  if (!match) return header;
  const value = match[1] as string;
  const prefix = "Subject: [PATCH] ";
  const encoded = ENCODED_SUBJECT.exec(value);
  if (encoded) {
    const charset = encoded[1] as string;
    const payloads = [...value.matchAll(/=\?[^?]+\?q\?([^?]*)\?=/gi)].map((word) => word[1]);
    const chars = encodedCharacters(payloads.join(""), /^utf-?8$/i.test(charset));
    return prefix + foldEncoded(charset, chars, prefix.length);
  }
  if (/[^\x20-\x7e\n]/.test(value)) return prefix + value;
  return prefix + wrapPlain(value.replaceAll("\n ", " "), prefix.length);
}
