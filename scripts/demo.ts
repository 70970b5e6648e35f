/**
 * `npm run demo`: the whole flow on this machine, no network. It starts the GitHub and Gitee
 * emulators (the same ones the tests use), runs the real service against them, adds a tracking
 * with the CLI, commits upstream, waits for the scan, and prints the resulting issue, pull
 * request, patch files and spec diff.
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawn } from "bun";
import type { TrackingOverview } from "../src/db/status.ts";
import { hashPassword } from "../src/password/rules.ts";
import { unifiedDiff } from "../src/scan/text-diff.ts";
import { startGiteeEmulator } from "../tests/emulators/gitee.ts";
import { startGithubEmulator } from "../tests/emulators/github.ts";
import { GitRepo } from "../tests/helpers/git-repo.ts";
import { freePort } from "../tests/helpers/net.ts";
import { startServerProcess } from "../tests/helpers/server-process.ts";
import { writeSettings } from "../tests/helpers/settings.ts";

const root = join(import.meta.dir, "..");

interface StatusAnswer {
  data: { trackings: TrackingOverview[] };
}
const PASSWORD = "Demo@2026";
const GITHUB_TOKEN = "demo-github-token-for-the-emulator";
const GITEE_TOKEN = "gitee-demo-token-0000000000000000";
const SPEC = `Name:           hello
Version:        2.12
Release:        1
Summary:        The GNU Hello program
License:        GPLv3+
Source0:        https://ftp.gnu.org/gnu/hello/hello-%{version}.tar.gz

%description
Prints a friendly greeting.

%prep
%autosetup -n hello-%{version} -p1

%build
%configure
%make_build

%install
%make_install

%files
%{_bindir}/hello

%changelog
* Mon Jan 01 2024 Packager <packager@example.com> - 2.12-1
- Package hello 2.12
`;

function step(text: string) {
  console.log(`\n\x1b[1m== ${text}\x1b[0m`);
}

async function run(command: string[], env: Record<string, string> = {}) {
  const proc = spawn(command, {
    cwd: root,
    env: { ...process.env, ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, text: `${out}${err}`.trim() };
}

const work = mkdtempSync(join(tmpdir(), "pt-demo-"));
step("Starting the GitHub and Gitee emulators");
const upstream = await GitRepo.init(join(work, "hello-upstream"));
await upstream.commit("Release 2.12", { "src/hello.c": 'int main(void) { puts("Hello"); }\n' });
const github = startGithubEmulator({ repos: { "gnu/hello": upstream.dir }, token: GITHUB_TOKEN });
const gitee = startGiteeEmulator({ token: GITEE_TOKEN, login: "patch-tracking-bot" });
gitee.addRepo("src-openeuler/hello", { files: { "hello.spec": SPEC } });
console.log(`GitHub emulator ${github.url} serving gnu/hello from ${upstream.dir}`);
console.log(`Gitee emulator  ${gitee.url} holding src-openeuler/hello`);

step("Starting patch-tracking with a scan every 2 seconds");
const port = await freePort();
const settings = writeSettings(work, {
  LISTEN: `"127.0.0.1:${port}"`,
  PLAIN_HTTP: "True",
  GITHUB_ACCESS_TOKEN: `"${GITHUB_TOKEN}"`,
  GITEE_ACCESS_TOKEN: `"${GITEE_TOKEN}"`,
  GITHUB_API_URL: `"${github.url}"`,
  GITEE_API_URL: `"${gitee.url}"`,
  SCAN_DB_INTERVAL: 2,
  PASSWORD: `"${await hashPassword(PASSWORD)}"`,
  LOG_LEVEL: '"warn"',
});
const server = startServerProcess(["--config", settings]);
const url = await server.ready;
console.log(`patch-tracking listening on ${url}`);

let exitCode = 0;
try {
  step("Adding a tracking with patch-tracking-cli (no scm_commit: tracking starts from now)");
  const add = await run(
    [
      process.execPath,
      "cli/patch-tracking-cli.ts",
      "add",
      "--server",
      url,
      "--user",
      "admin",
      "--version_control",
      "github",
      "--scm_repo",
      "gnu/hello",
      "--scm_branch",
      "main",
      "--repo",
      "src-openeuler/hello",
      "--branch",
      "master",
      "--enabled",
      "true",
    ],
    {
      PATCH_TRACKING_PASSWORD: PASSWORD,
      GITHUB_API_URL: github.url,
      GITHUB_TOKEN: GITHUB_TOKEN,
      GITEE_API_URL: gitee.url,
      GITEE_ACCESS_TOKEN: GITEE_TOKEN,
    },
  );
  console.log(add.text);
  if (add.code !== 0) throw new Error("adding the tracking failed");

  const status = async () =>
    ((await (await fetch(`${url}/tracking/status`)).json()) as StatusAnswer).data.trackings[0];
  while (!(await status())?.tracking.scm_commit) await Bun.sleep(200);
  console.log(`upstream head recorded: ${(await status())?.tracking.scm_commit}`);

  step("Committing two fixes upstream");
  const first = await upstream.commit("Fix greeting when LANG is unset\n\nFalls back to English.", {
    "src/hello.c": 'int main(void) { puts("Hello, world"); }\n',
  });
  const second = await upstream.commit("Add --version option | closes #12", {
    "src/version.c": 'const char *version = "2.12.1";\n',
  });
  console.log(`${first.slice(0, 12)} Fix greeting when LANG is unset`);
  console.log(`${second.slice(0, 12)} Add --version option | closes #12`);

  step("Waiting for the next scan");
  const started = Date.now();
  // A scan may fall between the two commits: the second then joins the open proposal (rolling
  // proposals) at the next scan, so wait until the issue lists both.
  const proposedBoth = () =>
    gitee.repo("src-openeuler/hello").issues[0]?.body.includes(second.slice(0, 7)) ?? false;
  while (!(await status())?.lastRun || !proposedBoth()) {
    if (Date.now() - started > 30_000) throw new Error("no proposal within 30 s");
    await Bun.sleep(250);
  }
  console.log(`proposed after ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const repo = gitee.repo("src-openeuler/hello");
  const issue = repo.issues[0];
  const pull = repo.pulls[0];
  if (!issue || !pull) throw new Error("the issue or pull request is missing");
  const branch = repo.branches[pull.head];
  if (!branch) throw new Error(`work branch ${pull.head} is missing`);

  step(`Issue #${issue.number}: ${issue.title}`);
  console.log(issue.body);
  step(`Pull request !${pull.number}: ${pull.title}`);
  console.log(`${pull.head} → ${pull.base}\nbody: ${pull.body}`);
  step("Files on the work branch");
  for (const [path, file] of Object.entries(branch.files))
    console.log(`${path}  (${file.bytes.length} bytes)`);
  step("Spec diff (master → work branch)");
  const before = repo.branches.master?.files["hello.spec"]?.text ?? "";
  console.log(await unifiedDiff("hello.spec", before, branch.files["hello.spec"]?.text ?? ""));
  step(`First patch: ${first}.patch`);
  console.log(branch.files[`${first}.patch`]?.text);
} catch (error) {
  console.error(`demo failed: ${(error as Error).message}`);
  console.error(server.output());
  exitCode = 1;
} finally {
  await server.stop();
  await github.stop();
  await gitee.stop();
  rmSync(work, { recursive: true, force: true });
}
process.exit(exitCode);
