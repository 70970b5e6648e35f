#!/usr/bin/env bun
/**
 * `generate_password PASSWORD`: checks the password against the admin password rules and prints
 * the bcrypt hash to put in settings.conf as PASSWORD. Without an argument, on a terminal, the
 * password is asked for (twice, unechoed) so it stays out of the shell history.
 */
import { Command, CommanderError } from "commander";
import {
  hashPassword,
  MAX_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
  passwordRuleViolations,
  SPECIAL_CHARACTERS,
} from "../src/password/rules.ts";
import { VERSION } from "../src/version.ts";
import { CliError } from "./errors.ts";
import { type CliIo, processIo } from "./io.ts";

export const PROGRAM = "generate_password";
const USAGE = `usage: ${PROGRAM} PASSWORD`;
const RULES = `The password must be ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} latin1 characters with at least one digit, one lower-case
letter, one upper-case letter and one of ${SPECIAL_CHARACTERS}`;

async function passwordFrom(argument: string | undefined, io: CliIo): Promise<string> {
  if (argument !== undefined) return argument;
  if (!io.interactive) throw new CliError("the PASSWORD argument is missing");
  const first = await io.askSecret("Password: ");
  const again = await io.askSecret("Password again: ");
  if (first !== again) throw new CliError("the two passwords differ");
  return first;
}

/** The command line of generate_password; also the source of its man page. */
export function generatePasswordProgram(): Command {
  return new Command(PROGRAM)
    .description("Print the hash of an admin password for PASSWORD in settings.conf")
    .usage("PASSWORD")
    .argument("[PASSWORD]", "the password (asked on the terminal when left out)")
    .version(VERSION, "-V, --version")
    .addHelpText("after", `\n${RULES}`);
}

/** Runs `generate_password` with `argv` (without the program name); returns the exit code. */
export async function runGeneratePassword(
  argv: string[],
  io: CliIo = processIo(),
): Promise<number> {
  let code = 0;
  const program = generatePasswordProgram()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride()
    .action(async (argument: string | undefined) => {
      const password = await passwordFrom(argument, io);
      const failures = passwordRuleViolations(password);
      if (failures.length > 0) {
        io.err(
          `${USAGE}\n${PROGRAM}: error: the password does not meet the rules:\n${failures.map((f) => `  - ${f}`).join("\n")}\n`,
        );
        code = 1;
        return;
      }
      io.out(`${await hashPassword(password)}\n`);
    });
  try {
    await program.parseAsync(argv, { from: "user" });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode !== 0) io.err(`${USAGE}\n`);
      return error.exitCode === 0 ? 0 : 1;
    }
    if (error instanceof CliError) {
      io.err(`${USAGE}\n${PROGRAM}: error: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

// No top-level await: the compiled binary is built with --bytecode, which rules it out.
if (import.meta.main) {
  void runGeneratePassword(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
