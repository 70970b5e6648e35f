/**
 * Real git repositories for tests, built with the `git` binary through the project's safe runner.
 *
 * Every commit has a fixed author and committer and a date one minute after the previous one
 * (starting 2024-01-01T00:00:00Z), so the same script yields the same shas on every run and every
 * machine. A repository made here can serve directly as an upstream (`repo.dir` or `repo.url`).
 *
 * ```ts
 * const repo = await GitRepo.init(join(tempDir(), "up"));
 * const base = await repo.commit("init", { "a.txt": "a\n" });
 * await repo.commit("binary", { "logo.bin": new Uint8Array([0, 1, 2]) });
 * await repo.rename("a.txt", "docs/a.txt", "move a");
 * await repo.commitRaw(new Uint8Array([0x43, 0x61, 0x66, 0xe9, 0x0a])); // "Caf\xe9", Latin-1
 * ```
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { git, gitBytes, runGit } from "../../src/git.ts";

/** 2024-01-01T00:00:00Z, the clock of the first commit (plus one minute). */
const START_SECONDS = 1_704_067_200;

export interface Identity {
  name: string;
  email: string;
}

export const AUTHOR: Identity = { name: "Ada Author", email: "ada@example.com" };
export const COMMITTER: Identity = { name: "Carl Committer", email: "carl@example.com" };

/** File contents to write; `null` deletes the file. */
export type FileChanges = Record<string, string | Uint8Array | null>;

export interface CommitOptions {
  /** Defaults to {@link AUTHOR}. */
  author?: Identity;
  /** Any date git accepts (`2024-03-01T12:00:00+02:00`, `@1700000000 +0000`); default: the clock. */
  authorDate?: string;
  /** Any date git accepts; default: the clock. */
  committerDate?: string;
  /**
   * Declares the message's encoding (`i18n.commitEncoding`, e.g. `ISO-8859-1`): the commit gets
   * an `encoding` header and keeps the message bytes as given.
   */
  encoding?: string;
}

export class GitRepo {
  private clock = START_SECONDS;
  private messageCount = 0;
  private gitDir: string | undefined;

  private constructor(
    /** The work tree (or, for a bare repository, the repository itself). */
    readonly dir: string,
  ) {}

  /** A new repository in `dir` (created if needed) with `branch` (default `main`) unborn. */
  static async init(dir: string, options: { branch?: string; bare?: boolean } = {}) {
    mkdirSync(dir, { recursive: true });
    const bare = options.bare ? ["--bare"] : [];
    await git(["init", "-q", ...bare, "-b", options.branch ?? "main", "--", dir]);
    return new GitRepo(dir);
  }

  /** A clone of `source` (path or URL) in `dir`, with `branch` checked out when given. */
  static async clone(source: string, dir: string, options: { branch?: string } = {}) {
    const branch = options.branch ? ["-b", options.branch] : [];
    await git(["clone", "-q", "--no-local", ...branch, "--", source, dir]);
    return new GitRepo(dir);
  }

  /** `file://` URL of this repository. */
  get url(): string {
    return pathToFileURL(this.dir).href;
  }

  /** Environment with the fixed identities; advances the clock by one minute. */
  private env(options: CommitOptions = {}): Record<string, string> {
    this.clock += 60;
    const now = `@${this.clock} +0000`;
    const author = options.author ?? AUTHOR;
    return {
      GIT_AUTHOR_NAME: author.name,
      GIT_AUTHOR_EMAIL: author.email,
      GIT_AUTHOR_DATE: options.authorDate ?? now,
      GIT_COMMITTER_NAME: COMMITTER.name,
      GIT_COMMITTER_EMAIL: COMMITTER.email,
      GIT_COMMITTER_DATE: options.committerDate ?? now,
    };
  }

  /** Runs git in the repository with the fixed identities; returns stdout as text. */
  git(args: readonly string[]): Promise<string> {
    return git(args, { cwd: this.dir, env: this.env() });
  }

  /** Writes (or with `null` deletes) files in the work tree without committing. */
  write(files: FileChanges): void {
    for (const [path, content] of Object.entries(files)) {
      const full = join(this.dir, path);
      if (content === null) {
        rmSync(full, { force: true });
        continue;
      }
      mkdirSync(dirname(full), { recursive: true });
      writeFileSync(full, content);
    }
  }

  /**
   * Writes `files`, stages everything and commits (an empty commit when nothing changed); returns
   * the new commit's sha. The message goes through a file (`git commit -F`), so its bytes reach
   * git unchanged. Note: without `options.encoding`, git itself rewrites a message that is not
   * valid UTF-8 (it reads the bad bytes as Latin-1 and stores UTF-8); use `encoding` for a
   * declared legacy encoding, or {@link commitRaw} for undeclared raw bytes.
   */
  async commit(
    message: string | Uint8Array,
    files: FileChanges = {},
    options: CommitOptions = {},
  ): Promise<string> {
    this.write(files);
    await git(["add", "-A"], { cwd: this.dir });
    this.gitDir ??= (await git(["rev-parse", "--absolute-git-dir"], { cwd: this.dir })).trim();
    const messageFile = join(this.gitDir, `test-message-${++this.messageCount}`);
    writeFileSync(messageFile, message);
    const encoding = options.encoding ? ["-c", `i18n.commitEncoding=${options.encoding}`] : [];
    try {
      await git(
        [
          ...encoding,
          "commit",
          "-q",
          "--allow-empty",
          "--no-verify",
          "--cleanup=verbatim",
          "-F",
          messageFile,
        ],
        { cwd: this.dir, env: this.env(options) },
      );
    } finally {
      rmSync(messageFile, { force: true });
    }
    return this.head();
  }

