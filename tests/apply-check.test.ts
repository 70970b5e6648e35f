import { describe, expect, test } from "bun:test";
import { existsSync, lstatSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  checkCommits,
  summaryLine,
  type Verdict,
  verdictKind,
  verdictText,
} from "../src/scan/apply-check.ts";
import { unpackArchive } from "../src/scan/sources/archive.ts";
import { BlobCache, gitBlobSha } from "../src/scan/sources/blob-cache.ts";
import { DEFAULT_SOURCE_LIMITS, Deadline, NotCheckedError } from "../src/scan/sources/limits.ts";
import { gitPackageFiles } from "../src/scan/sources/package-files.ts";
import { readPrepPlan } from "../src/scan/sources/prep-plan.ts";
import { evaluateCondition, Macros } from "../src/scan/sources/spec-macros.ts";
import {
  downstreamPatch,
  fooSpec,
  formatPatch,
  gitArchive,
  packageRepo,
  syntheticUpstream,
  tarBytes,
  upstreamCommits,
  zipBytes,
} from "./helpers/package-sources.ts";
import { tempDir } from "./helpers/temp.ts";

const dir = tempDir("pt-apply-");
const up = await syntheticUpstream(join(dir, "upstream"));
const carried = await downstreamPatch(up);
const commits = await upstreamCommits(up);
const patchOf = async (sha: string) => ({ sha, patch: await formatPatch(up.repo, sha) });
const proposed = [
  await patchOf(commits.applies),
  await patchOf(commits.conflict),
  await patchOf(commits.dependent),
  await patchOf(commits.readme),
  await patchOf(up.inArchive),
];
const archiveGz = await gitArchive(up.repo, "v1.2", "foo-1.2/", "tar.gz");

let counter = 0;
async function check(
  files: Record<string, string | Uint8Array>,
  list = proposed,
  limits = DEFAULT_SOURCE_LIMITS,
) {
  const repo = await packageRepo(join(dir, `pkg-${counter++}`), files);
  const work = join(dir, `work-${counter}`);
  mkdirSync(work, { recursive: true });
  return checkCommits({
    files: gitPackageFiles(repo.dir, "HEAD", join(work, "blobs")),
    specPath: "foo.spec",
    commits: list,
    limits,
    workRoot: work,
  });
}

const EXPECTED = [
  "applies with offset",
  "conflict (src/b.c)",
  "applies with offset",
  "applies",
  "already applied",
];

describe("verdicts on a package made from a real git repository", () => {
  test("applies (offset noted), conflict with the file, cumulative, already applied", async () => {
    const report = await check({
      "foo.spec": fooSpec("%autosetup -n %{name}-%{version} -p1"),
      "foo-1.2.tar.gz": archiveGz,
      "0001-downstream.patch": carried,
    });
    expect(report.archive).toBe("foo-1.2.tar.gz");
    expect(report.verdicts.map(verdictText)).toEqual(EXPECTED);
    expect(summaryLine(report)).toBe(
      "Apply check: 3 of 5 apply to foo-1.2.tar.gz; 1 conflict (src/b.c); 1 already applied",
    );
  });

  test("without the carried patch the b.c change applies and a.c has no offset", async () => {
    const report = await check({
      "foo.spec": fooSpec("%setup -q"),
      "foo-1.2.tar.gz": archiveGz,
      "0001-downstream.patch": carried,
    });
    expect(report.verdicts.map(verdictText)).toEqual([
      "applies",
      "applies",
      "applies",
      "applies",
      "already applied",
    ]);
  });

  test("the dependent commit conflicts when the commit it builds on is not proposed", async () => {
    const report = await check(
      {
        "foo.spec": fooSpec("%autosetup -p1"),
        "foo-1.2.tar.gz": archiveGz,
        "0001-downstream.patch": carried,
      },
      [await patchOf(commits.dependent)],
    );
    expect(report.verdicts.map(verdictText)).toEqual(["conflict (src/a.c)"]);
    expect(summaryLine(report)).toBe(
      "Apply check: 0 of 1 apply to foo-1.2.tar.gz; 1 conflict (src/a.c)",
    );
  });

  const forms: [string, string, string?][] = [
    ["%autosetup -p1", "%autosetup -p1"],
    ["%setup -n with %patch -P N -pM", "%setup -q -n foo-1.2\n%patch -P 1 -p1"],
    ["the old %patchN form", "%setup -q\n%patch1 -p1"],
    ["%patch N (positional)", "%setup -q\n%patch 1 -p1"],
    ["%autosetup -N then %autopatch", "%autosetup -N\n%autopatch -p1"],
    ["%{autosetup} in braces", "%{autosetup} -p1"],
    [
      "%if around the apply line",
      "%setup -q\n%if 0%{?openEuler} || 1\n%patch -P1 -p1\n%endif\n%ifarch s390x\n%patch -P 9 -p1\n%endif",
    ],
    [
      "macros from %global",
      "%setup -q -n %{srcname}-%{version}\n%patch -P 1 -p1",
      "%global srcname foo",
    ],
  ];
  for (const [label, prep, extra] of forms) {
    test(`%prep form: ${label}`, async () => {
      const report = await check({
        "foo.spec": fooSpec(prep, extra),
        "foo-1.2.tar.gz": archiveGz,
        "0001-downstream.patch": carried,
      });
      expect(report.verdicts.map(verdictText)).toEqual(EXPECTED);
    });
  }

  test("%setup -c unpacks an archive without a top folder into name-version", async () => {
    const flat = await gitArchive(up.repo, "v1.2", "", "tar.gz");
    const report = await check({
      "foo.spec": fooSpec("%setup -q -c\n%patch -P 1 -p1"),
      "foo-1.2.tar.gz": flat,
      "0001-downstream.patch": carried,
    });
    expect(report.verdicts.map(verdictText)).toEqual(EXPECTED);
  });

  for (const format of ["tar.xz", "tar.bz2", "zip"] as const) {
    test(`a .${format} archive`, async () => {
      const bytes = await gitArchive(up.repo, "v1.2", "foo-1.2/", format);
      const spec = fooSpec("%autosetup -p1").replace("%{version}.tar.gz", `%{version}.${format}`);
      const report = await check({
        "foo.spec": spec,
        [`foo-1.2.${format}`]: bytes,
        "0001-downstream.patch": carried,
      });
      expect(report.archive).toBe(`foo-1.2.${format}`);
      expect(report.verdicts.map(verdictText)).toEqual(EXPECTED);
    });
  }
});

