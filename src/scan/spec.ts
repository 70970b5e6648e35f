/**
 * The spec editor: given a package's spec text and a batch of upstream patches, returns the spec
 * that declares (and, where %prep applies patches one by one, applies) them, with Release bumped
 * and a %changelog entry. Pure: no I/O, the same input always gives the same text.
 *
 * It changes only what it must — the Release number, new lines after existing ones — and keeps
 * every other byte (line endings, tabs, trailing whitespace, a missing final newline). When it
 * cannot be sure of an edit (Release through %autorelease or an unresolvable macro, ...) it
 * refuses with a SpecEditError instead of guessing.
 */
import { escapePercent, formatChangelogDate, readChangelog, utcDay } from "./spec-changelog.ts";
import {
  afterBlocks,
  LineEdits,
  parseSpecModel,
  type SpecModel,
  sectionBody,
} from "./spec-lines.ts";
import {
  type ApplyStyle,
  analysePrep,
  type Declaration,
  effectiveNumbers,
  patchDeclarations,
} from "./spec-patches.ts";
import {
  bumpRelease,
  changelogRelease,
  epochPrefix,
  mainVersion,
  ReleaseError,
} from "./spec-release.ts";
import { preambleTags, type Tag, tagsNamed } from "./spec-tags.ts";

/** One upstream commit's patch file, as it sits next to the spec. */
export interface SpecPatch {
  sha: string;
  /** `<sha>.patch` */
  fileName: string;
}

export interface SpecEditRequest {
  /** Current spec text; null or "" (or only whitespace) when the repository has none. */
  spec: string | null;
  /** Repository name, used as Name when a spec has to be created. */
  packageName: string;
  /** Patches in upstream order, oldest first. Empty: nothing is edited. */
  patches: SpecPatch[];
  /** First and last upstream sha of the batch, quoted in the changelog entry. */
  fromSha: string;
  toSha: string;
  /** "Today"; its UTC calendar day dates the changelog entry. */
  date: Date;
  /** Changelog author, e.g. `patch-tracking <bot@example.org>`. Default `patch-tracking`. */
  author?: string;
}

export interface SpecEditResult {
  text: string;
  /** True when there was no spec and a minimal one was written. */
  created: boolean;
  /** Main package's release before and after (macros on the bumped path resolved). */
  release: { from: string; to: string } | null;
  /** The patch number rpm gives each requested patch, same order as `patches`. */
  patchNumbers: number[];
  /** How %prep applies the new patches ("explicit": apply lines were added). */
  applyStyle: ApplyStyle;
  /** What a maintainer should know about this edit (shown in the issue). */
  notes: string[];
}

/** The spec cannot be edited safely; `reason` says why in a sentence fit for the issue. */
export class SpecEditError extends Error {
  constructor(readonly reason: string) {
    super(`cannot edit spec: ${reason}`);
    this.name = "SpecEditError";
  }
}

const FIRST_TRACKED_NUMBER = 6000;
const DEFAULT_AUTHOR = "patch-tracking";

/**
 * Declared patch files of a spec (Patch tags and %patchlist entries), for resuming a run: true
 * when every one of `patches` is already declared, i.e. this edit was already made.
 */
export function specAlreadyHasPatches(spec: string, patches: SpecPatch[]): boolean {
  const model = parseSpecModel(spec);
  const declared = new Set(patchDeclarations(model, preambleTags(model)).map((d) => d.file));
  return patches.every((patch) => declared.has(patch.fileName));
}

/**
 * Edits (or creates) a spec for one batch of upstream patches. Throws SpecEditError when the
 * spec cannot be changed safely; never throws anything else for any input text.
 */
