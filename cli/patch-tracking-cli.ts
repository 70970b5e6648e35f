#!/usr/bin/env bun
/** `patch-tracking-cli`: add, query and delete trackings of a patch-tracking service. */
import { runCli } from "./program.ts";

if (import.meta.main) {
  process.exitCode = await runCli(process.argv.slice(2));
}
