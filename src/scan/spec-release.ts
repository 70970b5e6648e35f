/**
 * Finding and bumping the main package's Release, and reading its Version for the changelog.
 * A bump only ever increments a literal leading integer — in the tag itself or, when Release is
 * a macro, in the `%global`/`%define` line(s) it leads to — and keeps the rest verbatim.
 */
import type { SpecModel } from "./spec-lines.ts";
import {
  expandSimple,
  type MacroDefinition,
  macroDefinitions,
  type Tag,
  tagsNamed,
} from "./spec-tags.ts";

/** Why the Release could not be bumped safely; the caller turns it into a SpecEditError. */
export class ReleaseError extends Error {}

/** One literal integer that carries the release number, somewhere on a physical line. */
interface Target {
  line: number;
  column: number;
  digits: string;
}

export interface ReleaseBump {
  /** Physical line → new text. */
  edits: Map<number, string>;
  /** The release before and after, with the macros on the followed path resolved (`3%{?dist}`). */
  from: string;
  to: string;
}

const LEADING_NUMBER = /^\d+/;
const LEADING_MACRO = /^%(?:\{\??([A-Za-z_]\w*)\}|([A-Za-z_]\w*))/;
const MAX_DEPTH = 6;

interface Resolved {
  targets: Target[];
  /** What follows the number on the first path, macros on that path resolved. */
  suffix: string;
}

function resolve(
  value: string,
  line: number,
  column: number,
  before: number,
  definitions: MacroDefinition[],
  seen: string[],
): Resolved {
  const number = LEADING_NUMBER.exec(value);
  if (number) {
    return {
      targets: [{ line, column, digits: number[0] }],
      suffix: value.slice(number[0].length),
    };
  }
  const macro = LEADING_MACRO.exec(value);
  const name = macro?.[1] ?? macro?.[2];
  if (!macro || !name) {
    throw new ReleaseError(`Release "${value}" does not start with a number or a macro`);
  }
  if (name === "autorelease") {
    throw new ReleaseError(
      "Release is %autorelease (computed by rpmautospec); it cannot be bumped",
    );
  }
  if (seen.includes(name) || seen.length >= MAX_DEPTH) {
    throw new ReleaseError(`Release macro %{${name}} is defined recursively or nested too deeply`);
  }
  const found = definitions.filter((def) => def.name === name && def.index < before);
  if (found.length === 0) {
    throw new ReleaseError(`Release uses %{${name}}, which this spec does not define`);
  }
  const rest = value.slice(macro[0].length);
  const paths = found.map((def) => {
    if (def.continued) {
      throw new ReleaseError(`Release macro %{${name}} is defined over several lines`);
    }
    return resolve(def.value, def.line, def.valueColumn, def.index, definitions, [...seen, name]);
  });
  return {
    targets: paths.flatMap((path) => path.targets),
    suffix: (paths[0]?.suffix ?? "") + rest,
  };
}

function bumped(digits: string): string {
  return String(Number.parseInt(digits, 10) + 1).padStart(digits.length, "0");
}

/**
 * Bumps the main package's Release. Every Release tag of the main preamble counts (a spec may
 * set it in several `%if` branches); all must resolve to literal numbers, and those numbers must
 * agree, or nothing is guessed and a ReleaseError says why.
 */
export function bumpRelease(model: SpecModel, tags: Tag[]): ReleaseBump {
  const releases = tagsNamed(tags, "Release", true);
  const first = releases[0];
  if (!first) throw new ReleaseError("the main package has no Release tag");
  const definitions = macroDefinitions(model);
  let suffix = "";
  const targets = new Map<string, Target>();
  for (const tag of releases) {
    if (tag.continued) throw new ReleaseError("the Release tag continues over several lines");
    const resolved = resolve(tag.value, tag.line, tag.valueColumn, tag.index, definitions, []);
    if (tag === first) suffix = resolved.suffix;
    for (const target of resolved.targets) targets.set(`${target.line}:${target.column}`, target);
  }
  const numbers = new Set(
    [...targets.values()].map((target) => Number.parseInt(target.digits, 10)),
  );
  if (numbers.size !== 1) {
    throw new ReleaseError(
      `Release is set to different numbers (${[...numbers].join(", ")}) in different places`,
    );
  }
  const edits = new Map<number, string>();
  // Right to left, so two numbers on one line keep their columns.
  const ordered = [...targets.values()].sort((a, b) => a.line - b.line || b.column - a.column);
  let old = "";
  let next = "";
  for (const target of ordered) {
    const text = edits.get(target.line) ?? model.lines[target.line]?.text ?? "";
    old = target.digits;
    next = bumped(target.digits);
    edits.set(
      target.line,
      text.slice(0, target.column) + next + text.slice(target.column + target.digits.length),
    );
  }
  return { edits, from: old + suffix, to: next + suffix };
}

/**
 * The main package's Version as text for the changelog: simple spec-defined macros expanded,
 * anything else verbatim (rpm expands it when building). `%{version}` when there is no tag.
 */
export function mainVersion(model: SpecModel, tags: Tag[]): string {
  const tag = tagsNamed(tags, "Version", true)[0];
  if (!tag || tag.continued || tag.value === "") return "%{version}";
  return expandSimple(tag.value, macroDefinitions(model), tag.index);
}

/**
 * `E:` for the changelog when the main package has an Epoch (rpmlint compares the newest entry
 * with `[epoch:]version-release`), else "".
 */
export function epochPrefix(model: SpecModel, tags: Tag[]): string {
  const tag = tagsNamed(tags, "Epoch", true)[0];
  if (!tag || tag.continued || tag.value === "") return "";
  return `${expandSimple(tag.value, macroDefinitions(model), tag.index)}:`;
}

/** The release as a changelog shows it: without the distribution suffix macro. */
export function changelogRelease(release: string): string {
  return release.replace(/%\{[?!]*dist\}|%dist(?![A-Za-z0-9_])/g, "");
}
