/**
 * Real git repositories for the GitHub emulator's tests, built with `git` and fixed identities and
 * dates (one minute apart) so every sha is the same on every run.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { git } from "../../src/git.ts";

/** 2024-01-01T00:00:00Z */
const START = 1_704_067_200;

export class TestRepo {
  private time = START;

  private constructor(readonly dir: string) {}

  /** A fresh non-bare repository with branch `main` checked out and no commits. */
  static async create(dir: string): Promise<TestRepo> {
    mkdirSync(dir, { recursive: true });
    await git(["init", "-q", "-b", "main", dir]);
    return new TestRepo(dir);
  }

  private env(): Record<string, string> {
    this.time += 60;
    const date = `@${this.time} +0000`;
    return {
      GIT_AUTHOR_NAME: "Ada Author",
      GIT_AUTHOR_EMAIL: "ada@example.com",
      GIT_AUTHOR_DATE: date,
      GIT_COMMITTER_NAME: "Carl Committer",
      GIT_COMMITTER_EMAIL: "carl@example.com",
      GIT_COMMITTER_DATE: date,
    };
  }

  git(args: string[]): Promise<string> {
    return git(args, { cwd: this.dir, env: this.env() });
  }

  /** Writes (or, with null, deletes) files, then commits everything; returns the new sha. */
  async commit(
    message: string | Uint8Array,
    files: Record<string, string | Uint8Array | null> = {},
  ): Promise<string> {
    for (const [path, content] of Object.entries(files)) {
      const full = join(this.dir, path);
      if (content === null) {
        rmSync(full, { force: true });
        continue;
      }
      mkdirSync(dirname(full), { recursive: true });
      writeFileSync(full, content);
    }
    await git(["add", "-A"], { cwd: this.dir });
    await git(["commit", "-q", "--allow-empty", "--no-verify", "-F", "-"], {
      cwd: this.dir,
      env: this.env(),
      input: message,
    });
    return this.head();
  }

  async rename(from: string, to: string, message: string): Promise<string> {
    mkdirSync(dirname(join(this.dir, to)), { recursive: true });
    await git(["mv", from, to], { cwd: this.dir });
    return this.commit(message);
  }

  /** `git merge --no-ff` of `branch` into the current branch. */
  async merge(branch: string, message: string): Promise<string> {
    await this.git(["merge", "-q", "--no-ff", "-m", message, branch]);
    return this.head();
  }

  async checkout(branch: string, options: { create?: boolean; orphan?: boolean } = {}) {
    const flag = options.orphan ? ["--orphan"] : options.create ? ["-b"] : [];
    await git(["checkout", "-q", ...flag, branch], { cwd: this.dir });
    if (options.orphan)
      await git(["rm", "-rq", "--cached", "--ignore-unmatch", "."], { cwd: this.dir });
  }

  /**
   * `count` one-line commits on top of the current branch in a single `git fast-import` run
   * (hundreds of `git commit` calls would take seconds); returns their shas, oldest first.
   */
  async bulk(count: number, label: string): Promise<string[]> {
    const branch = (await git(["symbolic-ref", "HEAD"], { cwd: this.dir })).trim();
    const parent = await this.head();
    const lines: string[] = [];
    const data = (text: string) => `data ${Buffer.byteLength(text)}\n${text}`;
    for (let i = 1; i <= count; i++) {
      this.time += 60;
      const who = `${this.time} +0000`;
      lines.push(
        `commit ${branch}`,
        `mark :${i}`,
        `author Ada Author <ada@example.com> ${who}`,
        `committer Carl Committer <carl@example.com> ${who}`,
        data(`${label} ${i}\n`),
        i === 1 ? `from ${parent}` : `from :${i - 1}`,
        `M 100644 inline ${label}.txt`,
        data(`${label} ${i}\n`),
        "",
      );
    }
    await git(["fast-import", "--quiet"], { cwd: this.dir, input: `${lines.join("\n")}\n` });
    await git(["reset", "-q", "--hard"], { cwd: this.dir });
    const shas = await git(["rev-list", "--reverse", `${parent}..HEAD`], { cwd: this.dir });
    return shas.trim().split("\n");
  }

  async head(ref = "HEAD"): Promise<string> {
    return (await git(["rev-parse", "--verify", `${ref}^{commit}`], { cwd: this.dir })).trim();
  }

  /** `git rev-list <args>` as a list of shas. */
  async revList(args: string[]): Promise<string[]> {
    const out = (await git(["rev-list", ...args], { cwd: this.dir })).trim();
    return out ? out.split("\n") : [];
  }
}
