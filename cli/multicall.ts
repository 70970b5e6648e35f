#!/usr/bin/env bun
/**
 * The compiled binary: one executable answers to all three installed names and looks at the name
 * it was started by (`/usr/bin/patch-tracking-cli` is a link to `/usr/bin/patch-tracking`). Each
 * Bun executable carries the ~100 MB runtime, so one binary instead of three saves ~200 MB.
 */
import { basename } from "node:path";
import { COMMANDS, pickCommand } from "./command-name.ts";

async function main(): Promise<void> {
  const picked = pickCommand(process.argv0, process.argv.slice(2));
  if (!picked) {
    process.stderr.write(
      `${basename(process.argv0)}: started under an unknown name; run it as ${COMMANDS.join(", ")} (links to this file), or give one of those names as the first argument\n`,
    );
    process.exitCode = 1;
    return;
  }
  // Loaded on demand, so the commands do not pay for starting the server's modules.
  switch (picked.command) {
    case "patch-tracking": {
      const { runServer } = await import("../src/main.ts");
      await runServer(picked.args);
      return;
    }
    case "patch-tracking-cli": {
      const { runCli } = await import("./program.ts");
      process.exitCode = await runCli(picked.args);
      return;
    }
    case "generate_password": {
      const { runGeneratePassword } = await import("./generate-password.ts");
      process.exitCode = await runGeneratePassword(picked.args);
      return;
    }
  }
}

// No top-level await: the binary is built with --bytecode, which rules it out.
if (import.meta.main) void main();
