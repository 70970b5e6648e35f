/**
 * The spec editor against small inline specs, each judged by rpm itself (`rpmspec -P`): the
 * edited spec must parse without errors, declare every new patch with its number, and — when
 * %prep applies patches — expand to the command that applies it. A last test runs
 * scripts/check-specs.ts over the shared corpus of real openEuler specs.
 */
import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import {
  editSpec,
  SpecEditError,
  type SpecEditRequest,
  type SpecEditResult,
  specAlreadyHasPatches,
} from "../src/scan/spec.ts";
import { formatChangelogDate, parseChangelogDate } from "../src/scan/spec-changelog.ts";
import {
  appliesPatch,
  applyOffset,
  CORPUS_DIR,
  type RpmspecResult,
  rpmspecParse,
} from "./helpers/rpmspec.ts";

const A = "0123456789abcdef0123456789abcdef01234567";
const B = "89abcdef0123456789abcdef0123456789abcdef";
const PATCHES = [A, B].map((sha) => ({ sha, fileName: `${sha}.patch` }));
const TODAY = new Date("2024-05-10T08:00:00Z");

function edit(spec: string | null, extra: Partial<SpecEditRequest> = {}): SpecEditResult {
  return editSpec({
    spec,
    packageName: "demo",
    patches: PATCHES,
    fromSha: A,
    toSha: B,
    date: TODAY,
    ...extra,
  });
}

interface Parts {
  head?: string;
  version?: string;
  release?: string;
  patches?: string;
  prep?: string;
  middle?: string;
  changelog?: string;
}

/** A small valid spec; each part can be replaced. */
function fixture(parts: Parts = {}): string {
  return `${parts.head ?? ""}Name:           demo
Version:        ${parts.version ?? "1.2"}
Release:        ${parts.release ?? "5"}
Summary:        Demo package
License:        MIT
Source0:        demo-%{version}.tar.gz
${parts.patches ?? ""}
%description
Demo.
${parts.middle ?? ""}
%prep
${parts.prep ?? "%autosetup -p1"}

%build
true

%files

%changelog
${parts.changelog ?? "* Mon Jan 01 2024 Jane Doe <jane@example.org> - 1.2-5\n- first build\n"}`;
}

interface Expectations {
  /** Numbers the two new patches must get. */
  numbers?: number[];
  /** Declared as `PatchN:` tags (default) or as %patchlist entries. */
  declared?: "tags" | "patchlist";
  /** Whether rpm's expanded %prep must apply them. */
  applied?: boolean;
}

/** rpm's verdict on a fixture, with every `*.patch` file it names present in the source dir. */
function rpm(text: string): RpmspecResult {
  return rpmspecParse(text, { sources: text.match(/[\w.+-]+\.patch\b/g) ?? [] });
}

/** rpm accepts the edited spec, declares the new patches and (if expected) applies them. */
function expectRpmAccepts(result: SpecEditResult, expectations: Expectations = {}): RpmspecResult {
  const { numbers = [6000, 6001], declared = "tags", applied = true } = expectations;
  expect(result.patchNumbers).toEqual(numbers);
  const parsed = rpm(result.text);
  expect(parsed.errors).toEqual([]);
  expect(parsed.ok).toBe(true);
  expect(parsed.stderr).not.toContain("bogus date");
  numbers.forEach((number, i) => {
    const file = PATCHES[i]?.fileName ?? "";
    if (declared === "tags") {
      expect(parsed.stdout).toMatch(new RegExp(`^Patch${number}:\\s+${file}$`, "m"));
    } else {
      expect(parsed.stdout).toMatch(new RegExp(`^${file}$`, "m"));
    }
    expect(appliesPatch(parsed, file)).toBe(applied);
  });
  return parsed;
}

/** Where rpm's expanded %prep applies `file` (-1 when it does not). */
function applyAt(parsed: RpmspecResult, file: string): number {
  return applyOffset(parsed, file);
}

/** Lines of `text`, each with its own line ending. */
function rawLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