export function editSpec(request: SpecEditRequest): SpecEditResult {
  const text = request.spec ?? "";
  if (request.patches.length === 0) {
    return {
      text,
      created: false,
      release: null,
      patchNumbers: [],
      applyStyle: "none",
      notes: ["no patches in this batch; the spec was left unchanged"],
    };
  }
  if (text.trim() === "") return createSpec(request);

  const model = parseSpecModel(text);
  const tags = preambleTags(model);
  const notes: string[] = [];
  const edits = new LineEdits();

  const declarations = patchDeclarations(model, tags);
  const declaredNumbers = effectiveNumbers(declarations);
  const existing = new Map<string, number>();
  declarations.forEach((declaration, i) => {
    if (!existing.has(declaration.file)) existing.set(declaration.file, declaredNumbers[i] ?? 0);
  });
  const fresh = request.patches.filter((patch) => !existing.has(patch.fileName));
  const repeated = request.patches.length - fresh.length;
  if (repeated > 0) {
    notes.push(
      `${repeated} of the patch files were already declared in the spec and were not added again`,
    );
  }
  if (fresh.length === 0) {
    return {
      text,
      created: false,
      release: null,
      patchNumbers: request.patches.map((patch) => existing.get(patch.fileName) ?? 0),
      applyStyle: analysePrep(model, 0, 0).style,
      notes,
    };
  }

  let release: ReturnType<typeof bumpRelease>;
  try {
    release = bumpRelease(model, tags);
  } catch (error) {
    if (error instanceof ReleaseError) throw new SpecEditError(error.message);
    throw error;
  }
  for (const [line, replaced] of release.edits) edits.replace(line, replaced);

  const placed = placePatches(model, tags, declarations, fresh, notes);
  edits.insertAfter(placed.afterLine, placed.lines);
  const numberOf = new Map(fresh.map((patch, i) => [patch.fileName, placed.numbers[i] ?? 0]));
  const applyStyle = addApplyLines(model, edits, placed.numbers, notes);

  const version = epochPrefix(model, tags) + mainVersion(model, tags);
  addChangelogEntry(model, edits, request, version, release.to, notes);
  return {
    text: edits.render(model),
    created: false,
    release: { from: release.from, to: release.to },
    patchNumbers: request.patches.map(
      (patch) => numberOf.get(patch.fileName) ?? existing.get(patch.fileName) ?? 0,
    ),
    applyStyle,
    notes,
  };
}

/**
 * Makes %prep apply the new patches when it applies patches one by one (a `%patch -P N` line
 * each, after the last existing one); notes when nothing in %prep applies them.
 */
function addApplyLines(
  model: SpecModel,
  edits: LineEdits,
  numbers: number[],
  notes: string[],
): ApplyStyle {
  const first = numbers[0] ?? 0;
  const last = numbers.at(-1) ?? first;
  const prep = analysePrep(model, first, last);
  if (prep.oldForm) {
    notes.push(
      '%prep uses the old "%patchN" form, which rpm 4.20 and later reject ("%patch -P N" works everywhere)',
    );
  }
  if (prep.style === "none") {
    notes.push(
      "%prep has no %autosetup, %autopatch or %patch line: the new patches are declared but nothing applies them; apply them by hand",
    );
  }
  if (prep.style !== "explicit" || prep.insertAfter === null) return prep.style;
  const anchor = afterBlocks(model, prep.insertAfter);
  const applyLine = model.logical[prep.insertAfter];
  const anchorLine = anchor === null ? undefined : model.logical[anchor];
  if (!anchorLine || !applyLine) {
    throw new SpecEditError(
      "the last %patch line of %prep sits in a %if block that %prep does not close",
    );
  }
  const indent = /^\s*/.exec(model.lines[applyLine.start]?.text ?? "")?.[0] ?? "";
  const lines = numbers.map((number) => `${indent}%patch -P ${number} -p${prep.strip}`);
  edits.insertAfter(anchorLine.end, lines);
  const added = `added ${lines.length} "%patch -P N -p${prep.strip}" line(s)`;
  notes.push(
    prep.partialAutopatch
      ? `%autopatch in %prep does not cover patch ${first}–${last}; ${added} to apply them`
      : `%prep applies patches one by one; ${added} after "${anchorLine.text.trim()}"`,
  );
  return prep.style;
}

interface Placement {
  /** Physical line the new declarations follow. */
  afterLine: number;
  lines: string[];
  numbers: number[];
}

