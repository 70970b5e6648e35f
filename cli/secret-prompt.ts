/**
 * Reading a password from the terminal without echo: raw mode, so the characters never appear
 * on screen, in the scrollback or in a terminal recording.
 */
import { CliError } from "./errors.ts";

const ENTER = new Set(["\r", "\n"]);
const BACKSPACE = new Set(["\u007f", "\b"]);
const CTRL_C = "\u0003";
const CTRL_D = "\u0004";

/** Writes `prompt` to stderr and reads one line from the terminal on stdin, unechoed. */
export function readSecret(prompt: string): Promise<string> {
  const stdin = process.stdin;
  // Echo goes off before the prompt shows: whatever is typed once it is visible stays hidden.
  stdin.setRawMode(true);
  process.stderr.write(prompt);
  stdin.setEncoding("utf8");
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value = "";
    const finish = () => {
      stdin.off("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write("\n");
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ENTER.has(ch)) {
          finish();
          resolve(value);
          return;
        }
        if (ch === CTRL_C || (ch === CTRL_D && value === "")) {
          finish();
          reject(new CliError("no password entered"));
          return;
        }
        if (BACKSPACE.has(ch)) value = value.slice(0, -1);
        else if (ch >= " ") value += ch;
      }
    };
    stdin.on("data", onData);
  });
}
