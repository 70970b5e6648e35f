/**
 * `bun scripts/check-specs.ts [corpus-dir]`: runs the spec editor over every real spec of the
 * shared corpus (`../shared/corpus/specs/*.spec`) with two fake patches and asks rpm
 * (`rpmspec --load macros.openeuler -P`) about the text before and after. Prints one row per
 * spec and a summary; exits 1 when an edit made a spec worse (it parsed before and not after,
 * rpm reports a new error, or the new patches are not declared/applied as the editor claims) or
 * when the editor crashed. A SpecEditError is a refusal: reported and counted, never a failure.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { editSpec, SpecEditError, type SpecPatch } from "../src/scan/spec.ts";
import { appliesPatch, CORPUS_DIR, rpmspecParse } from "../tests/helpers/rpmspec.ts";

export interface SpecCheck {
  spec: string;
  parsedBefore: boolean;
  /** null when the editor refused or crashed. */
  parsedAfter: boolean | null;
  release: string;
  style: string;
  outcome: "edited" | "refused" | "crashed";
  /** Why this spec counts as made worse; empty when it does not. */
  worse: string[];
  note: string;
}

export interface CorpusReport {
  rows: SpecCheck[];
  summary: string;
  failed: boolean;
}

const PATCHES: SpecPatch[] = [
  "1111111111111111111111111111111111111111",
  "2222222222222222222222222222222222222222",
].map((sha) => ({ sha, fileName: `${sha}.patch` }));

/** rpm's messages without line numbers, which an insertion shifts. */
function normalised(errors: string[]): Set<string> {
  return new Set(errors.map((error) => error.replace(/line \d+/g, "line N")));
}

/**
 * Original lines (with their line endings) missing from the edited text, in order, other than
 * the Release tag or a macro definition the bump may change. The editor only inserts lines.
 */
function changedLines(original: string, edited: string): string[] {
  const split = (text: string): string[] => text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  const after = split(edited);
  const missing: string[] = [];
  let j = 0;
  for (const line of split(original)) {
    const found = after.indexOf(line, j);
    if (found >= 0) j = found + 1;
    else if (!/^\s*(?:release\s*:|%(?:global|define)\s)/i.test(line)) missing.push(line);
  }
  return missing;
}

function checkOne(path: string): SpecCheck {
  const spec = basename(path);
  const text = readFileSync(path, "utf8");
  const load = [join(path, "..", "..", "macros.openeuler")].filter((file) => existsSync(file));
  const before = rpmspecParse(text, { load });
  const row: SpecCheck = {
    spec,
    parsedBefore: before.ok,
    parsedAfter: null,
    release: "",
    style: "",
    outcome: "edited",
    worse: [],
    note: "",
  };
  let edited: ReturnType<typeof editSpec>;
  try {
    edited = editSpec({
      spec: text,
      packageName: spec.replace(/\.spec$/, ""),
      patches: PATCHES,
      fromSha: PATCHES[0]?.sha ?? "",
      toSha: PATCHES.at(-1)?.sha ?? "",
      date: new Date(),
    });
  } catch (error) {
    if (error instanceof SpecEditError) {
      return { ...row, outcome: "refused", note: `refused: ${error.reason}` };
    }
    const message = error instanceof Error ? error.message : String(error);
    return { ...row, outcome: "crashed", worse: [`editor crashed: ${message}`], note: message };
  }
  const after = rpmspecParse(edited.text, {
    load,
    sources: PATCHES.map((patch) => patch.fileName),
  });
  row.parsedAfter = after.ok;
  row.release = edited.release ? `${edited.release.from} → ${edited.release.to}` : "";
  row.style = edited.applyStyle;
  row.note = edited.notes.join("; ");
  for (const line of changedLines(text, edited.text)) {
    row.worse.push(`changed an existing line: ${JSON.stringify(line)}`);
  }
  if (before.ok && !after.ok) row.worse.push(`no longer parses: ${after.errors.join(" ")}`);
  const known = normalised(before.errors);
  for (const error of normalised(after.errors)) {
    if (!known.has(error)) row.worse.push(`new rpm ${error}`);
  }
  // A macro this rpm does not know (Fedora's %forgeautosetup on Debian) stays unexpanded, and
  // then rpm cannot show what it applies.
  const unexpanded = /^\s*%(?:forge)?auto(?:setup|patch)\b/m.test(after.stdout);
  if (unexpanded) {
    row.note = [row.note, "apply macro not expanded by this rpm"].filter(Boolean).join("; ");
  }
  if (after.ok) {
    for (const patch of PATCHES) {
      const declared = new RegExp(`^(?:Patch\\d*:\\s*)?${patch.fileName}$`, "m");
      if (!declared.test(after.stdout)) row.worse.push(`${patch.fileName} is not declared`);
      const expected = edited.applyStyle !== "none" && !unexpanded;
      if (expected && !appliesPatch(after, patch.fileName)) {
        row.worse.push(`${patch.fileName} is not applied although %prep is "${edited.applyStyle}"`);
      }
    }
  }
  return row;
}

function yesNo(value: boolean | null): string {
  return value === null ? "-" : value ? "yes" : "no";
}

function table(rows: SpecCheck[]): string {
  const header = ["spec", "parsed", "after", "release", "apply", "note / error"];
  const cells = rows.map((row) => [
    row.spec,
    yesNo(row.parsedBefore),
    yesNo(row.parsedAfter),
    row.release,
    row.style || row.outcome,
    [...row.worse.map((worse) => `WORSE: ${worse}`), row.note].filter(Boolean).join("; "),
  ]);
  const widths = header.map((title, i) =>
    Math.max(title.length, ...cells.map((cell) => (i === 5 ? 0 : (cell[i] ?? "").length))),
  );
  const render = (cell: string[]) =>
    cell.map((value, i) => (i === 5 ? value : value.padEnd(widths[i] ?? 0))).join("  ");
  return [render(header), ...cells.map(render)].join("\n");
}

/** Checks every spec of `corpus/specs`. */
export function checkCorpus(corpus = CORPUS_DIR): CorpusReport {
  const dir = join(corpus, "specs");
  const files = readdirSync(dir)
    .filter((file) => file.endsWith(".spec"))
    .sort();
  const rows = files.map((file) => checkOne(join(dir, file)));
  const parsedBefore = rows.filter((row) => row.parsedBefore).length;
  const parsedAfter = rows.filter((row) => row.parsedAfter).length;
  const worse = rows.filter((row) => row.worse.length > 0).length;
  const refused = rows.filter((row) => row.outcome === "refused").length;
  const crashed = rows.filter((row) => row.outcome === "crashed").length;
  const summary =
    `specs: ${parsedAfter} of ${rows.length} parse after editing (${parsedBefore} parsed before); ` +
    `${worse} made worse; ${refused} refused; ${crashed} crashed`;
  return { rows, summary, failed: worse > 0 || crashed > 0 };
}

if (import.meta.main) {
  const corpus = process.argv[2] ?? CORPUS_DIR;
  if (!existsSync(join(corpus, "specs"))) {
    console.error(`check-specs: no corpus at ${join(corpus, "specs")}`);
    process.exit(2);
  }
  const report = checkCorpus(corpus);
  console.log(table(report.rows));
  console.log(report.summary);
  process.exit(report.failed ? 1 : 0);
}