/**
 * Chooses where and how the new patches are declared. Normally `PatchNNNN:` tags after the last
 * Patch tag (or the last Source tag, or the last main-package tag), numbered from
 * max(6000, highest + 1). A spec that lists patches in `%patchlist` gets them appended there
 * instead: an unnumbered entry after a new high-numbered tag would be renumbered after it, which
 * would reorder what %autosetup applies.
 *
 * New declarations never go inside a `%if`/`%ifarch` block, even when the last existing one is
 * there: an upstream fix is meant for every build, and inside `%ifarch aarch64` it would be
 * undeclared — so silently not applied — everywhere else. They go after the block's `%endif`.
 */
function placePatches(
  model: SpecModel,
  tags: Tag[],
  declarations: Declaration[],
  patches: SpecPatch[],
  notes: string[],
): Placement {
  const patchlists = model.sections.filter((section) => section.kind === "patchlist");
  const lastList = patchlists.at(-1);
  let anchorIndex: number;
  let lines: string[];
  let explicit: (number | null)[];
  if (lastList) {
    const entries = sectionBody(lastList).filter((index) => {
      const logical = model.logical[index];
      return logical && !logical.comment && logical.text.trim() !== "";
    });
    anchorIndex = entries.at(-1) ?? lastList.header;
    lines = patches.map((patch) => patch.fileName);
    explicit = patches.map(() => null);
  } else {
    const model_ = modelTag(tags);
    if (!model_)
      throw new SpecEditError("the main package has no preamble tags to add Patch lines after");
    anchorIndex = model_.index;
    const highest = Math.max(-1, ...effectiveNumbers(declarations));
    const first = Math.max(FIRST_TRACKED_NUMBER, highest + 1);
    explicit = patches.map((_, i) => first + i);
    lines = patches.map((patch, i) => patchLine(model, model_, first + i, patch.fileName));
  }
  const anchor = afterBlocks(model, anchorIndex);
  if (anchor === null) {
    throw new SpecEditError(
      "the last patch declaration sits in a %if block that is not closed in the same section",
    );
  }
  if (anchor !== anchorIndex) {
    notes.push(
      "the last existing patch declaration is inside a %if block; the new ones were added after its %endif so they apply whatever the condition",
    );
  }
  const numbers = checkedNumbers(declarations, anchor, explicit);
  if (lastList) {
    notes.push(
      `the spec lists patches in %patchlist, so the new ones were appended there (rpm numbers them ${numbers[0]}–${numbers.at(-1)}) to keep them after the existing entries`,
    );
  }
  const anchorLine = model.logical[anchor];
  return { afterLine: anchorLine?.end ?? 0, lines, numbers };
}

/** The tag whose line the new Patch lines follow and whose layout they copy. */
function modelTag(tags: Tag[]): Tag | undefined {
  return (
    tagsNamed(tags, "Patch").at(-1) ??
    tagsNamed(tags, "Source").at(-1) ??
    tags.filter((tag) => tag.section === 0).at(-1)
  );
}

/**
 * Numbers rpm will give the new declarations once inserted after logical line `anchor`, after
 * checking that every existing declaration keeps its number and no number is used twice.
 */
function checkedNumbers(
  declarations: Declaration[],
  anchor: number,
  explicit: (number | null)[],
): number[] {
  const before = effectiveNumbers(declarations);
  const merged = [
    ...declarations.map((declaration, i) => ({
      declaration,
      old: i as number | null,
      at: declaration.index,
    })),
    ...explicit.map((number) => ({
      declaration: { index: anchor, explicit: number, file: "" } as Declaration,
      old: null,
      at: anchor + 0.5,
    })),
  ].sort((a, b) => a.at - b.at);
  const after = effectiveNumbers(merged.map((entry) => entry.declaration));
  const fresh: number[] = [];
  merged.forEach((entry, i) => {
    const number = after[i] ?? -1;
    if (entry.old === null) fresh.push(number);
    else if (before[entry.old] !== number) {
      throw new SpecEditError(
        `adding the patches would renumber the existing patch "${entry.declaration.file}"`,
      );
    }
  });
  if (new Set(after).size !== after.length && new Set(before).size === before.length) {
    throw new SpecEditError("adding the patches would give two patches the same number");
  }
  return fresh;
}