describe("not checked, with the reason, never a silent skip", () => {
  test("no archive in the repository", async () => {
    const report = await check({ "foo.spec": fooSpec("%autosetup -p1") }, proposed.slice(0, 2));
    expect(report.verdicts.map(verdictText)).toEqual([
      "not checked: no archive found (foo-1.2.tar.gz is not in the repository)",
      "not checked: no archive found (foo-1.2.tar.gz is not in the repository)",
    ]);
    expect(summaryLine(report)).toBe(
      "Apply check: not checked: no archive found (foo-1.2.tar.gz is not in the repository)",
    );
  });

  test("archive too large", async () => {
    const report = await check(
      {
        "foo.spec": fooSpec("%autosetup -p1"),
        "foo-1.2.tar.gz": archiveGz,
        "0001-downstream.patch": carried,
      },
      proposed.slice(0, 1),
      { ...DEFAULT_SOURCE_LIMITS, maxArchiveBytes: 100 },
    );
    expect(verdictText(report.verdicts[0]!)).toMatch(
      /^not checked: archive too large \(foo-1\.2\.tar\.gz, /,
    );
  });

  test("unsupported %prep: a shell expansion in the %setup arguments", async () => {
    const report = await check(
      {
        "foo.spec": fooSpec("%setup -q -n %(echo foo-1.2)"),
        "foo-1.2.tar.gz": archiveGz,
      },
      proposed.slice(0, 1),
    );
    expect(verdictText(report.verdicts[0]!)).toBe(
      "not checked: unsupported %prep (%setup arguments use shell expansion %(...))",
    );
  });

  test("the package's own patch does not apply", async () => {
    const report = await check(
      {
        "foo.spec": fooSpec("%autosetup -p1"),
        "foo-1.2.tar.gz": archiveGz,
        "0001-downstream.patch": await formatPatch(up.repo, commits.dependent),
      },
      proposed.slice(0, 1),
    );
    expect(verdictText(report.verdicts[0]!)).toBe(
      "not checked: the package's own patch 0001-downstream.patch does not apply: src/a.c",
    );
  });

  test("time limit", async () => {
    const report = await check(
      {
        "foo.spec": fooSpec("%autosetup -p1"),
        "foo-1.2.tar.gz": archiveGz,
        "0001-downstream.patch": carried,
      },
      proposed.slice(0, 1),
      { ...DEFAULT_SOURCE_LIMITS, timeoutMs: 0 },
    );
    expect(verdictText(report.verdicts[0]!)).toBe("not checked: time limit (0 s) reached");
  });

  test("a commit with only a binary change", async () => {
    const binary = await up.repo.commit("logo", { "logo.png": new Uint8Array([0, 1, 2, 255]) });
    const patch = await up.repo.git(["format-patch", "-1", "--stdout", "--binary", binary]);
    const report = await check(
      {
        "foo.spec": fooSpec("%autosetup -p1"),
        "foo-1.2.tar.gz": archiveGz,
        "0001-downstream.patch": carried,
      },
      [{ sha: binary, patch: new TextEncoder().encode(patch) }],
    );
    expect(verdictText(report.verdicts[0]!)).toBe("not checked: no text diff (binary change only)");
  });
});

describe("nothing from a spec is executed", () => {
  test("%(...) and %{lua:...} are refused, not run", () => {
    const marker = join(dir, "pwned");
    const macros = new Macros();
    expect(() => macros.expand(`%(touch ${marker})`)).toThrow("shell expansion");
    expect(() => macros.expand(`%{lua: os.execute("touch ${marker}")}`)).toThrow("%{lua:...}");
    const plan = readPrepPlan(
      fooSpec("%autosetup -p1").replace(
        "Source0:        https://example.org/releases/%{name}-%{version}.tar.gz",
        `Source0:        %(touch ${marker})foo.tar.gz\n%global evil %(touch ${marker})`,
      ),
    );
    expect(plan.sources.get(0)).toBeNull();
    expect(existsSync(marker)).toBe(false);
  });

  test("conditionals, %bcond and built-ins expand without running anything", () => {
    const macros = new Macros();
    macros.define("with_docs", "1");
    expect(macros.expand("%{?with_docs:yes}%{!?with_tests:no}%{?dist}")).toBe("yesno");
    expect(macros.expand("%{with docs}/%{without docs}")).toBe("1/0");
    expect(evaluateCondition("0 || 1 && 2 >= 2")).toBe(true);
    expect(evaluateCondition('"a" == "b"')).toBe(false);
    expect(evaluateCondition("1 +")).toBeNull();
  });
});

describe("hostile archives", () => {
  const limits = { ...DEFAULT_SOURCE_LIMITS, maxUnpackedBytes: 1024 * 1024, maxFiles: 10 };
  let n = 0;
  async function unpack(bytes: Uint8Array, kind: "tar" | "zip" = "tar") {
    const base = join(dir, `hostile-${n++}`);
    const root = join(base, "root");
    mkdirSync(root, { recursive: true });
    const file = join(base, `archive.${kind}`);
    writeFileSync(file, bytes);
    try {
      return {
        root,
        base,
        result: await unpackArchive(file, kind, root, limits, new Deadline(60_000)),
      };
    } catch (error) {
      if (!(error instanceof NotCheckedError)) throw error;
      return { root, base, error: error.reason };
    }
  }

  test("a ../ path refuses the archive and writes nothing outside", async () => {
    const { base, error } = await unpack(tarBytes([{ name: "pkg/../../evil.txt", body: "x" }]));
    expect(error).toBe("the archive holds a path outside its folder (pkg/../../evil.txt)");
    expect(existsSync(join(base, "evil.txt"))).toBe(false);
  });

  test("an absolute path refuses the archive", async () => {
    const { error } = await unpack(tarBytes([{ name: "/tmp/pt-evil", body: "x" }]));
    expect(error).toBe("the archive holds an absolute path (/tmp/pt-evil)");
    expect(existsSync("/tmp/pt-evil")).toBe(false);
  });

  test("a link out is left out; a file behind it lands in a real folder inside", async () => {
    const { root, result } = await unpack(
      tarBytes([
        { name: "pkg/etc", type: "2", link: "/etc" },
        { name: "pkg/up", type: "2", link: "../../.." },
        { name: "pkg/etc/passwd", body: "mine\n" },
      ]),
    );
    expect(result?.skippedLinks).toEqual(["pkg/etc", "pkg/up"]);
    expect(lstatSync(join(root, "pkg/etc")).isDirectory()).toBe(true);
    expect(readFileSync(join(root, "pkg/etc/passwd"), "utf8")).toBe("mine\n");
  });

  test("writing through a link inside is refused", async () => {
    const { error } = await unpack(
      tarBytes([
        { name: "pkg/sub/", type: "5" },
        { name: "pkg/alias", type: "2", link: "sub" },
        { name: "pkg/alias/x", body: "x" },
      ]),
    );
    expect(error).toBe("the archive writes through a symbolic link (pkg/alias/x)");
  });

  test("a chain of links that leaves the folder physically is removed", async () => {
    const { root, result } = await unpack(
      tarBytes([
        { name: "here", type: "2", link: "." },
        { name: "out", type: "2", link: "here/.." },
        { name: "ok", type: "2", link: "here" },
        { name: "dangling-out", type: "2", link: "here/../nothing" },
        { name: "dangling-in", type: "2", link: "made-by-the-build" },
      ]),
    );
    expect(result?.skippedLinks).toEqual(["out", "dangling-out"]);
    expect(existsSync(join(root, "out"))).toBe(false);
    expect(lstatSync(join(root, "dangling-in")).isSymbolicLink()).toBe(true);
    expect(lstatSync(join(root, "ok")).isSymbolicLink()).toBe(true);
  });

  test("devices are never created", async () => {
    const { root, result } = await unpack(
      tarBytes([
        { name: "pkg/null", type: "3" },
        { name: "pkg/a", body: "a" },
      ]),
    );
    expect(result?.files).toBe(1);
    expect(existsSync(join(root, "pkg/null"))).toBe(false);
  });

  test("the unpacked size cap stops a bomb", async () => {
    const { error } = await unpack(
      tarBytes([{ name: "big", body: new Uint8Array(2 * 1024 * 1024) }]),
    );
    expect(error).toBe("the archive unpacks to more than 1.0 MB");
  });

  test("the entry count cap", async () => {
    const many = Array.from({ length: 11 }, (_, i) => ({ name: `f${i}`, body: "x" }));
    const { error } = await unpack(tarBytes(many));
    expect(error).toBe("the archive holds more than 10 entries");
  });

  test("a zip with ../ is refused too", async () => {
    const { error } = await unpack(zipBytes([{ name: "../zip-evil", body: "x" }]), "zip");
    expect(error).toBe("the archive holds a path outside its folder (../zip-evil)");
  });

  test("not a tar file", async () => {
    const { error } = await unpack(new TextEncoder().encode("hello".repeat(200)));
    expect(error).toBe("the archive is not a tar file");
  });
});

describe("the package file cache", () => {
  const blob = (text: string) => {
    const bytes = new TextEncoder().encode(text);
    return { bytes, sha: gitBlobSha(bytes) };
  };

  test("keyed by blob sha; least recently used entries go when the cap is passed", async () => {
    const cache = new BlobCache(join(dir, "cache-lru"), 1000);
    const [a, b, c] = ["a".repeat(400), "b".repeat(400), "c".repeat(400)].map(blob);
    cache.put(a!.sha, a!.bytes, join(dir, "overflow"));
    await Bun.sleep(20);
    cache.put(b!.sha, b!.bytes, join(dir, "overflow"));
    await Bun.sleep(20);
    expect(cache.get(a!.sha)).not.toBeNull(); // a is now the most recently used
    await Bun.sleep(20);
    cache.put(c!.sha, c!.bytes, join(dir, "overflow"));
    expect(cache.get(b!.sha)).toBeNull();
    expect(readFileSync(cache.get(a!.sha) ?? "", "utf8")).toBe("a".repeat(400));
    expect(cache.get(c!.sha)).not.toBeNull();
    expect(cache.size()).toBe(800);
  });

  test("content that is not the named blob is refused and not stored", () => {
    const cache = new BlobCache(join(dir, "cache-wrong"), 1000);
    const a = blob("a");
    expect(() => cache.put(a.sha, new TextEncoder().encode("b"), join(dir, "x"))).toThrow(
      `the forge sent content that is not blob ${a.sha}`,
    );
    expect(cache.get(a.sha)).toBeNull();
  });

  test("a file larger than the whole cap is used once, not kept", () => {
    const cache = new BlobCache(join(dir, "cache-small"), 10);
    const big = blob("x".repeat(100));
    const path = cache.put(big.sha, big.bytes, join(dir, "once"));
    expect(path).toBe(join(dir, "once"));
    expect(cache.get(big.sha)).toBeNull();
  });
});

describe("verdict kinds", () => {
  test("each verdict's text reads back as its kind; other verdicts are none", () => {
    const verdicts: Verdict[] = [
      { kind: "applies", offset: false, fuzz: 0 },
      { kind: "applies", offset: true, fuzz: 2 },
      { kind: "already applied" },
      { kind: "conflict", files: ["src/a.c"] },
      { kind: "conflict", files: [] },
      { kind: "not checked", reason: "no archive found" },
    ];
    expect(verdicts.map((verdict) => verdictKind(verdictText(verdict)))).toEqual(
      verdicts.map((verdict) => verdict.kind),
    );
    expect(verdictKind("already carried as fix.patch")).toBeNull();
    expect(verdictKind("passed over: message does not match")).toBeNull();
    expect(verdictKind(null)).toBeNull();
  });
});
