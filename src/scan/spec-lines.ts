/**
 * The line structure of an RPM spec as rpm reads it: physical lines with their own line endings,
 * grouped into rpm's logical lines (backslash continuations and unclosed `%{`, `%(`, `%[`), each
 * tagged with its section and the conditional blocks (`%if`…`%endif`) around it. The editor
 * only ever replaces or inserts whole physical lines, so everything else stays byte for byte.
 */

export interface PhysicalLine {
  text: string;
  /** "\r\n", "\n", or "" for a last line without a line break. */
  eol: string;
}

export type SectionKind =
  | "preamble"
  | "package"
  | "prep"
  | "changelog"
  | "patchlist"
  | "sourcelist"
  | "other";

export interface LogicalLine {
  /** First and last physical line (inclusive). */
  start: number;
  end: number;
  /** The first physical line's text (a leading byte-order mark removed). */
  text: string;
  /** Index into `SpecModel.sections`. */
  section: number;
  /** True for the line that opens its section (`%prep`, `%package foo`, ...). */
  header: boolean;
  /** Logical indices of the `%if` lines of the conditional blocks this line sits in, outermost first. */
  blocks: number[];
  comment: boolean;
}

export interface Section {
  kind: SectionKind;
  /** Logical index of the header line; -1 for the main preamble. */
  header: number;
  /** Logical indices [from, to] inclusive; to < from for an empty section. */
  from: number;
  to: number;
}

export interface SpecModel {
  lines: PhysicalLine[];
  logical: LogicalLine[];
  sections: Section[];
  /** Logical index of each `%if` line's matching `%endif` (absent when unclosed). */
  endifOf: Map<number, number>;
  /** The line ending most of the file uses; new lines get it when no neighbour decides. */
  eol: string;
}

// rpm's section keywords (build/parseSpec.c partList); matched case-insensitively like rpm does.
const SECTION_KINDS: Record<string, SectionKind> = {
  package: "package",
  package_help: "package", // openEuler macro that declares the "help" subpackage
  prep: "prep",
  changelog: "changelog",
  patchlist: "patchlist",
  sourcelist: "sourcelist",
};
const OTHER_SECTIONS = new Set([
  "generate_buildrequires",
  "conf",
  "build",
  "install",
  "check",
  "clean",
  "preun",
  "postun",
  "pretrans",
  "posttrans",
  "preuntrans",
  "postuntrans",
  "pre",
  "post",
  "files",
  "description",
  "triggerpostun",
  "triggerprein",
  "triggerun",
  "triggerin",
  "trigger",
  "verifyscript",
  "sepolicy",
  "filetriggerin",
  "filetrigger",
  "filetriggerun",
  "filetriggerpostun",
  "transfiletriggerin",
  "transfiletrigger",
  "transfiletriggerun",
  "transfiletriggerpostun",
  "end",
]);

const SECTION_LINE = /^\s*%([A-Za-z_]+)(?=\s|$)/;
const IF_LINE = /^\s*%(?:if|ifarch|ifnarch|ifos|ifnos)(?![A-Za-z0-9_])/;
const ENDIF_LINE = /^\s*%endif(?![A-Za-z0-9_])/;

/** Splits text into physical lines, each keeping its own line ending. "" gives no lines. */
export function splitLines(text: string): PhysicalLine[] {
  const lines: PhysicalLine[] = [];
  let at = 0;
  while (at < text.length) {
    const nl = text.indexOf("\n", at);
    if (nl === -1) {
      lines.push({ text: text.slice(at), eol: "" });
      break;
    }
    const crlf = nl > at && text[nl - 1] === "\r";
    lines.push({ text: text.slice(at, crlf ? nl - 1 : nl), eol: crlf ? "\r\n" : "\n" });
    at = nl + 1;
  }
  return lines;
}

export function joinLines(lines: PhysicalLine[]): string {
  return lines.map((line) => line.text + line.eol).join("");
}

/** The section kind a line opens, or null when it is not a section header. */
export function sectionKindOf(text: string): SectionKind | null {
  const match = SECTION_LINE.exec(text);
  if (!match?.[1]) return null;
  const word = match[1].toLowerCase();
  return SECTION_KINDS[word] ?? (OTHER_SECTIONS.has(word) ? "other" : null);
}

/**
 * Updates rpm's line-joining state over one physical line (build/parseSpec.c reads on while a
 * line ends in a backslash or a `%{`, `%(` or `%[` is still open). Returns true when the logical
 * line continues on the next physical line.
 */
