/**
 * Synthetic source packages for the apply check, made from a real git repository: an upstream
 * with a tag, its `git archive` as the package's Source0, a downstream patch made by git, a spec
 * with the %prep form under test, and upstream commits that apply, conflict or are already in the
 * archive. Also hand-made tar and zip bytes for hostile archives.
 */

import { join } from "node:path";
import { gzipSync } from "bun";
import { gitBytes } from "../../src/git.ts";
import { GitRepo } from "./git-repo.ts";

/** Lines of a C file long enough for offsets: `line N` for N in 1..count. */
export function numbered(prefix: string, count: number): string {
  return Array.from({ length: count }, (_, i) => `${prefix} line ${i + 1};\n`).join("");
}

function replaceLine(text: string, line: number, replacement: string): string {
  const lines = text.split("\n");
  lines[line - 1] = replacement;
  return lines.join("\n");
}

export interface SyntheticUpstream {
  repo: GitRepo;
  /** Files at the tag. */
  tagged: Record<string, string>;
  /** A commit before the tag (its change is in the archive). */
  inArchive: string;
}

export const A_C = numbered("int a", 40);
export const B_C = numbered("int b", 12);

/** An upstream at tag v1.2: src/a.c, src/b.c, README; one fix committed before the tag. */
export async function syntheticUpstream(dir: string): Promise<SyntheticUpstream> {
  const repo = await GitRepo.init(dir);
  await repo.commit("initial import", { "src/a.c": A_C, "src/b.c": B_C, README: "foo\n" });
  const fixedB = replaceLine(B_C, 3, "int b line 3 = 0; /* fixed */;");
  const inArchive = await repo.commit("Initialise b line 3", { "src/b.c": fixedB });
  await repo.git(["tag", "v1.2"]);
  return { repo, tagged: { "src/a.c": A_C, "src/b.c": fixedB, README: "foo\n" }, inArchive };
}

/** `git archive` of `ref` with `prefix` (e.g. `foo-1.2/`, or "" for none), in `format`. */
export async function gitArchive(
  repo: GitRepo,
  ref: string,
  prefix: string,
  format: "tar.gz" | "tar.xz" | "tar.bz2" | "zip" | "tar",
): Promise<Uint8Array> {
  const base = format === "zip" ? "zip" : "tar";
  const args = ["archive", `--format=${base}`, ...(prefix ? [`--prefix=${prefix}`] : []), ref];
  const bytes = await gitBytes(args, { cwd: repo.dir });
  if (format === "tar" || format === "zip") return bytes;
  if (format === "tar.gz") return gzipSync(new Uint8Array(bytes));
  const tool = format === "tar.xz" ? "xz" : "bzip2";
  const child = Bun.spawnSync([tool, "-c"], { stdin: bytes });
  return new Uint8Array(child.stdout);
}

/** A commit's patch as `git format-patch` writes it. */
export function formatPatch(repo: GitRepo, sha: string): Promise<Uint8Array> {
  return gitBytes(["format-patch", "-1", "--stdout", sha], { cwd: repo.dir });
}

/**
 * A downstream patch on top of the tag, as a maintainer makes it: three lines added at the top
 * of src/a.c (so later upstream hunks land at an offset) and b.c's line 7 changed (so an
 * upstream change of that line conflicts). Made on a side branch, which is removed afterwards.
 */
export async function downstreamPatch(up: SyntheticUpstream): Promise<Uint8Array> {
  const { repo } = up;
  await repo.checkout("downstream", { create: true });
  await repo.git(["reset", "--hard", "v1.2"]);
  const sha = await repo.commit("downstream: local tweaks", {
    "src/a.c": `/* downstream 1 */\n/* downstream 2 */\n/* downstream 3 */\n${up.tagged["src/a.c"]}`,
    "src/b.c": replaceLine(up.tagged["src/b.c"] ?? "", 7, "int b line 7 = 7; /* downstream */;"),
  });
  const patch = await formatPatch(repo, sha);
  await repo.checkout("main");
  return patch;
}

