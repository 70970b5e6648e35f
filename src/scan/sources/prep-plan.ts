/**
 * What a spec's `%prep` does with its sources, read without running anything: the Source and
 * Patch files (macros expanded by spec-macros.ts), and the steps `%setup`, `%autosetup`,
 * `%autopatch` and `%patch` take, in order. Shell commands in `%prep` (sed, rm, cp, ...) are not
 * reproduced; they are listed so a report can say so.
 */
import { parseSpecModel, sectionKindOf } from "../spec-lines.ts";
import { evaluateCondition, MacroError, Macros } from "./spec-macros.ts";

export interface SetupStep {
  kind: "setup";
  /** Folder the build happens in, relative to the build root (`-n`, default name-version). */
  dir: string;
  /** `-c`: create `dir` and unpack inside it. */
  create: boolean;
  /** `-T` not given: Source0 is unpacked. */
  unpackMain: boolean;
  /** `-b N`: unpacked before entering `dir`; `-a N`: after. */
  before: number[];
  after: number[];
  /** `%autosetup` without `-N`: every patch, in number order, with this strip level. */
  applyAll: number | null;
}

export interface PatchStep {
  kind: "patch";
  number: number;
  strip: number;
  fuzz: number | null;
  reverse: boolean;
}

export interface AutopatchStep {
  kind: "autopatch";
  strip: number;
  /** Explicit list, or null for every patch within min..max. */
  list: number[] | null;
  min: number;
  max: number;
}

/** `cp %{SOURCEn} dest`: a file of the repository copied into the tree (done here, not run). */
export interface CopyStep {
  kind: "copy";
  source: number;
  dest: string;
}

export type PrepStep = SetupStep | PatchStep | AutopatchStep | CopyStep;

export interface PrepPlan {
  name: string;
  version: string;
  /** Source and patch file names (basenames, macros expanded) by number; null if unknown. */
  sources: Map<number, string | null>;
  patches: Map<number, string | null>;
  steps: PrepStep[];
  /** %prep lines run by rpm but not reproduced here (shell commands). */
  ignored: string[];
  /** Why %prep cannot be reproduced, when it cannot. */
  unsupported: string[];
}

const TAG = /^\s*([A-Za-z]+)(\d*)\s*:\s*(.*?)\s*$/;
const DEFINE = /^\s*%(global|define)\s+([A-Za-z_]\w*)(\([^)]*\))?\s+([\s\S]*?)\s*$/;