function continues(text: string, open: { brace: number; paren: number; bracket: number }): boolean {
  let backslash = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    backslash = false;
    if (c === "\\") {
      if (i === text.length - 1) backslash = true;
      i++;
      continue;
    }
    if (c === "%") {
      const next = text[i + 1];
      if (next === "{") open.brace++;
      else if (next === "(") open.paren++;
      else if (next === "[") open.bracket++;
      if (next === "{" || next === "(" || next === "[" || next === "%") i++;
      continue;
    }
    if (c === "{" && open.brace > 0) open.brace++;
    else if (c === "}" && open.brace > 0) open.brace--;
    else if (c === "(" && open.paren > 0) open.paren++;
    else if (c === ")" && open.paren > 0) open.paren--;
    else if (c === "[" && open.bracket > 0) open.bracket++;
    else if (c === "]" && open.bracket > 0) open.bracket--;
  }
  return backslash || open.brace > 0 || open.paren > 0 || open.bracket > 0;
}

function dominantEol(lines: PhysicalLine[]): string {
  let crlf = 0;
  let lf = 0;
  for (const line of lines) {
    if (line.eol === "\r\n") crlf++;
    else if (line.eol === "\n") lf++;
  }
  return crlf > lf ? "\r\n" : "\n";
}

/** Reads a spec's structure. Never throws: unknown constructs are simply lines. */
export function parseSpecModel(text: string): SpecModel {
  const lines = splitLines(text);
  const logical: LogicalLine[] = [];
  const sections: Section[] = [{ kind: "preamble", header: -1, from: 0, to: -1 }];
  const endifOf = new Map<number, number>();
  const stack: number[] = [];
  let i = 0;
  while (i < lines.length) {
    const start = i;
    const open = { brace: 0, paren: 0, bracket: 0 };
    while (i < lines.length - 1 && continues(lines[i]?.text ?? "", open)) i++;
    const end = i;
    i++;
    const first = (lines[start]?.text ?? "").replace(/^\uFEFF/, "");
    const index = logical.length;
    const comment = /^\s*#/.test(first);
    const kind = comment ? null : sectionKindOf(first);
    if (kind) {
      const current = sections.at(-1);
      if (current) current.to = index - 1;
      sections.push({ kind, header: index, from: index, to: index });
    }
    const blocks = [...stack];
    if (!comment && IF_LINE.test(first)) stack.push(index);
    else if (!comment && ENDIF_LINE.test(first)) {
      const opened = stack.pop();
      if (opened !== undefined) endifOf.set(opened, index);
      blocks.pop();
    }
    logical.push({
      start,
      end,
      text: first,
      section: sections.length - 1,
      header: kind !== null,
      blocks,
      comment,
    });
  }
  const last = sections.at(-1);
  if (last) last.to = logical.length - 1;
  return { lines, logical, sections, endifOf, eol: dominantEol(lines) };
}

/**
 * Where new lines can go "after" logical line `index` without landing inside a conditional
 * block: the line itself when it is at top level, else the `%endif` closing its outermost block.
 * Returns null when that `%endif` is missing or lies in another section.
 */
export function afterBlocks(model: SpecModel, index: number): number | null {
  const line = model.logical[index];
  if (!line) return null;
  const outer = line.blocks[0];
  if (outer === undefined) return index;
  const endif = model.endifOf.get(outer);
  if (endif === undefined) return null;
  if (model.logical[endif]?.section !== line.section) return null;
  return endif;
}

/** Logical indices of a section's lines, header excluded. */
export function sectionBody(section: Section): number[] {
  const out: number[] = [];
  const from = section.header === -1 ? section.from : section.header + 1;
  for (let i = from; i <= section.to; i++) out.push(i);
  return out;
}

/** Line replacements and insertions, applied in one pass so indices never shift. */
export class LineEdits {
  private readonly replaced = new Map<number, string>();
  private readonly inserted = new Map<number, string[]>();

  /** Replaces the text of physical line `line`; its line ending stays. */
  replace(line: number, text: string): void {
    this.replaced.set(line, text);
  }

  /** Inserts lines after physical line `line`; several calls for one line keep their order. */
  insertAfter(line: number, texts: string[]): void {
    this.inserted.set(line, [...(this.inserted.get(line) ?? []), ...texts]);
  }

  /**
   * The edited text. New lines take the line ending of the line they follow (the file's usual
   * one after a last line without a break, which then stays without one at the new end).
   */
  render(model: SpecModel): string {
    const out: PhysicalLine[] = [];
    model.lines.forEach((line, index) => {
      const texts = this.inserted.get(index) ?? [];
      const text = this.replaced.get(index) ?? line.text;
      if (texts.length === 0) {
        out.push({ text, eol: line.eol });
        return;
      }
      const eol = line.eol === "" ? model.eol : line.eol;
      out.push({ text, eol });
      texts.forEach((inserted, at) => {
        out.push({ text: inserted, eol: at === texts.length - 1 && line.eol === "" ? "" : eol });
      });
    });
    return joinLines(out);
  }
}