/** Upstream commits after the tag: each kind of verdict, in an order that tests cumulation. */
export async function upstreamCommits(up: SyntheticUpstream) {
  const { repo } = up;
  const a = up.tagged["src/a.c"] ?? "";
  const a1 = replaceLine(a, 30, "int a line 30 = 1;");
  const applies = await repo.commit("Set a line 30", { "src/a.c": a1 });
  const conflict = await repo.commit("Set b line 7", {
    "src/b.c": replaceLine(up.tagged["src/b.c"] ?? "", 7, "int b line 7 = 1;"),
  });
  // Only applies on top of `applies`: the check must be cumulative.
  const dependent = await repo.commit("Set a line 30 again", {
    "src/a.c": replaceLine(a1, 30, "int a line 30 = 2;"),
  });
  const readme = await repo.commit("Document foo", { README: "foo\nbar\n" });
  return { applies, conflict, dependent, readme };
}

/** A spec for package foo 1.2 whose %prep is `prep`. */
export function fooSpec(prep: string, extra = ""): string {
  return `Name:           foo
Version:        1.2
Release:        1
Summary:        Apply check test package
License:        MIT
URL:            https://example.org/foo
Source0:        https://example.org/releases/%{name}-%{version}.tar.gz
Patch1:         0001-downstream.patch
${extra}
%description
Test.

%prep
${prep}

%build
make

%changelog
* Mon Jan 01 2024 Tester <t@example.org> - 1.2-1
- init
`;
}

/** A downstream package repository (real git) holding `files` on master. */
export async function packageRepo(
  dir: string,
  files: Record<string, string | Uint8Array>,
): Promise<GitRepo> {
  const repo = await GitRepo.init(dir, { branch: "master" });
  await repo.commit("package", files);
  return repo;
}

// ---- hand-made archives -------------------------------------------------------------------------

export interface TarMember {
  name: string;
  /** "0" file, "5" folder, "2" symlink, "1" hard link, "3" character device. */
  type?: string;
  body?: string | Uint8Array;
  link?: string;
  mode?: number;
}

function octal(value: number, length: number): string {
  return `${value.toString(8).padStart(length - 1, "0")}\0`;
}

/** A ustar archive of `members`, exactly as written (no name is cleaned). */
export function tarBytes(members: TarMember[]): Uint8Array {
  const blocks: Uint8Array[] = [];
  const encoder = new TextEncoder();
  for (const member of members) {
    const body =
      typeof member.body === "string"
        ? encoder.encode(member.body)
        : (member.body ?? new Uint8Array());
    const header = new Uint8Array(512);
    const put = (text: string, at: number) => header.set(encoder.encode(text), at);
    put(member.name, 0);
    put(octal(member.mode ?? 0o644, 8), 100);
    put(octal(0, 8), 108);
    put(octal(0, 8), 116);
    put(octal(body.length, 12), 124);
    put(octal(0, 12), 136);
    put("        ", 148);
    put(member.type ?? "0", 156);
    put(member.link ?? "", 157);
    put("ustar\0", 257);
    put("00", 263);
    let sum = 0;
    for (const byte of header) sum += byte;
    put(`${sum.toString(8).padStart(6, "0")}\0 `, 148);
    blocks.push(header, body, new Uint8Array((512 - (body.length % 512)) % 512));
  }
  blocks.push(new Uint8Array(1024));
  return concat(blocks);
}

/** A zip of stored (uncompressed) entries, names as written. */
export function zipBytes(entries: { name: string; body: string }[]): Uint8Array {
  const encoder = new TextEncoder();
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = encoder.encode(entry.name);
    const body = encoder.encode(entry.body);
    const local = new DataView(new ArrayBuffer(30));
    local.setUint32(0, 0x04034b50, true);
    local.setUint16(4, 10, true);
    local.setUint32(18, body.length, true);
    local.setUint32(22, body.length, true);
    local.setUint16(26, name.length, true);
    const central = new DataView(new ArrayBuffer(46));
    central.setUint32(0, 0x02014b50, true);
    central.setUint16(4, 0x031e, true);
    central.setUint16(6, 10, true);
    central.setUint32(20, body.length, true);
    central.setUint32(24, body.length, true);
    central.setUint16(28, name.length, true);
    central.setUint32(38, (0o100644 << 16) >>> 0, true);
    central.setUint32(42, offset, true);
    locals.push(new Uint8Array(local.buffer), name, body);
    centrals.push(new Uint8Array(central.buffer), name);
    offset += 30 + name.length + body.length;
  }
  const directory = concat(centrals);
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true);
  end.setUint16(8, entries.length, true);
  end.setUint16(10, entries.length, true);
  end.setUint32(12, directory.length, true);
  end.setUint32(16, offset, true);
  return concat([...locals, directory, new Uint8Array(end.buffer)]);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

export function workDir(parent: string, name: string): string {
  return join(parent, name);
}