/** Width of text on screen with tabs every 8 columns. */
function columns(text: string): number {
  let width = 0;
  for (const c of text) width = c === "\t" ? width + 8 - (width % 8) : width + 1;
  return width;
}

/** `PatchNNNN: file`, indented and aligned like `model` (tabs if it uses tabs, else spaces). */
function patchLine(model: SpecModel, tag: Tag, number: number, file: string): string {
  const line = model.lines[tag.line]?.text ?? "";
  const prefix = line.slice(0, tag.valueColumn);
  const indent = /^[ \t]*/.exec(prefix)?.[0] ?? "";
  const gap = prefix.slice(prefix.lastIndexOf(":") + 1);
  const head = `${indent}Patch${number}:`;
  const target = columns(prefix);
  let separator = " ";
  if (gap.includes("\t")) {
    separator = "\t";
    while (columns(head + separator) < target) separator += "\t";
  } else if (gap !== "") {
    separator = " ".repeat(Math.max(1, target - columns(head)));
  }
  return head + separator + file;
}

function addChangelogEntry(
  model: SpecModel,
  edits: LineEdits,
  request: SpecEditRequest,
  version: string,
  release: string,
  notes: string[],
): void {
  const changelog = readChangelog(model);
  const today = utcDay(request.date);
  let date = today;
  if (changelog.top && changelog.top.getTime() > today.getTime()) {
    date = changelog.top;
    notes.push(
      `the newest %changelog entry is dated ${formatChangelogDate(changelog.top)}, after today; the new entry carries the same date so the entries stay in order`,
    );
  }
  if (changelog.disorder) {
    notes.push(
      `%changelog was already out of date order ("${changelog.disorder.above}" is above the newer "${changelog.disorder.below}"), which rpmbuild rejects; left as it was`,
    );
  }
  const entry = changelogEntry(request, date, version, release);
  const header = model.logical[changelog.header];
  if (header) {
    edits.insertAfter(header.end, changelog.blankAfterHeader ? entry : [...entry, ""]);
    return;
  }
  const last = model.lines.length - 1;
  const blank = model.lines[last]?.text.trim() === "";
  edits.insertAfter(last, [...(blank ? [] : [""]), "%changelog", ...entry]);
}

function changelogEntry(
  request: SpecEditRequest,
  date: Date,
  version: string,
  release: string,
): string[] {
  const author = escapePercent(request.author ?? DEFAULT_AUTHOR);
  return [
    `* ${formatChangelogDate(date)} ${author} - ${version}-${changelogRelease(release)}`,
    `- append patch file of upstream repository from <${escapePercent(request.fromSha)}> to <${escapePercent(request.toSha)}>`,
  ];
}

/**
 * A minimal spec for a repository without one. The original wrote just the Patch lines and a
 * changelog entry (Version 0.0, Release 1) into an otherwise empty file; this keeps that content
 * and adds the few tags and sections rpm needs to parse it, so the PR is at least readable by rpm.
 */
function createSpec(request: SpecEditRequest): SpecEditResult {
  const name = escapePercent(request.packageName);
  const numbers = request.patches.map((_, i) => FIRST_TRACKED_NUMBER + i);
  const lines = [
    `# Written by patch-tracking because the repository had no ${name}.spec.`,
    "# Complete it (sources, build steps, files) before building the package.",
    `Name:           ${name}`,
    "Version:        0.0",
    "Release:        1",
    `Summary:        Upstream patches for ${name}`,
    "License:        Unknown",
    "",
    ...request.patches.map((patch, i) => `Patch${numbers[i]}:      ${patch.fileName}`),
    "",
    "%description",
    `Upstream patches for ${name}, collected by patch-tracking.`,
    "",
    "%changelog",
    ...changelogEntry(request, utcDay(request.date), "0.0", "1"),
  ];
  return {
    text: `${lines.join("\n")}\n`,
    created: true,
    release: null,
    patchNumbers: numbers,
    applyStyle: "none",
    notes: [
      `the repository had no ${request.packageName}.spec; a minimal one was created that declares the patches — complete it (Source, %prep, %build, %install, %files) before it can build`,
    ],
  };
}
