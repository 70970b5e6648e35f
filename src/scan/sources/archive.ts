/**
 * Unpacking an untrusted source archive into a private folder, safe by construction:
 *
 * - the archive is read by this module, not by `tar` or `unzip`: only regular files, folders and
 *   symbolic links are written, never devices, fifos or owners/permissions beyond "readable,
 *   maybe executable";
 * - a name that is absolute or holds a `..` component stops the unpacking (the whole archive is
 *   refused: a packager would not trust it either);
 * - nothing is ever written through a symbolic link: an entry whose folder is a link is refused,
 *   and links whose target leaves the folder (absolute, or too many `..`) are left out;
 * - total unpacked bytes, entry count and time are capped.
 *
 * Decompression is done by `gzip`, `xz` or `bzip2` reading the archive on stdin (they interpret
 * no names and run nothing); tar and zip structure is parsed here.
 */
import {
  closeSync,
  copyFileSync,
  lstatSync,
  mkdirSync,
  openSync,
  readlinkSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeSync,
} from "node:fs";
import { dirname, join, posix } from "node:path";
import { inflateRawSync } from "node:zlib";
import { type Deadline, megabytes, NotCheckedError, type SourceLimits } from "./limits.ts";

export type ArchiveKind = "tar" | "tar.gz" | "tar.xz" | "tar.bz2" | "zip";

/** The archive kind a file name implies, or null when it is not one this module reads. */
export function archiveKind(name: string): ArchiveKind | null {
  const lower = name.toLowerCase();
  if (/\.(tar\.gz|tgz|tar\.z)$/.test(lower)) return "tar.gz";
  if (/\.(tar\.xz|txz)$/.test(lower)) return "tar.xz";
  if (/\.(tar\.bz2|tbz2|tbz)$/.test(lower)) return "tar.bz2";
  if (lower.endsWith(".tar")) return "tar";
  if (lower.endsWith(".zip")) return "zip";
  return null;
}

export interface UnpackResult {
  files: number;
  bytes: number;
  /** Top-level names written (what `%setup` would find in the build folder). */
  topLevel: string[];
  /** Links left out because they point outside the folder. */
  skippedLinks: string[];
}

const DECOMPRESSORS: Record<Exclude<ArchiveKind, "tar" | "zip">, string[]> = {
  "tar.gz": ["gzip", "-dc"],
  "tar.xz": ["xz", "-dc"],
  "tar.bz2": ["bzip2", "-dc"],
};

/** Unpacks `archive` (a file on disk) into `root`, which must exist and be empty or private. */
export async function unpackArchive(
  archive: string,
  kind: ArchiveKind,
  root: string,
  limits: SourceLimits,
  deadline: Deadline,
): Promise<UnpackResult> {
  const writer = new SafeWriter(root, limits, deadline);
  if (kind === "zip") {
    readZip(new Uint8Array(await Bun.file(archive).arrayBuffer()), writer);
    return writer.finish();
  }
  if (kind === "tar") {
    await readTar(Bun.file(archive).stream(), writer);
    return writer.finish();
  }
  // The decompressor reads the file itself (an fd, not bytes held here).
  const input = openSync(archive, "r");
  const child = Bun.spawn(DECOMPRESSORS[kind], {
    stdin: input,
    stdout: "pipe",
    stderr: "pipe",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", LC_ALL: "C" },
  });
  const timer = setTimeout(() => child.kill(9), deadline.remainingMs());
  try {
    await readTar(child.stdout, writer);
  } catch (error) {
    child.kill(9);
    throw error;
  } finally {
    clearTimeout(timer);
    closeSync(input);
  }
  const code = await child.exited;
  deadline.check();
  if (code !== 0 && writer.files === 0) {
    const why = (await new Response(child.stderr).text()).trim().split("\n")[0] ?? "";
    throw new NotCheckedError(`the archive cannot be decompressed (${why || `exit ${code}`})`);
  }
  return writer.finish();
}

/** Writes entries below `root`, enforcing every rule of this module. */
class SafeWriter {
  files = 0;
  bytes = 0;
  private readonly links = new Set<string>();
  private readonly skippedLinks: string[] = [];
  private readonly top = new Set<string>();

  constructor(
    private readonly root: string,
    private readonly limits: SourceLimits,
    private readonly deadline: Deadline,
  ) {}

