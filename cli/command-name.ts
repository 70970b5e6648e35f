/** The three names the compiled binary answers to, and how it picks one. */
import { basename } from "node:path";

export const COMMANDS = ["patch-tracking", "patch-tracking-cli", "generate_password"] as const;
export type CommandName = (typeof COMMANDS)[number];

function isCommand(name: string | undefined): name is CommandName {
  return (COMMANDS as readonly string[]).includes(name ?? "");
}

/**
 * The command for a binary started as `argv0` with `args`: the name it was started by, or else
 * (a copy under another name, or `bun cli/multicall.ts`) a command name as the first argument.
 */
export function pickCommand(
  argv0: string,
  args: string[],
): { command: CommandName; args: string[] } | null {
  const name = basename(argv0);
  if (isCommand(name)) return { command: name, args };
  if (isCommand(args[0])) return { command: args[0], args: args.slice(1) };
  return null;
}
