#!/usr/bin/env bun
/** `patch-tracking-cli`: add, query and delete trackings of a patch-tracking service. */
import { runCli } from "./program.ts";

// No top-level await: the compiled binary is built with --bytecode, which rules it out.
if (import.meta.main) {
  void runCli(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
