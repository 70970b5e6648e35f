/**
 * Output kept in a temporary file until what must be printed before it is known (a summary line
 * computed over all of it), so a listing of any length costs the CLI no memory.
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CliIo } from "./io.ts";

/** Bytes read back per step. */
const READ_CHUNK = 64 * 1024;

export class Spool {
  private readonly dir = mkdtempSync(join(tmpdir(), "patch-tracking-cli-"));
  private readonly fd = openSync(join(this.dir, "spool"), "w+", 0o600);
  private size = 0;

  write(text: string): void {
    if (text === "") return;
    const bytes = Buffer.from(text, "utf8");
    let written = 0;
    while (written < bytes.length) {
      written += writeSync(this.fd, bytes, written, bytes.length - written, this.size + written);
    }
    this.size += bytes.length;
  }

  /**
   * Everything written so far, in order, a chunk at a time (never split inside a character),
   * each once the reader took the one before (`drained`), so the file never moves into memory.
   */
  async drainTo(io: Pick<CliIo, "out" | "drained">): Promise<void> {
    const buffer = Buffer.alloc(READ_CHUNK);
    const decoder = new TextDecoder("utf-8");
    for (let position = 0; position < this.size; ) {
      const read = readSync(this.fd, buffer, 0, READ_CHUNK, position);
      if (read <= 0) break;
      position += read;
      const text = decoder.decode(buffer.subarray(0, read), { stream: true });
      if (text !== "") io.out(text);
      await io.drained?.();
    }
    const rest = decoder.decode();
    if (rest !== "") io.out(rest);
  }

  dispose(): void {
    closeSync(this.fd);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