  /** The entry's path relative to root, normalised; throws for names that escape. */
  private relative(name: string): string | null {
    const cleaned = name.replace(/\\/g, "/");
    if (cleaned.startsWith("/") || /^[A-Za-z]:/.test(cleaned)) {
      throw new NotCheckedError(`the archive holds an absolute path (${shown(name)})`);
    }
    const parts = cleaned.split("/").filter((part) => part !== "" && part !== ".");
    if (parts.includes("..")) {
      throw new NotCheckedError(`the archive holds a path outside its folder (${shown(name)})`);
    }
    if (parts.length === 0) return null;
    for (let i = 1; i < parts.length; i++) {
      if (this.links.has(parts.slice(0, i).join("/"))) {
        throw new NotCheckedError(`the archive writes through a symbolic link (${shown(name)})`);
      }
    }
    return parts.join("/");
  }

  private count(): void {
    this.files++;
    if (this.files > this.limits.maxFiles) {
      throw new NotCheckedError(`the archive holds more than ${this.limits.maxFiles} entries`);
    }
    if (this.files % 256 === 0) this.deadline.check();
  }

  private note(path: string): void {
    this.top.add(path.split("/")[0] ?? path);
  }

  private parent(path: string): void {
    mkdirSync(dirname(join(this.root, path)), { recursive: true });
  }

  /** Bytes that may still be unpacked. */
  room(): number {
    return Math.max(0, this.limits.maxUnpackedBytes - this.bytes);
  }

  directory(name: string): void {
    const path = this.relative(name);
    if (path === null) return;
    this.count();
    this.note(path);
    const target = join(this.root, path);
    if (this.links.has(path)) {
      throw new NotCheckedError(`the archive writes through a symbolic link (${shown(name)})`);
    }
    mkdirSync(target, { recursive: true });
  }

  file(name: string, executable: boolean): FileSink | null {
    const path = this.relative(name);
    if (path === null) return null;
    this.count();
    this.note(path);
    this.parent(path);
    const target = join(this.root, path);
    // A file replacing an earlier link of the same name must not write through it.
    if (this.links.delete(path)) rmSync(target, { force: true });
    const fd = openSync(target, "w", executable ? 0o755 : 0o644);
    let open = true;
    return {
      write: (chunk) => {
        this.bytes += chunk.length;
        if (this.bytes > this.limits.maxUnpackedBytes) {
          throw new NotCheckedError(
            `the archive unpacks to more than ${megabytes(this.limits.maxUnpackedBytes)}`,
          );
        }
        writeSync(fd, chunk);
      },
      close: () => {
        if (open) closeSync(fd);
        open = false;
      },
    };
  }

  symlink(name: string, target: string): void {
    const path = this.relative(name);
    if (path === null) return;
    this.count();
    this.note(path);
    const resolved = posix.normalize(posix.join(posix.dirname(path), target));
    if (target.startsWith("/") || resolved === ".." || resolved.startsWith("../")) {
      this.skippedLinks.push(path);
      return;
    }
    this.parent(path);
    rmSync(join(this.root, path), { force: true, recursive: false });
    symlinkSync(target, join(this.root, path));
    this.links.add(path);
  }

  /** A hard link becomes a copy of its target, when that is a file already written. */
  hardlink(name: string, target: string, copy: (from: string, to: string) => void): void {
    const path = this.relative(name);
    const from = this.relative(target);
    if (path === null || from === null) return;
    this.count();
    this.note(path);
    this.parent(path);
    copy(join(this.root, from), join(this.root, path));
  }

  /**
   * Symbolic links whose physical target leaves the folder (a chain such as `a -> .` then
   * `b -> a/..`) are removed: the lexical check above cannot see through earlier links.
   */
  finish(): UnpackResult {
    // realpathSync.native is realpath(3): physical. The JS realpathSync folds `x/..` as text first.
    const realRoot = realpathSync.native(this.root);
    const inside = (real: string) => real === realRoot || real.startsWith(`${realRoot}/`);
    for (const path of this.links) {
      const full = join(this.root, path);
      let real: string | null;
      try {
        real = realpathSync.native(full);
      } catch {
        // Dangling (common: test data links to files a build makes): what counts is where its
        // target's folder really is, since a later write through the link would land there.
        try {
          // Not path.join: it would fold `x/..` as text, and the point is the physical path.
          real = realpathSync.native(`${dirname(full)}/${posix.dirname(readlinkSync(full))}`);
        } catch {
          real = null;
        }
      }
      if (real === null || !inside(real)) {
        rmSync(full, { force: true });
        this.skippedLinks.push(path);
      }
    }
    return {
      files: this.files,
      bytes: this.bytes,
      topLevel: [...this.top].sort(),
      skippedLinks: this.skippedLinks,
    };
  }
}

