/**
 * Patch declarations of a spec and how `%prep` applies them.
 *
 * Numbering follows rpm ≥ 4.15 (build/parsePreamble.c): an unnumbered `Patch:` or a `%patchlist`
 * entry takes the number after the highest one declared so far in file order. Declarations inside
 * `%if` blocks all count, which gives an upper bound whatever the conditions turn out to be.
 */
import { type SpecModel, sectionBody } from "./spec-lines.ts";
import { type Tag, tagsNamed } from "./spec-tags.ts";

export interface Declaration {
  /** Logical index. */
  index: number;
  /** Explicit number, or null for an unnumbered `Patch:` / `%patchlist` entry. */
  explicit: number | null;
  file: string;
}

/** Every patch declaration in file order: Patch tags and `%patchlist` entries. */
export function patchDeclarations(model: SpecModel, tags: Tag[]): Declaration[] {
  const out: Declaration[] = tagsNamed(tags, "Patch").map((tag) => ({
    index: tag.index,
    explicit: tag.number,
    file: tag.value,
  }));
  for (const section of model.sections) {
    if (section.kind !== "patchlist") continue;
    for (const index of sectionBody(section)) {
      const logical = model.logical[index];
      if (!logical || logical.comment || isDirective(logical.text)) continue;
      const file = logical.text.trim();
      if (file !== "") out.push({ index, explicit: null, file });
    }
  }
  return out.sort((a, b) => a.index - b.index);
}

/** `%if`, `%endif`, `%global`, ... lines are not file names even inside `%patchlist`. */
function isDirective(text: string): boolean {
  return /^\s*%/.test(text);
}

/** The number rpm gives each declaration, in the same order. */
export function effectiveNumbers(declarations: Declaration[]): number[] {
  let highest = -1;
  return declarations.map((declaration) => {
    const number = declaration.explicit ?? highest + 1;
    highest = Math.max(highest, number);
    return number;
  });
}

export type ApplyStyle = "autosetup" | "autopatch" | "explicit" | "none";

export interface PrepAnalysis {
  style: ApplyStyle;
  /** Logical index after which explicit apply lines go (explicit style only). */
  insertAfter: number | null;
  /** Strip level for new explicit lines. */
  strip: string;
  /** The old `%patchN` form is used (rpm ≥ 4.20 rejects it). */
  oldForm: boolean;
  /** An %autopatch exists but its range or list leaves the new numbers out. */
  partialAutopatch: boolean;
}

const AUTOSETUP = /^\s*%\{?(?:forge)?autosetup(?=[\s}]|$)(.*)$/;
const AUTOPATCH = /^\s*%\{?autopatch(?=[\s}]|$)(.*)$/;
const PATCH = /^\s*%\{?patch(\d*)(?=[\s}]|$)(.*)$/;
const STRIP = /(?:^|\s)-p\s*(\d+)/;

function words(args: string): string[] {
  return args.replace(/}\s*$/, "").trim().split(/\s+/).filter(Boolean);
}

/** Whether an `%autopatch` with these arguments applies every number in [first, last]. */
function autopatchCovers(args: string, first: number, last: number): boolean {
  const list = words(args);
  let min = Number.NEGATIVE_INFINITY;
  let max = Number.POSITIVE_INFINITY;
  for (let i = 0; i < list.length; i++) {
    const word = list[i] ?? "";
    const option = /^-([pmMF])(\d*)$/.exec(word);
    if (option) {
      const value = option[2] !== "" ? option[2] : list[++i];
      if (option[1] === "m") min = Number(value);
      if (option[1] === "M") max = Number(value);
      continue;
    }
    // A positional list applies exactly the listed patches.
    if (/^\d+$/.test(word)) return false;
  }
  return first >= min && last <= max;
}

/**
 * How `%prep` applies patches, for new patches numbered first..last: `%autosetup` without `-N`,
 * or an `%autopatch` whose range covers them, applies them with nothing to add; explicit
 * `%patch` lines (or an `%autopatch` that leaves them out) need one apply line each; otherwise
 * nothing applies numbered patches at all.
 */
export function analysePrep(model: SpecModel, first: number, last: number): PrepAnalysis {
  const prep = model.sections.find((section) => section.kind === "prep");
  const none: PrepAnalysis = {
    style: "none",
    insertAfter: null,
    strip: "1",
    oldForm: false,
    partialAutopatch: false,
  };
  if (!prep) return none;
  let autosetup = false;
  let autopatch = false;
  let partialAutopatch = false;
  let lastApply: number | null = null;
  let oldForm = false;
  const strips = new Set<string>();
  for (const index of sectionBody(prep)) {
    const logical = model.logical[index];
    if (!logical || logical.comment) continue;
    const setup = AUTOSETUP.exec(logical.text);
    if (setup) {
      if (!words(setup[1] ?? "").includes("-N")) autosetup = true;
      continue;
    }
    const auto = AUTOPATCH.exec(logical.text);
    if (auto) {
      if (autopatchCovers(auto[1] ?? "", first, last)) autopatch = true;
      else {
        partialAutopatch = true;
        lastApply = index;
        strips.add(STRIP.exec(auto[1] ?? "")?.[1] ?? "");
      }
      continue;
    }
    const patch = PATCH.exec(logical.text);
    if (patch) {
      if (patch[1]) oldForm = true;
      lastApply = index;
      strips.add(STRIP.exec(patch[2] ?? "")?.[1] ?? "");
    }
  }
  const [only] = strips;
  // Patches made by git carry a/ b/ prefixes (-p1); a different level used by every existing
  // line means the tarball sits deeper in the upstream tree (e.g. -p2 for one directory of a
  // monorepo), and the new patches come from that same tree.
  const strip = strips.size === 1 && only ? only : "1";
  if (autosetup) return { ...none, style: "autosetup", oldForm };
  if (autopatch) return { ...none, style: "autopatch", oldForm };
  if (lastApply !== null) {
    return { style: "explicit", insertAfter: lastApply, strip, oldForm, partialAutopatch };
  }
  return { ...none, oldForm };
}
