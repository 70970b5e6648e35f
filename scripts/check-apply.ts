/**
 * `npm run check:apply -- DIR`: reproduces `%prep` for every package repository in DIR (bare or
 * not, e.g. openEuler package repositories brought by the search tool's fetch, one folder
 * `<owner>+<pkg>/repo` each) and reports for how many the package's own patches apply on
 * its archive the way %prep applies them. Exits 0 with a message when DIR is absent.
 *
 * Categories: `ok`; `absent` (no spec, or the archive is not in the repository — large archives
 * are left out of some copies); `unsupported` (the %prep or archive uses a form the check does
 * not reproduce); `failed` (the forms are supported but the reproduction went wrong).
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { git } from "../src/git.ts";
import { DEFAULT_SOURCE_LIMITS, Deadline, NotCheckedError } from "../src/scan/sources/limits.ts";
import { gitPackageFiles } from "../src/scan/sources/package-files.ts";
import { reproducePrep } from "../src/scan/sources/reproduce.ts";

type Category = "ok" | "absent" | "unsupported" | "failed";

interface Row {
  pkg: string;
  category: Category;
  /** %prep holds only %setup/%autosetup/%autopatch/%patch lines. */
  onlySupported: boolean;
  detail: string;
  ms: number;
}

function gitDirOf(folder: string): string | null {
  for (const candidate of [join(folder, "repo"), join(folder, ".git"), folder]) {
    if (existsSync(join(candidate, "HEAD")) && existsSync(join(candidate, "objects")))
      return candidate;
  }
  return null;
}

function categorise(reason: string): Category {
  if (/^no archive found|^no .*\.spec in the repository/.test(reason)) return "absent";
  if (
    /^unsupported|has no %setup|macros this check does not expand|^the spec has no Source/.test(
      reason,
    )
  ) {
    return "unsupported";
  }
  return "failed";
}

async function checkOne(folder: string, pkg: string): Promise<Row> {
  const started = Date.now();
  const repo = gitDirOf(folder);
  if (!repo)
    return { pkg, category: "absent", onlySupported: false, detail: "no git repository", ms: 0 };
  const names = (await git(["ls-tree", "--name-only", "HEAD"], { cwd: repo })).split("\n");
  const spec = names.includes(`${pkg}.spec`)
    ? `${pkg}.spec`
    : names.filter((n) => n.endsWith(".spec"))[0];
  const work = mkdtempSync(join(tmpdir(), "pt-check-apply-"));
  try {
    const prepared = await reproducePrep({
      files: gitPackageFiles(repo, "HEAD", join(work, "blobs")),
      specPath: spec ?? `${pkg}.spec`,
      work: join(work, "tree"),
      limits: DEFAULT_SOURCE_LIMITS,
      deadline: new Deadline(DEFAULT_SOURCE_LIMITS.timeoutMs),
    });
    return {
      pkg,
      category: "ok",
      onlySupported: prepared.plan.ignored.length === 0,
      detail: `${prepared.archive}: ${prepared.applied} patch(es) applied${prepared.notes.length ? `; ${prepared.notes.join("; ")}` : ""}`,
      ms: Date.now() - started,
    };
  } catch (error) {
    if (!(error instanceof NotCheckedError)) throw error;
    const category = categorise(error.reason);
    return {
      pkg,
      category,
      onlySupported: category === "failed",
      detail: error.reason,
      ms: Date.now() - started,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const dir = process.argv[2];
  if (!dir || !existsSync(dir)) {
    console.log(`check:apply: no package folder ${dir ?? "(none given)"}; skipped`);
    process.exit(0);
  }
  const rows: Row[] = [];
  for (const name of readdirSync(dir).sort()) {
    const folder = join(dir, name);
    if (!gitDirOf(folder)) continue;
    const pkg = name.includes("+") ? name.slice(name.indexOf("+") + 1) : name.replace(/\.git$/, "");
    const row = await checkOne(folder, pkg);
    rows.push(row);
    console.log(
      `${row.pkg.padEnd(16)} ${row.category.padEnd(11)} ${String(row.ms).padStart(6)} ms  ${row.onlySupported ? "" : "[shell lines] "}${row.detail}`,
    );
  }
  const count = (f: (row: Row) => boolean) => rows.filter(f).length;
  const measured = rows.filter((row) => row.category === "ok" || row.category === "failed");
  const strict = measured.filter((row) => row.onlySupported);
  const pct = (a: number, b: number) => (b === 0 ? "-" : `${((100 * a) / b).toFixed(1)} %`);
  console.log(
    `\npackages: ${rows.length}; ok ${count((r) => r.category === "ok")}, failed ${count((r) => r.category === "failed")}, ` +
      `unsupported ${count((r) => r.category === "unsupported")}, absent ${count((r) => r.category === "absent")}`,
  );
  console.log(
    `reproduced: ${pct(
      count((r) => r.category === "ok" && r.onlySupported),
      strict.length,
    )} of the ${strict.length} packages whose %prep uses only the supported forms; ` +
      `${pct(
        count((r) => r.category === "ok"),
        measured.length,
      )} of the ${measured.length} with supported forms plus shell lines`,
  );
}