  /**
   * Like {@link commit}, but writes the commit object itself (`git hash-object -t commit`), so
   * the message bytes are stored exactly as given with no `encoding` header — what old tools and
   * imports produced, and what `git commit` refuses to write. Fixed identities, the clock's date.
   */
  async commitRaw(message: Uint8Array, files: FileChanges = {}): Promise<string> {
    this.write(files);
    await git(["add", "-A"], { cwd: this.dir });
    const tree = (await git(["write-tree"], { cwd: this.dir })).trim();
    const parent = await runGit(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], {
      cwd: this.dir,
    });
    const parentSha = new TextDecoder().decode(parent.stdout).trim();
    this.clock += 60;
    const when = `${this.clock} +0000`;
    const header = [
      `tree ${tree}`,
      ...(parent.code === 0 && parentSha ? [`parent ${parentSha}`] : []),
      `author ${AUTHOR.name} <${AUTHOR.email}> ${when}`,
      `committer ${COMMITTER.name} <${COMMITTER.email}> ${when}`,
      "",
      "",
    ].join("\n");
    const object = new Uint8Array([...new TextEncoder().encode(header), ...message]);
    const sha = (
      await git(["hash-object", "-t", "commit", "-w", "--stdin"], { cwd: this.dir, input: object })
    ).trim();
    await git(["update-ref", "HEAD", sha], { cwd: this.dir });
    return sha;
  }

  /** A commit that changes no file. */
  emptyCommit(message: string, options: CommitOptions = {}): Promise<string> {
    return this.commit(message, {}, options);
  }

  /** `git mv from to` and a commit; returns its sha. */
  async rename(from: string, to: string, message: string): Promise<string> {
    mkdirSync(dirname(join(this.dir, to)), { recursive: true });
    await git(["mv", "--", from, to], { cwd: this.dir });
    return this.commit(message);
  }

  /** Switches to `branch`; `create` makes it at the current commit, `orphan` with no history. */
  async checkout(branch: string, options: { create?: boolean; orphan?: boolean } = {}) {
    const flag = options.orphan ? ["--orphan"] : options.create ? ["-b"] : [];
    await git(["checkout", "-q", ...flag, branch], { cwd: this.dir });
    if (options.orphan) {
      await git(["rm", "-rqf", "--cached", "--ignore-unmatch", "."], { cwd: this.dir });
      await git(["clean", "-fdxq"], { cwd: this.dir });
    }
  }

  /** Creates (or with `force`, moves) `branch` to `at` (default HEAD) without switching. */
  async branch(name: string, at = "HEAD", options: { force?: boolean } = {}) {
    await git(["branch", ...(options.force ? ["-f"] : []), "--", name, at], { cwd: this.dir });
  }

  /** `git merge --no-ff` of `branch` into the current branch; returns the merge commit. */
  async merge(branch: string, message: string, options: CommitOptions = {}): Promise<string> {
    await git(["merge", "-q", "--no-ff", "--no-edit", "-m", message, branch], {
      cwd: this.dir,
      env: this.env(options),
    });
    return this.head();
  }

  /** `git reset --hard <ref>`: rewrites the current branch, as a force-push would upstream. */
  async resetHard(ref: string) {
    await git(["reset", "-q", "--hard", ref], { cwd: this.dir });
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
      this.clock += 60;
      const when = `${this.clock} +0000`;
      lines.push(
        `commit ${branch}`,
        `mark :${i}`,
        `author ${AUTHOR.name} <${AUTHOR.email}> ${when}`,
        `committer ${COMMITTER.name} <${COMMITTER.email}> ${when}`,
        data(`${label} ${i}\n`),
        i === 1 ? `from ${parent}` : `from :${i - 1}`,
        `M 100644 inline ${label}.txt`,
        data(`${label} ${i}\n`),
        "",
      );
    }
    await git(["fast-import", "--quiet"], { cwd: this.dir, input: `${lines.join("\n")}\n` });
    await git(["reset", "-q", "--hard"], { cwd: this.dir });
    return this.revList(["--reverse", `${parent}..HEAD`]);
  }

  /** Full sha of `ref` (default HEAD). */
  async head(ref = "HEAD"): Promise<string> {
    const out = await git(["rev-parse", "--verify", "--end-of-options", `${ref}^{commit}`], {
      cwd: this.dir,
    });
    return out.trim();
  }

  /** Tree sha of `ref`: equal trees mean equal content. */
  async tree(ref = "HEAD"): Promise<string> {
    return (await git(["rev-parse", "--verify", `${ref}^{tree}`], { cwd: this.dir })).trim();
  }

  /** `git rev-list <args>` as a list of shas. */
  async revList(args: readonly string[]): Promise<string[]> {
    const out = (await git(["rev-list", ...args], { cwd: this.dir })).trim();
    return out ? out.split("\n") : [];
  }

  /** Raw bytes of the commit object (headers and message). */
  rawCommit(sha: string): Promise<Uint8Array> {
    return gitBytes(["cat-file", "commit", sha], { cwd: this.dir });
  }

  /**
   * Applies patches in order with `git am --keep-cr` onto the current branch, keeping the
   * patches' authors and bytes (`--keep-non-patch`, no re-encoding); returns the new HEAD.
   */
  async am(patches: readonly Uint8Array[]): Promise<string> {
    for (const patch of patches) {
      await git(["am", "-q", "--keep-cr", "--keep-non-patch", "--no-utf8", "--empty=keep"], {
        cwd: this.dir,
        env: this.env(),
        input: patch,
      });
    }
    return this.head();
  }
}