interface FileSink {
  write(chunk: Uint8Array): void;
  close(): void;
}

function shown(name: string): string {
  return name.length > 80 ? `${name.slice(0, 77)}...` : name;
}

function copyFile(from: string, to: string): void {
  try {
    if (!lstatSync(from).isFile()) return;
    rmSync(to, { force: true });
    copyFileSync(from, to);
  } catch {
    // target absent: the link is left out, as tar would fail on it too
  }
}

// ---- tar -------------------------------------------------------------------------------------

const BLOCK = 512;
const decoder = new TextDecoder();

function field(header: Uint8Array, from: number, length: number): string {
  const bytes = header.subarray(from, from + length);
  const end = bytes.indexOf(0);
  return decoder.decode(end === -1 ? bytes : bytes.subarray(0, end));
}

/** A numeric header field: octal text, or GNU base-256 when the high bit is set. */
function number(header: Uint8Array, from: number, length: number): number {
  const first = header[from] ?? 0;
  if (first & 0x80) {
    let value = first & 0x7f;
    for (let i = 1; i < length; i++) value = value * 256 + (header[from + i] ?? 0);
    return value;
  }
  const text = field(header, from, length).trim();
  return text === "" ? 0 : Number.parseInt(text, 8);
}

/** The header checksum: the byte sum with the checksum field itself counted as spaces. */
function checksumMatches(header: Uint8Array): boolean {
  const stored = number(header, 148, 8);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (header[i] ?? 0);
  return sum === stored;
}

function paxRecords(data: Uint8Array): Map<string, string> {
  const records = new Map<string, string>();
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space === -1) break;
    const length = Number.parseInt(decoder.decode(data.subarray(at, space)), 10);
    if (!Number.isFinite(length) || length <= 0) break;
    const record = decoder.decode(data.subarray(space + 1, at + length - 1));
    const equals = record.indexOf("=");
    if (equals > 0) records.set(record.slice(0, equals), record.slice(equals + 1));
    at += length;
  }
  return records;
}

/** A byte reader over a stream of chunks that hands out exact lengths. */
class ChunkReader {
  private buffered: Uint8Array[] = [];
  private size = 0;
  private readonly iterator: AsyncIterator<Uint8Array>;
  private done = false;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.iterator = stream[Symbol.asyncIterator]();
  }

  /** Fills the buffer to at least `n` bytes; false when the stream ends first. */
  private async fill(n: number): Promise<boolean> {
    while (this.size < n && !this.done) {
      const next = await this.iterator.next();
      if (next.done) this.done = true;
      else {
        this.buffered.push(next.value);
        this.size += next.value.length;
      }
    }
    return this.size >= n;
  }

  async read(n: number): Promise<Uint8Array | null> {
    if (!(await this.fill(n))) return null;
    const out = new Uint8Array(n);
    let at = 0;
    while (at < n) {
      const head = this.buffered[0] as Uint8Array;
      const take = Math.min(head.length, n - at);
      out.set(head.subarray(0, take), at);
      at += take;
      if (take === head.length) this.buffered.shift();
      else this.buffered[0] = head.subarray(take);
    }
    this.size -= n;
    return out;
  }

  /** Streams `n` bytes to `sink` in pieces, without holding them all. */
  async pipe(n: number, sink: ((chunk: Uint8Array) => void) | null): Promise<boolean> {
    let left = n;
    while (left > 0) {
      if (this.size === 0 && !(await this.fill(1))) return false;
      const head = this.buffered[0] as Uint8Array;
      const take = Math.min(head.length, left);
      sink?.(head.subarray(0, take));
      if (take === head.length) this.buffered.shift();
      else this.buffered[0] = head.subarray(take);
      this.size -= take;
      left -= take;
    }
    return true;
  }
}

