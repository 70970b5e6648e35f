/**
 * Running the `git` binary safely: argv arrays only (never a shell), no prompts, no user or
 * system configuration, pinned output settings, and a timeout that kills the child.
 */
import { spawn } from "bun";

export interface GitOptions {
  /** Working directory (`-C`). */
  cwd?: string;
  /** Milliseconds before the command is killed; default 10 minutes. */
  timeoutMs?: number;
  /** Bytes to write on stdin. */
  input?: string | Uint8Array;
  /** Extra environment, e.g. GIT_ALLOW_PROTOCOL. */
  env?: Record<string, string>;
}

export interface GitResult {
  code: number;
  stdout: Uint8Array;
  stderr: string;
}

export class GitError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly code: number,
    readonly stderr: string,
    readonly timedOut = false,
  ) {
    const what = timedOut ? "timed out" : `exited with ${code}`;
    super(`git ${args[0] ?? ""} ${what}: ${stderr.trim().split("\n").slice(-3).join(" | ")}`);
    this.name = "GitError";
  }
}

/** How long to wait for a killed git's pipes to close before giving up on them. */
const KILL_GRACE_MS = 1000;

/** Configuration pinned on every call so output is reproducible whatever the host's git config. */
const PINNED_CONFIG = [
  "-c",
  "core.quotepath=off",
  "-c",
  "diff.noprefix=false",
  "-c",
  "diff.mnemonicprefix=false",
  "-c",
  "diff.algorithm=myers",
  "-c",
  "diff.renames=true",
  "-c",
  "color.ui=never",
  "-c",
  "core.abbrev=12",
  "-c",
  "log.showSignature=false",
  "-c",
  "http.lowSpeedLimit=1000",
  "-c",
  "http.lowSpeedTime=60",
];

export function gitEnvironment(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? "/",
    LANG: "C.UTF-8",
    LC_ALL: "C.UTF-8",
    GIT_TERMINAL_PROMPT: "0",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_ASKPASS: "/bin/false",
    SSH_ASKPASS: "/bin/false",
    GIT_SSH_COMMAND: "ssh -o BatchMode=yes -o StrictHostKeyChecking=accept-new",
  };
  return { ...env, ...extra };
}

/** Runs git and returns its result whatever the exit code. */
export async function runGit(
  args: readonly string[],
  options: GitOptions = {},
): Promise<GitResult> {
  const argv = ["git", ...PINNED_CONFIG, ...(options.cwd ? ["-C", options.cwd] : []), ...args];
  const proc = spawn(argv, {
    env: gitEnvironment(options.env),
    stdin:
      options.input === undefined
        ? "ignore"
        : typeof options.input === "string"
          ? new TextEncoder().encode(options.input)
          : options.input,
    stdout: "pipe",
    stderr: "pipe",
  });
  let timedOut = false;
  let onTimeout: () => void = () => {};
  // Helpers git starts (remote-https, ssh, upload-pack) may keep the pipes open after git itself
  // is killed; after the kill, stop waiting for them once a short grace period has passed.
  const abandoned = new Promise<"abandoned">((resolve) => {
    onTimeout = () => setTimeout(() => resolve("abandoned"), KILL_GRACE_MS).unref();
  });
  const timer = setTimeout(() => {
    timedOut = true;
    proc.kill("SIGKILL");
    onTimeout();
  }, options.timeoutMs ?? 600_000);
  try {
    const outcome = await Promise.race([
      Promise.all([
        new Response(proc.stdout).bytes(),
        new Response(proc.stderr).text(),
        proc.exited,
      ]),
      abandoned,
    ]);
    if (outcome === "abandoned") throw new GitError(args, -1, "", true);
    const [stdout, stderr, code] = outcome;
    if (timedOut) throw new GitError(args, code, stderr, true);
    return { code, stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}

/** Runs git, throws `GitError` on a non-zero exit, and returns stdout as UTF-8 text. */
export async function git(args: readonly string[], options: GitOptions = {}): Promise<string> {
  const result = await runGit(args, options);
  if (result.code !== 0) throw new GitError(args, result.code, result.stderr);
  return new TextDecoder().decode(result.stdout);
}

/** Like `git`, but returns stdout as raw bytes (patches may hold non-UTF-8 text). */
export async function gitBytes(
  args: readonly string[],
  options: GitOptions = {},
): Promise<Uint8Array> {
  const result = await runGit(args, options);
  if (result.code !== 0) throw new GitError(args, result.code, result.stderr);
  return result.stdout;
}
