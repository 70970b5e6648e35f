import { join } from "node:path";
import { type Subprocess, spawn } from "bun";

const ROOT = join(import.meta.dir, "..", "..");

export interface ServerProcess {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with the listening URL, or rejects with the output when the process exits first. */
  ready: Promise<string>;
  stop(signal?: NodeJS.Signals): Promise<number>;
}

/** What every server process of this test run wrote, for the run-wide secrets check. */
export const serverLogs: { command: string; output(): string }[] = [];

/**
 * Runs the real server (`bun src/main.ts`) or any command built from it, as a child process.
 * `command` defaults to the source entry point; the compiled binary can be passed instead.
 */
export function startServerProcess(
  args: string[],
  options: { command?: string[]; env?: Record<string, string>; cwd?: string } = {},
): ServerProcess {
  const command = options.command ?? [process.execPath, join(ROOT, "src", "main.ts")];
  const proc = spawn([...command, ...args], {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, ...options.env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let text = "";
  let resolveReady: (url: string) => void = () => {};
  let rejectReady: (error: Error) => void = () => {};
  const ready = new Promise<string>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      text += decoder.decode(chunk, { stream: true });
      const match = /listening on (\S+)/.exec(text);
      if (match?.[1]) resolveReady(match[1]);
    }
  };
  const done = Promise.all([pump(proc.stdout), pump(proc.stderr)]);
  proc.exited.then(async (code) => {
    await done;
    rejectReady(new Error(`server exited with ${code} before listening:\n${text}`));
  });
  serverLogs.push({ command: [...command, ...args].join(" "), output: () => text });
  return {
    proc,
    output: () => text,
    ready,
    async stop(signal = "SIGTERM") {
      proc.kill(signal);
      const code = await proc.exited;
      await done;
      return code;
    },
  };
}

/** Runs a command to completion and returns its exit code and output. */
export async function runCommand(
  command: string[],
  options: { env?: Record<string, string>; cwd?: string; stdin?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = spawn(command, {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, ...options.env },
    stdin: options.stdin === undefined ? "ignore" : new TextEncoder().encode(options.stdin),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, stdout, stderr };
}

export const PROJECT_ROOT = ROOT;
