/** Preloaded by `bun test` (bunfig.toml): run-wide hooks. */
import { afterAll } from "bun:test";
import { removeTempDirs } from "./helpers/temp.ts";

// A top-level afterAll in a preload runs once, after every test file.
afterAll(removeTempDirs);
