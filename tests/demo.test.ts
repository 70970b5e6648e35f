import { expect, test } from "bun:test";
import { join } from "node:path";
import { PROJECT_ROOT, runCommand } from "./helpers/server-process.ts";

test("npm run demo proposes the upstream fixes end to end", async () => {
  const result = await runCommand([process.execPath, join(PROJECT_ROOT, "scripts", "demo.ts")]);
  expect(result.stderr).not.toContain("demo failed");
  expect(result.code).toBe(0);
  expect(result.stdout).toMatch(/Issue #I[0-9A-Z]+: \[patch tracking\] master \d{20}/);
  expect(result.stdout).toMatch(/Pull request !1: \[patch tracking\] \d{20}/);
  expect(result.stdout).toContain("+Patch6000:");
  expect(result.stdout).toContain("Add --version option \\| closes #12");
  // The demo waits for the scan that proposed both commits: up to two scan intervals.
}, 30_000);