async function readTar(stream: ReadableStream<Uint8Array>, writer: SafeWriter): Promise<void> {
  const reader = new ChunkReader(stream);
  let longName: string | null = null;
  let longLink: string | null = null;
  let pax = new Map<string, string>();
  for (;;) {
    const header = await reader.read(BLOCK);
    if (!header) {
      if (writer.files === 0) throw new NotCheckedError("the archive is empty or not a tar file");
      return; // truncated after whole entries: what was read is kept
    }
    if (header.every((byte) => byte === 0)) return;
    // Old (v7) archives, which automake's `dist` still makes, have no magic: the checksum decides.
    if (!checksumMatches(header)) throw new NotCheckedError("the archive is not a tar file");
    const type = String.fromCharCode(header[156] ?? 0);
    const size = number(header, 124, 12);
    const padded = Math.ceil(size / BLOCK) * BLOCK;
    const prefix = field(header, 345, 155);
    const plainName = prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100);
    const name = pax.get("path") ?? longName ?? plainName;
    const link = pax.get("linkpath") ?? longLink ?? field(header, 157, 100);
    const mode = number(header, 100, 8);

    if (type === "L" || type === "K" || type === "x") {
      if (size > 1024 * 1024) throw new NotCheckedError("the archive has an oversized header");
      const data = await reader.read(padded);
      if (!data) throw new NotCheckedError("the archive is truncated");
      const body = data.subarray(0, size);
      if (type === "x") pax = paxRecords(body);
      else if (type === "L") longName = decoder.decode(body).replace(/\0+$/, "");
      else longLink = decoder.decode(body).replace(/\0+$/, "");
      continue;
    }
    longName = null;
    longLink = null;
    pax = new Map();
    if (type === "g") {
      await reader.pipe(padded, null);
      continue;
    }
    if ((type === "0" || type === "\0") && name.endsWith("/")) {
      writer.directory(name); // v7 marks folders by the trailing slash alone
      continue;
    }
    if (type === "0" || type === "\0" || type === "7") {
      const sink = writer.file(name, (mode & 0o111) !== 0);
      try {
        if (!(await reader.pipe(size, sink ? (chunk) => sink.write(chunk) : null))) {
          throw new NotCheckedError("the archive is truncated");
        }
      } finally {
        sink?.close();
      }
      await reader.pipe(padded - size, null);
      continue;
    }
    await reader.pipe(padded, null);
    if (type === "5") writer.directory(name);
    else if (type === "2") writer.symlink(name, link);
    else if (type === "1") writer.hardlink(name, link, copyFile);
    // devices, fifos and unknown types are left out
  }
}

// ---- zip -------------------------------------------------------------------------------------

function readZip(data: Uint8Array, writer: SafeWriter): void {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  // The end-of-central-directory record is in the last 64 KiB + 22 bytes.
  let end = -1;
  for (let i = data.length - 22; i >= Math.max(0, data.length - 65_557); i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      end = i;
      break;
    }
  }
  if (end === -1) throw new NotCheckedError("the archive is not a zip file");
  const count = view.getUint16(end + 10, true);
  let at = view.getUint32(end + 16, true);
  for (let n = 0; n < count; n++) {
    if (at + 46 > data.length || view.getUint32(at, true) !== 0x02014b50) {
      throw new NotCheckedError("the zip directory is damaged");
    }
    const method = view.getUint16(at + 10, true);
    const compressed = view.getUint32(at + 20, true);
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    const external = view.getUint32(at + 38, true);
    const local = view.getUint32(at + 42, true);
    const name = decoder.decode(data.subarray(at + 46, at + 46 + nameLength));
    at += 46 + nameLength + extraLength + commentLength;
    const unixMode = external >>> 16;
    if (name.endsWith("/")) {
      writer.directory(name);
      continue;
    }
    if (local + 30 > data.length || view.getUint32(local, true) !== 0x04034b50) {
      throw new NotCheckedError("the zip file is damaged");
    }
    const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    const raw = data.subarray(start, start + compressed);
    let content: Uint8Array;
    if (method === 0) content = raw;
    else if (method === 8) {
      // The output cap stops a zip bomb before it is held in memory.
      try {
        content = inflateRawSync(raw, { maxOutputLength: writer.room() + 1 });
      } catch {
        throw new NotCheckedError(
          `the zip entry ${shown(name)} is damaged or unpacks beyond the size limit`,
        );
      }
    } else throw new NotCheckedError(`the zip file uses compression method ${method}`);
    if ((unixMode & 0o170000) === 0o120000) {
      writer.symlink(name, decoder.decode(content));
      continue;
    }
    const sink = writer.file(name, (unixMode & 0o111) !== 0);
    if (!sink) continue;
    try {
      sink.write(content);
    } finally {
      sink.close();
    }
  }
}