/**
 * The edit only inserted lines and replaced the given ones: every other original line (with its
 * line ending) is still there, in order. Returns the inserted lines.
 */
function insertedLines(original: string, edited: string, replaced: Record<string, string> = {}) {
  const before = rawLines(original);
  const after = rawLines(edited);
  const inserted: string[] = [];
  let j = 0;
  for (const line of before) {
    const expected = replaced[line] ?? line;
    while (j < after.length && after[j] !== expected) inserted.push(after[j++] ?? "");
    expect(after[j]).toBe(expected);
    j++;
  }
  inserted.push(...after.slice(j));
  return inserted;
}

describe("Release", () => {
  test("a plain number is incremented and nothing else changes", () => {
    const spec = fixture();
    const result = edit(spec);
    expect(result.release).toEqual({ from: "5", to: "6" });
    expect(result.created).toBe(false);
    const inserted = insertedLines(spec, result.text, {
      "Release:        5\n": "Release:        6\n",
    });
    expect(inserted).toEqual([
      `Patch6000:      ${A}.patch\n`,
      `Patch6001:      ${B}.patch\n`,
      "* Fri May 10 2024 patch-tracking - 1.2-6\n",
      `- append patch file of upstream repository from <${A}> to <${B}>\n`,
      "\n",
    ]);
    expectRpmAccepts(result);
  });

  test("N%{?dist} keeps the dist macro; the changelog shows the release without it", () => {
    const result = edit(fixture({ release: "3%{?dist}" }));
    expect(result.release).toEqual({ from: "3%{?dist}", to: "4%{?dist}" });
    expect(result.text).toContain("Release:        4%{?dist}\n");
    expect(result.text).toContain("* Fri May 10 2024 patch-tracking - 1.2-4\n");
    expectRpmAccepts(result);
  });

  test("3.oe1 increments the leading integer and keeps the rest verbatim", () => {
    const result = edit(fixture({ release: "3.oe1" }));
    expect(result.release).toEqual({ from: "3.oe1", to: "4.oe1" });
    expect(result.text).toContain("Release:        4.oe1\n");
    expect(result.text).toContain("patch-tracking - 1.2-4.oe1\n");
    expectRpmAccepts(result);
  });

  test("Release via %global edits the definition, not the tag", () => {
    const spec = fixture({ head: "%global _release 7\n", release: "%{_release}" });
    const result = edit(spec);
    expect(result.release).toEqual({ from: "7", to: "8" });
    insertedLines(spec, result.text, { "%global _release 7\n": "%global _release 8\n" });
    expect(result.text).toContain("Release:        %{_release}\n");
    expect(result.text).toContain("patch-tracking - 1.2-8\n");
    const parsed = expectRpmAccepts(result);
    expect(parsed.stdout).toMatch(/^Release:\s+8$/m);
  });

  test("Release via %define with a dist suffix", () => {
    const spec = fixture({ head: "%define baserelease  2\n", release: "%{baserelease}%{?dist}" });
    const result = edit(spec);
    expect(result.release).toEqual({ from: "2%{?dist}", to: "3%{?dist}" });
    insertedLines(spec, result.text, { "%define baserelease  2\n": "%define baserelease  3\n" });
    expectRpmAccepts(result);
  });

  test("a macro chain through %if branches is followed to its single literal", () => {
    const head = [
      "%define pkgrelease  1",
      "%if 0%{?openeuler}",
      "%define specrelease %{pkgrelease}",
      "%else",
      "%define specrelease %{pkgrelease}%{?dist}",
      "%endif",
      "",
    ].join("\n");
    const spec = fixture({ head, release: "%{specrelease}" });
    const result = edit(spec);
    expect(result.release).toEqual({ from: "1", to: "2" });
    insertedLines(spec, result.text, { "%define pkgrelease  1\n": "%define pkgrelease  2\n" });
    expectRpmAccepts(result);
  });

  test("Release set in both branches of an %if is bumped in both", () => {
    const release = "1%{?dist}\n%else\nRelease:        1\n%endif";
    // The first "Release:" of the fixture opens the %if.
    const spec = fixture({ release }).replace("Release:", "%if 0%{?fedora}\nRelease:");
    const result = edit(spec);
    expect(result.release).toEqual({ from: "1%{?dist}", to: "2%{?dist}" });
    expect(result.text).toContain("Release:        2%{?dist}\n%else\nRelease:        2\n%endif\n");
    expectRpmAccepts(result);
  });

  test("only the main package's Release and Version count; subpackages keep theirs", () => {
    const middle = [
      "",
      "%package -n libdemo",
      "Version:        9.9",
      "Release:        41",
      "Summary:        Library",
      "",
      "%description -n libdemo",
      "Library.",
      "",
    ].join("\n");
    const spec = fixture({ middle });
    const result = edit(spec);
    expect(result.release).toEqual({ from: "5", to: "6" });
    expect(result.text).toContain("Version:        9.9\nRelease:        41\n");
    expect(result.text).toContain("patch-tracking - 1.2-6\n");
    expectRpmAccepts(result);
  });

  test("refusals name the reason", () => {
    const cases: [Parts, RegExp][] = [
      [{ release: "%autorelease" }, /%autorelease/],
      [{ release: "%{?autorelease}" }, /%autorelease/],
      [{ release: "%{undefined_here}" }, /undefined_here.*does not define/],
      [{ head: "%global rel %(echo 3)\n", release: "%{rel}" }, /does not start with a number/],
      [{ release: "%{lua: print(3)}" }, /does not start with a number/],
      [
        { head: "%if 0%{?x}\n%global rel 2\n%else\n%global rel 3\n%endif\n", release: "%{rel}" },
        /different numbers \(2, 3\)/,
      ],
    ];
    for (const [parts, reason] of cases) {
      let caught: unknown;
      try {
        edit(fixture(parts));
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(SpecEditError);
      expect((caught as SpecEditError).reason).toMatch(reason);
    }
    expect(() => edit("Name: x\nVersion: 1\n")).toThrow(/no Release tag/);
    // A %if around the last Patch line that only closes in another section: no safe place.
    const unclosed = fixture({ patches: "%if 0%{?x}\nPatch1: one.patch\n", middle: "%endif\n" });
    expect(() => edit(unclosed)).toThrow(/not closed in the same section/);
  });
});

describe("Patch lines", () => {
  test("with no Patch lines they go after the last of several Source lines", () => {
    const spec = fixture({ patches: "Source1:        extra.conf\nSource2:        more.conf\n" });
    const result = edit(spec);
    expect(result.text).toContain(
      `Source2:        more.conf\nPatch6000:      ${A}.patch\nPatch6001:      ${B}.patch\n`,
    );
    expectRpmAccepts(result);
  });

  test("unnumbered Patch: lines count as 0, 1, ... and the new ones follow them", () => {
    const patches = "Patch:          one.patch\nPatch:          two.patch\n";
    const result = edit(fixture({ patches, prep: "%autosetup -p1\necho probe %{P:0} %{P:1}" }));
    expect(result.text).toContain(`Patch:          two.patch\nPatch6000:      ${A}.patch\n`);
    const parsed = expectRpmAccepts(result);
    const dir = parsed.sourceDir;
    expect(parsed.stdout).toContain(`echo probe ${dir}/one.patch ${dir}/two.patch\n`);
    // %autosetup applies in number order: the existing ones first.
    expect(applyAt(parsed, "two.patch")).toBeGreaterThan(applyAt(parsed, "one.patch"));
    expect(applyAt(parsed, `${A}.patch`)).toBeGreaterThan(applyAt(parsed, "two.patch"));
  });

  test("an unnumbered Patch: after a high number continues from it (rpm >= 4.15)", () => {
    const patches = "Patch7000:      high.patch\nPatch:          next.patch\n";
    const result = edit(fixture({ patches, prep: "%autosetup -p1\necho probe %{P:7001}" }));
    const parsed = expectRpmAccepts(result, { numbers: [7002, 7003] });
    expect(parsed.stdout).toContain(`echo probe ${parsed.sourceDir}/next.patch\n`);
  });

  test("existing numbers at or above 6000 are continued", () => {
    const patches = "Patch0:         zero.patch\nPatch6003:      tracked.patch\n";
    const result = edit(fixture({ patches }));
    expect(result.text).toContain(`Patch6003:      tracked.patch\nPatch6004:      ${A}.patch\n`);
    expectRpmAccepts(result, { numbers: [6004, 6005] });
  });

  test("%patchlist gets the new files appended so rpm keeps numbering them in order", () => {
    const middle = "\n%patchlist\nfirst.patch\n# a comment\nsecond.patch\n";
    const prep = "%autosetup -p1\necho probe %{P:4} %{P:5} %{P:6} %{P:7}";
    const spec = fixture({ patches: "Patch3:         three.patch\n", middle, prep });
    const result = edit(spec);
    expect(result.text).toContain(`second.patch\n${A}.patch\n${B}.patch\n`);
    expect(result.notes.join("\n")).toContain("%patchlist");
    const parsed = expectRpmAccepts(result, { numbers: [6, 7], declared: "patchlist" });
    const dir = parsed.sourceDir;
    expect(parsed.stdout).toContain(
      `echo probe ${dir}/first.patch ${dir}/second.patch ${dir}/${A}.patch ${dir}/${B}.patch\n`,
    );
    expect(applyAt(parsed, `${A}.patch`)).toBeGreaterThan(applyAt(parsed, "second.patch"));
  });

  test("patches inside %ifarch: the new ones go after the %endif, for every architecture", () => {
    const patches =
      "Patch1:         all.patch\n%ifarch aarch64\nPatch2:         arm.patch\n%endif\n";
    const result = edit(fixture({ patches }));
    expect(result.text).toContain(
      `Patch2:         arm.patch\n%endif\nPatch6000:      ${A}.patch\n`,
    );
    expect(result.notes.join("\n")).toContain("after its %endif");
    expectRpmAccepts(result);
  });

  test("layout follows the neighbouring tag: tabs, spaces, or none", () => {
    const tabbed = edit(fixture({ patches: "Patch1:\t\tone.patch\n" }));
    expect(tabbed.text).toContain(`Patch1:\t\tone.patch\nPatch6000:\t${A}.patch\n`);
    const spaced = edit(fixture({ patches: "Patch1:     one.patch\n" }));
    expect(spaced.text).toContain(`Patch1:     one.patch\nPatch6000:  ${A}.patch\n`);
    const tight = edit(fixture({ patches: "Patch1:one.patch\n" }));
    expect(tight.text).toContain(`Patch6000: ${A}.patch\n`);
    for (const result of [tabbed, spaced, tight]) expectRpmAccepts(result);
  });

  test("patch files already declared are not declared twice", () => {
    const result = edit(fixture({ patches: `Patch6000:      ${A}.patch\n` }));
    expect(result.text.split(`${A}.patch`).length - 1).toBe(1);
    expect(result.patchNumbers).toEqual([6000, 6001]);
    expect(result.notes.join("\n")).toContain("already declared");
    expectRpmAccepts(result);
  });

  test("no patches: the spec is left as it is", () => {
    const spec = fixture();
    const result = edit(spec, { patches: [] });
    expect(result.text).toBe(spec);
    expect(result.release).toBeNull();
  });
});

describe("%prep", () => {
  const explicit: [string, string][] = [
    ["%patch -P N", "%setup -q\n%patch -P 1 -p1\n"],
    ["%patch N", "%setup -q\n%patch 1 -p1\n"],
    ["%patchN", "%setup -q\n%patch1 -p1\n"],
  ];
  for (const [form, prep] of explicit) {
    test(`explicit ${form} lines get one "%patch -P N -p1" line per new patch`, () => {
      const result = edit(fixture({ patches: "Patch1:         one.patch\n", prep }));
      expect(result.applyStyle).toBe("explicit");
      expect(result.text).toContain(`${prep}%patch -P 6000 -p1\n%patch -P 6001 -p1\n`);
      expect(result.notes.join("\n")).toContain('added 2 "%patch -P N -p1" line(s)');
      const parsed = expectRpmAccepts(result);
      expect(applyAt(parsed, "one.patch")).toBeGreaterThan(0);
      expect(applyAt(parsed, `${A}.patch`)).toBeGreaterThan(applyAt(parsed, "one.patch"));
    });
  }

  test("a strip level every existing line shares is reused; mixed levels fall back to -p1", () => {
    const patches = "Patch1:         one.patch\nPatch2:         two.patch\n";
    const same = edit(fixture({ patches, prep: "%setup -q\n%patch -P 1 -p2\n%patch -P 2 -p2\n" }));
    expect(same.text).toContain("%patch -P 6000 -p2\n");
    const mixed = edit(fixture({ patches, prep: "%setup -q\n%patch -P 1 -p0\n%patch -P 2 -p2\n" }));
    expect(mixed.text).toContain("%patch -P 6000 -p1\n");
    expectRpmAccepts(same);
    expectRpmAccepts(mixed);
  });

  test("an explicit %patch inside %ifarch: new apply lines go after its %endif", () => {
    const patches = "Patch1:         one.patch\n";
    const prep = "%setup -q\n%ifarch x86_64\n%patch -P 1 -p1\n%endif\necho done\n";
    const result = edit(fixture({ patches, prep }));
    expect(result.text).toContain("%endif\n%patch -P 6000 -p1\n%patch -P 6001 -p1\necho done\n");
    expectRpmAccepts(result);
  });

  test("%autosetup -p1 applies every declared patch: nothing is added", () => {
    const spec = fixture();
    const result = edit(spec);
    expect(result.applyStyle).toBe("autosetup");
    expect(result.text).not.toContain("%patch");
    expectRpmAccepts(result, { applied: true });
  });

  test("%autosetup -N with %autopatch: nothing is added", () => {
    const result = edit(fixture({ prep: "%autosetup -N\n%autopatch -p1\n" }));
    expect(result.applyStyle).toBe("autopatch");
    expect(result.text).not.toContain("%patch -P");
    expectRpmAccepts(result);
  });

  test("an %autopatch range that ends below the new numbers gets explicit lines", () => {
    const patches = "Patch1:         one.patch\n";
    const result = edit(fixture({ patches, prep: "%autosetup -N\n%autopatch -p1 -M 99\n" }));
    expect(result.applyStyle).toBe("explicit");
    expect(result.text).toContain("%autopatch -p1 -M 99\n%patch -P 6000 -p1\n");
    expectRpmAccepts(result);
  });

  test("%setup without any patch application: declared, not applied, and said so", () => {
    const result = edit(fixture({ prep: "%setup -q" }));
    expect(result.applyStyle).toBe("none");
    expect(result.notes.join("\n")).toContain("nothing applies them");
    expectRpmAccepts(result, { applied: false });
  });
});

describe("%changelog", () => {
  test("dates are the UTC day with English names and the right weekday", () => {
    const cases: [string, string][] = [
      ["2024-02-29T12:00:00Z", "Thu Feb 29 2024"],
      ["2000-02-29T00:00:00Z", "Tue Feb 29 2000"],
      ["2023-01-01T23:59:59Z", "Sun Jan 01 2023"],
      ["2026-03-05T10:00:00Z", "Thu Mar 05 2026"],
      ["1999-12-31T12:00:00Z", "Fri Dec 31 1999"],
      ["2100-03-01T00:00:00Z", "Mon Mar 01 2100"],
      // 21:00 UTC on Feb 29, although it is already Mar 1 in UTC+5.
      ["2024-03-01T02:00:00+05:00", "Thu Feb 29 2024"],
    ];
    for (const [iso, expected] of cases) {
      expect(formatChangelogDate(new Date(iso))).toBe(expected);
      const result = edit(fixture({ changelog: "" }), { date: new Date(iso) });
      expect(result.text).toContain(`* ${expected} patch-tracking - 1.2-6\n`);
      expectRpmAccepts(result);
    }
    expect(parseChangelogDate("* Thu Feb 29 2024 x")?.toISOString()).toBe(
      "2024-02-29T00:00:00.000Z",
    );
    expect(parseChangelogDate("* Mon Mar  6 2020 x")?.toISOString()).toBe(
      "2020-03-06T00:00:00.000Z",
    );
    expect(parseChangelogDate("* Thu Feb 29 2023 x")).toBeNull();
    expect(parseChangelogDate("* Thu Dec 1 UTC x")).toBeNull();
  });

  test("a top entry dated after today is matched, never undercut", () => {
    const changelog = "* Fri Jan 01 2027 Jane Doe <jane@example.org> - 1.2-5\n- from the future\n";
    const result = edit(fixture({ changelog }));
    expect(result.text).toContain("%changelog\n* Fri Jan 01 2027 patch-tracking - 1.2-6\n");
    expect(result.notes.join("\n")).toContain("after today");
    expectRpmAccepts(result);
  });

  test("entries already out of order are left alone and reported", () => {
    const changelog = [
      "* Mon Jan 01 2024 Jane Doe <jane@example.org> - 1.2-5",
      "- older but on top",
      "",
      "* Wed Mar 06 2024 Jane Doe <jane@example.org> - 1.2-4",
      "- newer below",
      "",
    ].join("\n");
    const spec = fixture({ changelog });
    const result = edit(spec);
    insertedLines(spec, result.text, { "Release:        5\n": "Release:        6\n" });
    expect(result.notes.join("\n")).toContain("out of date order");
    const before = rpm(spec).errors;
    expect(before.join("\n")).toContain("descending chronological order");
    expect(rpm(result.text).errors).toEqual(before);
  });

  test("every % in generated text is escaped", () => {
    const result = edit(fixture(), { author: "Bot 100% <bot@example.org>" });
    expect(result.text).toContain("* Fri May 10 2024 Bot 100%% <bot@example.org> - 1.2-6\n");
    const parsed = expectRpmAccepts(result);
    expect(parsed.stdout).toContain("Bot 100% <bot@example.org>");
  });

  test("Version from a %global literal is expanded; Epoch is included", () => {
    const head = "%global major 2\n%global minor 7\nEpoch:          1\n";
    const result = edit(fixture({ head, version: "%{major}.%{minor}" }));
    expect(result.text).toContain("patch-tracking - 1:2.7-6\n");
    expectRpmAccepts(result);
  });

  test("a Version rpm computes is kept verbatim, so rpm expands it", () => {
    const result = edit(fixture({ version: "%(echo 3.1)" }));
    expect(result.text).toContain("patch-tracking - %(echo 3.1)-6\n");
    expectRpmAccepts(result);
  });

  test("no %changelog section: one is appended at the end", () => {
    const spec = fixture().replace(/%changelog\n[\s\S]*$/, "");
    const result = edit(spec);
    expect(
      result.text.endsWith(
        `%changelog\n* Fri May 10 2024 patch-tracking - 1.2-6\n- append patch file of upstream repository from <${A}> to <${B}>\n`,
      ),
    ).toBe(true);
    expectRpmAccepts(result);
  });
});

describe("bytes around the edit", () => {
  test("CRLF files stay CRLF, tabs and trailing spaces stay", () => {
    const spec = fixture({ patches: "Patch1:\tone.patch \t\n" }).replaceAll("\n", "\r\n");
    const result = edit(spec);
    expect(result.text.replaceAll("\r\n", "")).not.toContain("\n");
    insertedLines(spec, result.text, { "Release:        5\r\n": "Release:        6\r\n" });
    expect(result.text).toContain("Patch1:\tone.patch \t\r\nPatch6000:\t");
    expectRpmAccepts(result);
  });

  test("a file without a final newline still has none", () => {
    const spec = fixture().trimEnd();
    const result = edit(spec);
    expect(result.text.endsWith("- first build")).toBe(true);
    const appended = edit(spec.replace(/\n%changelog[\s\S]*$/, "\n%files"));
    expect(appended.text.endsWith(`to <${B}>`)).toBe(true);
    expect(appended.text).toContain("\n%files\n\n%changelog\n* Fri May 10 2024");
    expectRpmAccepts(result);
    expectRpmAccepts(appended);
  });

  test("odd input never crashes: it is edited or refused with a reason", () => {
    const spec = fixture({ patches: "Patch1: one.patch\n%if 0%{?x}\nPatch2: two.patch\n%endif\n" });
    const lines = spec.split("\n");
    const inputs = [
      "%if\n%{\n",
      "Release: 1\n%{lua: unclosed\n",
      "\uFEFFRelease: 2\n",
      "Release: 1\n%endif\n%endif\n%changelog\n*\n",
      ...lines.map((_, i) => lines.slice(0, i).join("\n")),
      ...lines.map((_, i) => lines.filter((__, k) => k !== i).join("\n")),
    ];
    for (const input of inputs) {
      try {
        const result = edit(input);
        expect(typeof result.text).toBe("string");
      } catch (error) {
        expect(error).toBeInstanceOf(SpecEditError);
      }
    }
  });
});

describe("a repository without a spec", () => {
  for (const spec of [null, "", " \n"]) {
    test(`${JSON.stringify(spec)} creates a minimal spec rpm can parse`, () => {
      const result = edit(spec);
      expect(result.created).toBe(true);
      expect(result.text).toContain("Name:           demo\n");
      expect(result.text).toContain("* Fri May 10 2024 patch-tracking - 0.0-1\n");
      expect(result.notes.join("\n")).toContain("minimal one was created");
      expectRpmAccepts(result, { applied: false });
    });
  }
});

describe("specAlreadyHasPatches", () => {
  test("true only once every patch of the batch is declared", () => {
    const spec = fixture();
    const edited = edit(spec).text;
    expect(specAlreadyHasPatches(spec, PATCHES)).toBe(false);
    expect(specAlreadyHasPatches(edited, PATCHES)).toBe(true);
    const half = edit(spec, { patches: PATCHES.slice(0, 1) }).text;
    expect(specAlreadyHasPatches(half, PATCHES)).toBe(false);
    const listed = edit(fixture({ middle: "\n%patchlist\nx.patch\n" })).text;
    expect(specAlreadyHasPatches(listed, PATCHES)).toBe(true);
    // A commented-out declaration does not count.
    expect(specAlreadyHasPatches(`#Patch6000: ${A}.patch\n#Patch6001: ${B}.patch\n`, PATCHES)).toBe(
      false,
    );
  });
});

describe("the openEuler corpus", () => {
  const specs = join(CORPUS_DIR, "specs");
  const present = existsSync(specs);
  if (!present) console.warn(`corpus check skipped: ${specs} does not exist`);
  test.skipIf(!present)("scripts/check-specs.ts finds no spec made worse", () => {
    const run = Bun.spawnSync(
      [process.execPath, join(import.meta.dir, "..", "scripts", "check-specs.ts")],
      {
        stdout: "pipe",
        stderr: "pipe",
      },
    );
    const output = run.stdout.toString();
    const summary =
      /specs: (\d+) of (\d+) parse after editing \((\d+) parsed before\); (\d+) made worse; (\d+) refused; (\d+) crashed/.exec(
        output,
      );
    expect(summary, output + run.stderr.toString()).not.toBeNull();
    const [, after, total, before, worse, , crashed] = summary?.map(Number) ?? [];
    expect(total).toBeGreaterThan(0);
    expect(worse).toBe(0);
    expect(crashed).toBe(0);
    expect(after).toBeGreaterThanOrEqual(before ?? 0);
    expect(run.exitCode).toBe(0);
  });
});
