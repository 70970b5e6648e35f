/**
 * Preamble tags (`Name: value`) and simple macro definitions (`%global name value`) of a parsed
 * spec, with the column where each value starts so an edit can change just that part of a line.
 */
import type { SpecModel } from "./spec-lines.ts";

export interface Tag {
  /** Logical index. */
  index: number;
  /** Physical line. */
  line: number;
  /** Tag name as written, without a number (`Patch`, `source`, `Release`). */
  name: string;
  /** The number after Patch/Source, or null when there is none (`Patch:`). */
  number: number | null;
  value: string;
  /** Column where `value` starts on the physical line. */
  valueColumn: number;
  /** True when the logical line spans several physical lines (then it is never edited). */
  continued: boolean;
  /** Index into `SpecModel.sections`. */
  section: number;
}

export interface MacroDefinition {
  index: number;
  line: number;
  name: string;
  value: string;
  valueColumn: number;
  continued: boolean;
}

const TAG = /^\s*([A-Za-z][A-Za-z0-9]*?)(\d*)(\([^)]*\))?\s*:\s*(.*?)\s*$/;
const DEFINITION = /^(\s*%(?:global|define)\s+)([A-Za-z_]\w*)(\s+)(.*?)\s*$/;
const NUMBERED = new Set(["patch", "source"]);

/** Logical lines have a leading byte-order mark removed; columns count on the physical line. */
function bomOffset(model: SpecModel, line: number): number {
  return model.lines[line]?.text.startsWith("\uFEFF") ? 1 : 0;
}

/** Every tag line in the preamble of the main package and of subpackages, in file order. */
export function preambleTags(model: SpecModel): Tag[] {
  const tags: Tag[] = [];
  model.logical.forEach((logical, index) => {
    const kind = model.sections[logical.section]?.kind;
    if (logical.comment || logical.header) return;
    if (kind !== "preamble" && kind !== "package") return;
    const match = TAG.exec(logical.text);
    if (!match) return;
    const [, word = "", digits = "", qualifier, value = ""] = match;
    // "Patch12" splits into name + number only for Patch/Source; other tags keep their digits.
    const numbered = NUMBERED.has(word.toLowerCase()) && !qualifier;
    tags.push({
      index,
      line: logical.start,
      name: numbered ? word : word + digits,
      number: numbered && digits !== "" ? Number.parseInt(digits, 10) : null,
      value,
      valueColumn: bomOffset(model, logical.start) + logical.text.trimEnd().length - value.length,
      continued: logical.end > logical.start,
      section: logical.section,
    });
  });
  return tags;
}

/** Tags named `name` (case-insensitive), optionally only those of the main package's preamble. */
export function tagsNamed(tags: Tag[], name: string, mainOnly = false): Tag[] {
  const lower = name.toLowerCase();
  return tags.filter((tag) => tag.name.toLowerCase() === lower && (!mainOnly || tag.section === 0));
}

/** `%global` / `%define` lines (any section), in file order. */
export function macroDefinitions(model: SpecModel): MacroDefinition[] {
  const out: MacroDefinition[] = [];
  model.logical.forEach((logical, index) => {
    if (logical.comment) return;
    const match = DEFINITION.exec(logical.text);
    if (!match) return;
    const [, head = "", name = "", gap = "", value = ""] = match;
    // A parametric macro (`%define name(a:) ...`) never matches: `(` is not a space.
    out.push({
      index,
      line: logical.start,
      name,
      value,
      valueColumn: bomOffset(model, logical.start) + head.length + name.length + gap.length,
      continued: logical.end > logical.start,
    });
  });
  return out;
}

const REFERENCE = /%(?:\{(\??)([A-Za-z_]\w*)\}|([A-Za-z_]\w*))/g;

/**
 * Expands the references to spec-defined macros in `text` whose definition (before logical line
 * `before`) is unique and itself expands to plain text. Anything else stays as written, so rpm
 * still expands it at build time.
 */
export function expandSimple(
  text: string,
  definitions: MacroDefinition[],
  before: number,
  depth = 0,
): string {
  if (depth > 8) return text;
  return text.replace(REFERENCE, (whole, _optional, braced?: string, bare?: string) => {
    const name = braced ?? bare ?? "";
    const found = definitions.filter((def) => def.name === name && def.index < before);
    const def = found[0];
    if (found.length !== 1 || !def || def.continued) return whole;
    const value = expandSimple(def.value, definitions, def.index, depth + 1);
    return value.includes("%") ? whole : value;
  });
}
