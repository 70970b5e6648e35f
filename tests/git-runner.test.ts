import { describe, expect, test } from "bun:test";
import { GitError, git, runGit } from "../src/git.ts";
import { tempDir } from "./helpers/temp.ts";

describe("runGit", () => {
  test("a timed-out git is killed even when a child process keeps its pipes open", async () => {
    const started = performance.now();
    // The alias runs `sleep` in a shell that inherits git's stdout/stderr and outlives git.
    const run = runGit(["-c", "alias.hang=!sleep 20", "hang"], { timeoutMs: 200 });
    const error = await run.catch((caught) => caught);
    expect(error).toBeInstanceOf(GitError);
    expect((error as GitError).timedOut).toBe(true);
    expect(performance.now() - started).toBeLessThan(5000);
  });

  test("user and system configuration cannot change the output", async () => {
    const dir = tempDir();
    await git(["init", "-q", "-b", "main", dir]);
    const result = await runGit(["config", "--list", "--show-origin"], { cwd: dir });
    const text = new TextDecoder().decode(result.stdout);
    expect(text).not.toContain("file:/etc/gitconfig");
    expect(text).not.toMatch(/file:\/root\/\.gitconfig/);
    expect(text).toContain("command line:");
  });

  test("prompts are disabled", async () => {
    const env = await runGit(["-c", "alias.env=!env", "env"]);
    expect(new TextDecoder().decode(env.stdout)).toContain("GIT_TERMINAL_PROMPT=0");
  });
});
