/**
 * Apply check cost: one check (reproduce %prep from a 50 MB `.tar.gz`, apply the package's own
 * patch, try three upstream patches) timed, with its peak memory, against a baseline measured in
 * the same run: what a packager's shell does by hand (`tar xzf` + `patch` with the same patches).
 *
 * The check runs in a child process (`--child FIXTURE`) so its peak RSS is its own. Decompression
 * and patching are separate processes in both cases; their memory is small and not counted.
 *
 * Usage: `bun bench/apply-check.ts [--mb 50]`
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { checkCommits, verdictText } from "../src/scan/apply-check.ts";
import { DEFAULT_SOURCE_LIMITS } from "../src/scan/sources/limits.ts";
import type { PackageFiles } from "../src/scan/sources/package-files.ts";
import { GitRepo } from "../tests/helpers/git-repo.ts";
import { fooSpec, formatPatch, gitArchive } from "../tests/helpers/package-sources.ts";
import { tempDir } from "../tests/helpers/temp.ts";
import { flagValue, fmt, log, table } from "./lib.ts";

/** A package folder read as the forge would serve it (the sha is the file name). */
function folderFiles(dir: string): PackageFiles {
  return {
    async list() {
      return readdirSync(dir).map((path) => ({
        path,
        sha: path,
        size: statSync(join(dir, path)).size,
      }));
    },
    async fetch(entry) {
      return join(dir, entry.path);
    },
  };
}

async function child(fixture: string): Promise<void> {
  const patches = JSON.parse(await Bun.file(join(fixture, "proposed.json")).text()) as string[];
  const started = performance.now();
  const report = await checkCommits({
    files: folderFiles(join(fixture, "package")),
    specPath: "foo.spec",
    commits: await Promise.all(
      patches.map(async (file) => ({
        sha: file,
        patch: new Uint8Array(await Bun.file(join(fixture, file)).arrayBuffer()),
      })),
    ),
    limits: DEFAULT_SOURCE_LIMITS,
    workRoot: fixture,
  });
  const ms = performance.now() - started;
  console.log(
    JSON.stringify({
      ms,
      maxRssKb: process.resourceUsage().maxRSS,
      verdicts: report.verdicts.map(verdictText),
    }),
  );
}

/** Lines of random base64 text: compresses to about three quarters, like real mixed sources. */
function noise(bytes: number): string {
  return (
    randomBytes(Math.ceil((bytes * 3) / 4))
      .toString("base64")
      .match(/.{1,76}/g)
      ?.join("\n") ?? ""
  );
}

async function fixture(targetMb: number): Promise<{ dir: string; archiveBytes: number }> {
  const dir = tempDir("pt-bench-apply-");
  const repo = await GitRepo.init(join(dir, "upstream"));
  // gzip keeps about 76 % of base64 noise: unpacked size ≈ target / 0.76.
  const main = (first: string, result: number) =>
    `${first}\n{\n${"\t/* filler */\n".repeat(10)}\treturn ${result};\n}\n`;
  const files: Record<string, string> = { "src/main.c": main("int main(void)", 0) };
  const fileBytes = 64 * 1024;
  const count = Math.ceil((targetMb * 1024 * 1024) / 0.76 / fileBytes);
  for (let i = 0; i < count; i++)
    files[`data/part-${String(i).padStart(5, "0")}.txt`] = noise(fileBytes);
  await repo.commit("import", files);
  // In the archive already: the "already applied" commit.
  const fixBefore = await repo.commit("return 1", { "src/main.c": main("int main(void)", 1) });
  await repo.git(["tag", "v1.2"]);
  await repo.checkout("downstream", { create: true });
  const carried = await repo.commit("downstream", {
    "src/main.c": main("int main(int argc, char **argv)", 1),
  });
  await repo.checkout("main");
  const applies = await repo.commit("add helper", { "src/helper.c": "int helper;\n" });
  // Changes the line the downstream patch changed: a conflict.
  const conflict = await repo.commit("static main", {
    "src/main.c": main("static int main(void)", 1),
  });
  const pkg = join(dir, "package");
  mkdirSync(pkg);
  const archive = await gitArchive(repo, "v1.2", "foo-1.2/", "tar.gz");
  writeFileSync(join(pkg, "foo-1.2.tar.gz"), archive);
  writeFileSync(join(pkg, "foo.spec"), fooSpec("%autosetup -p1"));
  writeFileSync(join(pkg, "0001-downstream.patch"), await formatPatch(repo, carried));
  const proposed: string[] = [];
  for (const [name, sha] of [
    ["applies.patch", applies],
    ["conflict.patch", conflict],
    ["already.patch", fixBefore],
  ] as const) {
    writeFileSync(join(dir, name), await formatPatch(repo, sha));
    proposed.push(name);
  }
  writeFileSync(join(dir, "proposed.json"), JSON.stringify(proposed));
  return { dir, archiveBytes: archive.length };
}

/** The packager's way, in a shell: unpack, apply the carried patch, try the three. */
function baseline(dir: string): number {
  const work = join(dir, "by-hand");
  mkdirSync(work, { recursive: true });
  const script = [
    `tar xzf ${join(dir, "package/foo-1.2.tar.gz")} -C ${work}`,
    `cd ${work}/foo-1.2`,
    `patch -s -p1 --fuzz=0 < ${join(dir, "package/0001-downstream.patch")}`,
    `patch -s -p1 < ${join(dir, "applies.patch")}`,
    `patch -s -p1 --dry-run < ${join(dir, "conflict.patch")} || true`,
    `patch -s -p1 -R --dry-run < ${join(dir, "already.patch")} || true`,
  ].join(" && ");
  const started = performance.now();
  const result = Bun.spawnSync(["sh", "-c", script], { stdout: "ignore", stderr: "ignore" });
  if (result.exitCode !== 0) throw new Error("baseline shell failed");
  return performance.now() - started;
}

if (process.argv[2] === "--child") {
  await child(process.argv[3] ?? "");
} else {
  const targetMb = Number(flagValue("--mb") ?? 50);
  log(`making a ${targetMb} MB archive from a git repository ...`);
  const { dir, archiveBytes } = await fixture(targetMb);
  const base = baseline(dir);
  const run = Bun.spawnSync([process.execPath, import.meta.path, "--child", dir], {
    stdout: "pipe",
    stderr: "inherit",
  });
  const result = JSON.parse(run.stdout.toString()) as {
    ms: number;
    maxRssKb: number;
    verdicts: string[];
  };
  console.log(
    table([
      ["measure", "value"],
      ["archive (.tar.gz)", `${fmt(archiveBytes / 1024 / 1024)} MB`],
      ["verdicts", result.verdicts.join("; ")],
      ["apply check, wall time", `${fmt(result.ms)} ms`],
      ["by hand (tar xzf + patch), wall time", `${fmt(base)} ms`],
      ["ratio check / by hand", `${fmt(result.ms / base, 2)}x`],
      ["apply check process, peak RSS", `${fmt(result.maxRssKb / 1024)} MB`],
    ]),
  );
}