/** Reads the spec's patches and %prep. Never throws; problems land in `unsupported`. */
export function readPrepPlan(spec: string): PrepPlan {
  const model = parseSpecModel(spec);
  const macros = new Macros();
  const plan: PrepPlan = {
    name: "",
    version: "",
    sources: new Map(),
    patches: new Map(),
    steps: [],
    ignored: [],
    unsupported: [],
  };
  let section: string = "preamble";
  let unnumberedPatch = -1;
  // Each open %if: whether its branch is taken, whether any branch was, and the enclosing state.
  const conditions: { active: boolean; taken: boolean; parent: boolean }[] = [];
  const active = () => conditions.at(-1)?.active ?? true;
  const expandOr = (text: string): string | null => {
    try {
      return macros.expand(text);
    } catch {
      return null;
    }
  };

  for (const logical of model.logical) {
    if (logical.comment) continue;
    const text = model.lines
      .slice(logical.start, logical.end + 1)
      .map((line) => line.text)
      .join("\n")
      .replace(/\\\n/g, " ")
      .replace(/^\uFEFF/, "");
    const trimmed = text.trim();
    if (trimmed === "") continue;

    const conditional =
      /^%(if|ifarch|ifnarch|ifos|ifnos|elif|elifarch|elifnarch|else|endif)\b\s*(.*)$/.exec(trimmed);
    if (conditional) {
      const [, word = "", rest = ""] = conditional;
      if (word === "endif") {
        conditions.pop();
        continue;
      }
      if (word === "else") {
        const top = conditions.at(-1);
        if (top) {
          top.active = top.parent && !top.taken;
          top.taken = true;
        }
        continue;
      }
      const value = condition(word, rest, expandOr, plan, section);
      if (word.startsWith("elif")) {
        const top = conditions.at(-1);
        if (top) {
          top.active = top.parent && !top.taken && value;
          top.taken ||= value;
        }
        continue;
      }
      const parent = active();
      conditions.push({ active: parent && value, taken: value, parent });
      continue;
    }
    if (!active()) continue;

    const kind = sectionKindOf(trimmed);
    if (kind) {
      section = kind === "other" ? (/^%(\w+)/.exec(trimmed)?.[1] ?? "other") : kind;
      continue;
    }

    const definition = DEFINE.exec(text);
    if (definition) {
      const [, how, name = "", params, body = ""] = definition;
      if (params) continue; // parametric macros are never needed for file names or %prep
      if (how === "global") macros.global(name, body);
      else macros.define(name, body);
      continue;
    }
    const bcond = /^%bcond(_with|_without)?\s+(\w+)(?:\s+(\S+))?/.exec(trimmed);
    if (bcond) {
      const [, form, name = "", fallback] = bcond;
      const on =
        form === "_without" ||
        (form === undefined && evaluateCondition(expandOr(fallback ?? "0") ?? "0"));
      if (on && !macros.has(`with_${name}`)) macros.define(`with_${name}`, "1");
      continue;
    }
    const undefine = /^%undefine\s+(\w+)/.exec(trimmed);
    if (undefine) {
      macros.undefine(undefine[1] ?? "");
      continue;
    }

    if (section === "preamble" || section === "package") {
      const tag = TAG.exec(text);
      if (!tag) continue;
      const [, rawName = "", digits = "", value = ""] = tag;
      const name = rawName.toLowerCase();
      if (section === "preamble" && ["name", "version", "release", "epoch", "url"].includes(name)) {
        const expanded = expandOr(value) ?? value;
        macros.define(name, expanded);
        if (name === "name") plan.name = expanded;
        if (name === "version") plan.version = expanded;
        if (name === "url") macros.define("url", expanded);
        continue;
      }
      if (name !== "source" && name !== "patch") continue;
      const number =
        digits !== ""
          ? Number.parseInt(digits, 10)
          : name === "source"
            ? 0
            : Math.max(unnumberedPatch, ...plan.patches.keys()) + 1;
      if (name === "patch" && digits === "") unnumberedPatch = number;
      const file = expandOr(value);
      const base =
        file === null ? null : (file.split("/").at(-1) ?? "").split("#")[0]?.trim() || null;
      const upper = name === "source" ? "SOURCE" : "PATCH";
      if (base !== null) macros.define(`${upper}${number}`, `/rpmbuild/SOURCES/${base}`);
      (name === "source" ? plan.sources : plan.patches).set(number, base);
      continue;
    }
    if (section === "patchlist") {
      const number = Math.max(unnumberedPatch, ...plan.patches.keys()) + 1;
      unnumberedPatch = number;
      plan.patches.set(number, expandOr(trimmed));
      continue;
    }
    if (section === "prep") prepLine(trimmed, macros, plan);
  }
  return plan;
}

function condition(
  word: string,
  rest: string,
  expand: (text: string) => string | null,
  plan: PrepPlan,
  section: string,
): boolean {
  const expanded = expand(rest);
  if (word.endsWith("arch") || word.endsWith("os")) {
    const list = (expanded ?? rest).split(/[\s,]+/).filter(Boolean);
    const target = word.endsWith("arch") ? "x86_64" : "linux";
    const hit = list.includes(target);
    return word.includes("n") && word !== "ifos" && word !== "elifos" ? !hit : hit;
  }
  const value = expanded === null ? null : evaluateCondition(expanded);
  if (value === null) {
    if (section === "prep") plan.unsupported.push(`a %if that cannot be evaluated: %if ${rest}`);
    return false;
  }
  return value;
}

