/**
 * Progress of a long wait on stderr: on a terminal one line that rewrites itself (spinner and
 * elapsed seconds); elsewhere (logs, CI) a plain line every few seconds, so nothing is garbled.
 */
import type { CliIo } from "./io.ts";

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
const TERMINAL_TICK_MS = 100;
/** Seconds between lines when stderr is not a terminal. */
export const PLAIN_EVERY_SECONDS = 5;

export interface Progress {
  /** Stops the updates; on a terminal the line is erased so results start on a clean line. */
  stop(): void;
}

export function startProgress(io: CliIo, label: string): Progress {
  const started = Date.now();
  const seconds = () => Math.floor((Date.now() - started) / 1000);
  if (io.errIsTerminal) {
    let frame = 0;
    const draw = () => {
      io.err(`\r${FRAMES[frame++ % FRAMES.length]} ${label} ${seconds()} s\x1b[K`);
    };
    draw();
    const timer = setInterval(draw, TERMINAL_TICK_MS);
    return {
      stop() {
        clearInterval(timer);
        io.err("\r\x1b[K");
      },
    };
  }
  io.err(`${label}\n`);
  const timer = setInterval(() => io.err(`${label} ${seconds()} s\n`), PLAIN_EVERY_SECONDS * 1000);
  return { stop: () => clearInterval(timer) };
}
