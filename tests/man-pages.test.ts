/**
 * The man pages and the bash completion come from the programs' own commander definitions: every
 * command and option the programs parse is in them, and groff reads them without a warning.
 * (tests/packaging.test.ts renders the installed ones with `man -l`.)
 */
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describeProgram } from "../cli/program.ts";
import { bashCompletion, documentation, roff } from "../scripts/man-pages.ts";
import { serverProgram } from "../src/main.ts";
import { tempDir } from "./helpers/temp.ts";

const docs = await documentation();
const page = (file: string) => docs.pages.find((item) => item.file === file)?.text ?? "";

describe("man pages", () => {
  test("one per program, in the right section", () => {
    expect(docs.pages.map((item) => item.file).sort()).toEqual(
      ["generate_password.1", "patch-tracking-cli.1", "patch-tracking.8"].sort(),
    );
  });

  test("every command and option the CLI parses is documented", () => {
    const text = page("patch-tracking-cli.1");
    for (const command of describeProgram().commands) {
      expect(text).toContain(`.SS ${command.name()}\n`);
      for (const option of command.options) expect(text).toContain(roff(option.flags));
    }
    for (const option of serverProgram().options)
      expect(page("patch-tracking.8")).toContain(roff(option.flags));
  });

  test("groff reads them without warnings", () => {
    const dir = tempDir();
    for (const item of docs.pages) {
      const path = join(dir, item.file);
      writeFileSync(path, item.text);
      const result = Bun.spawnSync(["groff", "-man", "-ww", "-z", path], { stderr: "pipe" });
      expect(result.stderr.toString()).toBe("");
      expect(result.exitCode).toBe(0);
    }
  });

  test("roff escaping: a leading dot, backslashes and hyphens", () => {
    expect(roff(".hidden\n'quote\na\\b --x")).toBe("\\&.hidden\n\\&'quote\na\\eb \\-\\-x");
  });
});

describe("bash completion", () => {
  test("offers each command's options and the values of enumerated ones", () => {
    const script = bashCompletion(describeProgram());
    const dir = tempDir();
    const path = join(dir, "completion");
    writeFileSync(path, script);
    const complete = (...words: string[]) =>
      Bun.spawnSync(
        [
          "bash",
          "-c",
          `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _patch_tracking_cli; printf '%s\\n' "\${COMPREPLY[@]}"`,
          "complete",
          path,
          ...words,
        ],
        { stdout: "pipe" },
      )
        .stdout.toString()
        .trim()
        .split("\n");
    expect(complete("patch-tracking-cli", "d")).toEqual(["delete", "doctor"]);
    expect(complete("patch-tracking-cli", "filter", "--ex")).toEqual(["--exclude-path"]);
    expect(complete("patch-tracking-cli", "query", "--table", "")).toEqual(["tracking", "issue"]);
    expect(complete("patch-tracking-cli", "add", "--repo", "x")).toEqual([""]);
  });
});