function options(words: string[], withValue: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (let i = 0; i < words.length; i++) {
    const word = words[i] ?? "";
    const match = /^-([A-Za-z])(.*)$/.exec(word);
    if (!match) {
      out.set("", [...(out.get("") ?? []), word]);
      continue;
    }
    const [, letter = "", glued = ""] = match;
    if (withValue.includes(letter)) {
      const value = glued !== "" ? glued : (words[++i] ?? "");
      out.set(letter, [...(out.get(letter) ?? []), value]);
    } else {
      out.set(letter, [...(out.get(letter) ?? []), ""]);
      // clustered flags such as -qn name are rare; the glued rest is another flag group
      if (glued !== "") {
        const rest = options([`-${glued}`, ...words.slice(i + 1)], withValue);
        for (const [key, values] of rest) out.set(key, [...(out.get(key) ?? []), ...values]);
        return out;
      }
    }
  }
  return out;
}

function prepLine(line: string, macros: Macros, plan: PrepPlan): void {
  const copy = /^cp\s+(?:-[apf]+\s+)*%\{?SOURCE(\d+)\}?\s+([\w.+/-]+)$/.exec(line);
  if (copy) {
    plan.steps.push({ kind: "copy", source: Number(copy[1]), dest: copy[2] ?? "." });
    return;
  }
  const command = /^%\{?(setup|autosetup|autopatch|patch(\d*))\}?(?=\s|$)(.*)$/.exec(line);
  if (!command) {
    // `%{__patch}`-style or other macros would need running; shell lines are not reproduced.
    if (/^%\{?(__patch|__scm_apply|__git)/.test(line)) {
      plan.unsupported.push(`%prep applies patches with a macro this check does not run: ${line}`);
    } else plan.ignored.push(line);
    return;
  }
  const [, word = "", oldNumber, argsText = ""] = command;
  let args: string;
  try {
    args = macros.expand(argsText);
  } catch (error) {
    const what = error instanceof MacroError ? error.what : String(error);
    plan.unsupported.push(`%${word} arguments use ${what}`);
    return;
  }
  const words = args.trim().split(/\s+/).filter(Boolean);
  const defaultDir = `${plan.name}-${plan.version}`;
  if (word === "setup" || word === "autosetup") {
    const opts = options(words, "nabpSFm");
    const scm = opts.get("S")?.[0];
    if (scm && !["git", "git_am", "patch", "gendiff", "quilt"].includes(scm)) {
      plan.unsupported.push(`%autosetup -S ${scm}`);
    }
    const strip = opts.get("p")?.[0];
    plan.steps.push({
      kind: "setup",
      dir: opts.get("n")?.at(-1) ?? defaultDir,
      create: opts.has("c"),
      unpackMain: !opts.has("T"),
      before: (opts.get("b") ?? []).map(Number),
      after: (opts.get("a") ?? []).map(Number),
      applyAll:
        word === "autosetup" && !opts.has("N")
          ? Number(strip ?? (scm?.startsWith("git") ? 1 : 0))
          : null,
    });
    return;
  }
  if (word === "autopatch") {
    const opts = options(words, "pmMF");
    const list = (opts.get("") ?? []).map(Number);
    plan.steps.push({
      kind: "autopatch",
      strip: Number(opts.get("p")?.[0] ?? 0),
      list: list.length > 0 ? list : null,
      min: Number(opts.get("m")?.[0] ?? 0),
      max: Number(opts.get("M")?.[0] ?? Number.MAX_SAFE_INTEGER),
    });
    return;
  }
  const opts = options(words, "PpFbdDzoB");
  const numbers = [
    ...(oldNumber ? [Number(oldNumber)] : []),
    ...(opts.get("P") ?? []).map(Number),
    ...(opts.get("") ?? []).filter((value) => /^\d+$/.test(value)).map(Number),
  ];
  if (numbers.length === 0) numbers.push(0);
  for (const number of numbers) {
    plan.steps.push({
      kind: "patch",
      number,
      strip: Number(opts.get("p")?.[0] ?? 0),
      fuzz: opts.has("F") ? Number(opts.get("F")?.[0]) : null,
      reverse: opts.has("R"),
    });
  }
}
