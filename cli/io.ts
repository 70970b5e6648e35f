/**
 * What a command needs from the outside world, passed in rather than reached for, so the same
 * code runs as a process and inside tests: output streams, the environment and the terminal.
 */
import { readSecret } from "./secret-prompt.ts";

export interface CliIo {
  /** Normal output (tables, results). */
  out(text: string): void;
  /**
   * Resolves once normal output has been taken by its reader: a pipe may read slower than a
   * long listing is written, and what it has not taken yet is held in memory. Absent: at once.
   */
  drained?(): Promise<void>;
  /** Errors, warnings and notices. */
  err(text: string): void;
  env: Record<string, string | undefined>;
  /** True when a person can be asked for input (stdin is a terminal). */
  interactive: boolean;
  /** Asks for a secret without echoing it; only called when `interactive`. */
  askSecret(prompt: string): Promise<string>;
  /** True when stderr is a terminal: progress may rewrite its line there. */
  errIsTerminal?: boolean;
  /** Width of stdout when it is a terminal, for tables that must fit it. */
  columns?: number;
}

/** The real process: stdout, stderr, `process.env` and the controlling terminal. */
export function processIo(): CliIo {
  // `write` answers false when stdout holds more than it has passed on; "drain" comes when it
  // has caught up (or never, once the reader is gone: "close" and "error" free the waiters too).
  let backlog = false;
  const waiting: (() => void)[] = [];
  const caughtUp = () => {
    backlog = false;
    for (const resolve of waiting.splice(0)) resolve();
  };
  process.stdout.on("drain", caughtUp).on("close", caughtUp).on("error", caughtUp);
  return {
    out: (text) => {
      if (!process.stdout.write(text)) backlog = true;
    },
    drained: () =>
      backlog ? new Promise<void>((resolve) => waiting.push(resolve)) : Promise.resolve(),
    err: (text) => process.stderr.write(text),
    env: process.env,
    interactive: process.stdin.isTTY === true,
    askSecret: readSecret,
    errIsTerminal: process.stderr.isTTY === true,
    columns: process.stdout.isTTY ? process.stdout.columns : undefined,
  };
}
