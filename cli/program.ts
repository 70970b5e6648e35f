/**
 * The `patch-tracking-cli` command line: the original's subcommands and underscored long options,
 * parsed by commander; the work happens in `commands/`.
 */
import { Command, CommanderError, Option } from "commander";
import { VERSION } from "../src/version.ts";
import type { AddOptions } from "./commands/add.ts";
import type { DeleteOptions } from "./commands/delete.ts";
import type { DoctorOptions } from "./commands/doctor.ts";
import type { FilterOptions } from "./commands/filter.ts";
import type { PlanOptions } from "./commands/plan.ts";
import type { QueryOptions } from "./commands/query.ts";
import type { ScanOptions } from "./commands/scan.ts";
import type { StatusOptions } from "./commands/status.ts";
import { DEFAULT_CA_FILE, helpHint, PASSWORD_ENV, PROGRAM } from "./defaults.ts";
import { CliError, formatCliError } from "./errors.ts";
import { type CliIo, processIo } from "./io.ts";

export { PROGRAM };

const ADD_EXAMPLES = `
Examples:
  ${PROGRAM} add --server 127.0.0.1:5001 --user admin --password Test@123 --version_control github --repo testPatchTrack/testPatch1 --branch master --scm_repo BJMX/testPatch01 --scm_branch test --enabled true
  ${PROGRAM} add --server 127.0.0.1:5001 --user admin --password Test@123 --file tracking.yaml
  ${PROGRAM} add --server 127.0.0.1:5001 --user admin --password Test@123 --dir /path/test_yaml/

A tracking file holds one tracking, with the keys of the flags:
  version_control: github
  scm_repo: BJMX/testPatch01
  scm_branch: test
  repo: testPatchTrack/testPatch1
  branch: master
  enabled: true

Pre-add checks use GITHUB_API_URL (default https://api.github.com) with GITHUB_TOKEN or
GITHUB_ACCESS_TOKEN, and GITEE_API_URL (default https://gitee.com/api/v5) with GITEE_ACCESS_TOKEN.`;

const CONNECTION_HELP = `
The server's certificate is checked against --ca FILE, else ${DEFAULT_CA_FILE}
when readable, else the system's certificate store. A certificate from that file is accepted
for any host name (it is pinned), as the self-signed one from the user guide has no host name.`;

function connectionOptions(command: Command): Command {
  return command
    .option("--server <host:port>", "patch-tracking service: host:port (HTTPS) or a full URL")
    .option("--ca <file>", "trust this certificate (PEM) for the service")
    .option("--insecure", "do not verify the service's certificate");
}

function authOptions(command: Command): Command {
  return command
    .option("--user <user>", "user name (USER in settings.conf)")
    .option(
      "--password <password>",
      `password (default: $${PASSWORD_ENV}, else asked on the terminal)`,
    );
}

/** Commander's collector for an option given more than once. */
function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/**
 * Builds the program; `finish` receives each command's exit code. A command's module is loaded
 * when it runs, so `--help`, `--version` and each command load only what they use.
 */
function buildProgram(io: CliIo, finish: (code: number) => void): Command {
  const program = new Command(PROGRAM)
    .description("Manage the trackings of a patch-tracking service")
    .version(VERSION, "-V, --version")
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride()
    .showHelpAfterError()
    .helpCommand(false);

  const add = program
    .command("add")
    .description("add or update trackings: as flags, from one --file, or from every .yaml in --dir")
    .usage(
      "--server SERVER --user USER [--password PASSWORD] (TRACKING FLAGS | --file FILE | --dir DIR)",
    );
  connectionOptions(add);
  authOptions(add);
  add
    .addOption(new Option("--version_control <vcs>", "upstream kind: github or git"))
    .option("--scm_repo <repo>", "upstream repository: owner/name on GitHub, or a git URL")
    .option("--scm_branch <branch>", "upstream branch")
    .option(
      "--scm_commit <sha>",
      "last upstream commit already handled (default: start from the head)",
    )
    .option("--repo <repo>", "downstream Gitee repository: owner/name")
    .option("--branch <branch>", "downstream branch")
    .option("--enabled <bool>", "whether to track: True, true, False or false")
    .option("--file <file>", "read one tracking from this .yaml file")
    .option("--dir <dir>", "read a tracking from every .yaml file in this folder")
    .option("--no-check", "skip checking that the upstream and downstream branches exist")
    .addHelpText("after", `${ADD_EXAMPLES}\n${CONNECTION_HELP}`)
    .showHelpAfterError(helpHint("add"))
    .action(async (options: AddOptions) =>
      finish(await (await import("./commands/add.ts")).runAdd(options, io)),
    );

  const query = program
    .command("query")
    .description("list trackings or the issues the service opened");
  connectionOptions(query);
  query
    .option("--table <table>", "tracking or issue")
    .option("--repo <repo>", "only this downstream repository")
    .option("--branch <branch>", "only this downstream branch")
    .option("--json", "print the rows as JSON (for scripts)")
    .addHelpText(
      "after",
      `\nExample:\n  ${PROGRAM} query --server 127.0.0.1:5001 --table tracking\n${CONNECTION_HELP}`,
    )
    .action(async (options: QueryOptions) =>
      finish(await (await import("./commands/query.ts")).runQuery(options, io)),
    );

  const del = program
    .command("delete")
    .description("delete the tracking of a branch, or of every branch of a repository");
  connectionOptions(del);
  authOptions(del);
  del
    .option("--repo <repo>", "downstream Gitee repository: owner/name")
    .option("--branch <branch>", "only this branch (default: every branch of --repo)")
    .addHelpText(
      "after",
      `\nExample:\n  ${PROGRAM} delete --server 127.0.0.1:5001 --user admin --password Test@123 --repo testPatchTrack/testPatch1 --branch master\n${CONNECTION_HELP}`,
    )
    .action(async (options: DeleteOptions) =>
      finish(await (await import("./commands/delete.ts")).runDelete(options, io)),
    );

  const status = program
    .command("status")
    .description(
      "show each tracking's last scan, outcome, error and newest issue/PR, failing first",
    );
  connectionOptions(status);
  status
    .option("--repo <repo>", "only this downstream repository")
    .option("--branch <branch>", "only this downstream branch")
    .option("--failing", "only trackings whose last scan failed or whose publish run is open")
    .option("--json", "print the service's answer as JSON (for scripts)")
    .addHelpText(
      "after",
      `
Examples:
  ${PROGRAM} status --server 127.0.0.1:5001
  ${PROGRAM} status --server 127.0.0.1:5001 --failing
  ${PROGRAM} status --server 127.0.0.1:5001 --repo src-openeuler/pkg --json

Needs no password. Trackings are named repo@branch; the last error is cut to fit the terminal.
${CONNECTION_HELP}`,
    )
    .action(async (options: StatusOptions) =>
      finish(await (await import("./commands/status.ts")).runStatus(options, io)),
    );

  const scan = program
    .command("scan")
    .description("scan a repository's trackings now and print what each scan did")
    .usage("--server SERVER --user USER [--password PASSWORD] --repo REPO [--branch BRANCH]");
  connectionOptions(scan);
  authOptions(scan);
  scan
    .option("--repo <repo>", "downstream Gitee repository: owner/name")
    .option("--branch <branch>", "only this branch (default: every branch of --repo)")
    .addHelpText(
      "after",
      `
Example:
  ${PROGRAM} scan --server 127.0.0.1:5001 --user admin --repo src-openeuler/pkg --branch master

Waits until the scans are done (progress on stderr) and exits 1 when one failed, diverged or was
rate limited. --repo is required: scanning every tracking at once stays an API call,
POST /tracking/scan without repo (with the same credentials); it answers at once.
${CONNECTION_HELP}`,
    )
    .action(async (options: ScanOptions) =>
      finish(await (await import("./commands/scan.ts")).runScan(options, io)),
    );

  const plan = program
    .command("plan")
    .description(
      "dry run: show what a scan of one tracking (or, with --all, of every one) would propose now, writing nothing",
    )
    .usage(
      "--server SERVER --user USER [--password PASSWORD] (--repo REPO --branch BRANCH | --all) [--json]",
    );
  connectionOptions(plan);
  authOptions(plan);
  plan
    .option("--repo <repo>", "downstream Gitee repository: owner/name")
    .option("--branch <branch>", "downstream branch")
    .option("--all", "the fleet plan: every enabled tracking, a summary line first")
    .option("--json", "print the plan as JSON (for scripts)")
    .addHelpText(
      "after",
      `
Example:
  ${PROGRAM} plan --server 127.0.0.1:5001 --user admin --repo src-openeuler/pkg --branch master

Prints the commits, patch files and sizes, the spec diff, and the issue and pull request a scan
would create. Nothing is written to Gitee or to the database.

With --all: one summary line (trackings, commits and proposals that would be made, those
joining open pull requests, commits already carried, passed over by the filters or already
applied, conflicts, failures), then one line per tracking with something to do. Upstream it costs
what a scan costs (batched head lookups, one compare per moved branch); on Gitee nothing for a
tracking with nothing to propose, else a listing of the package and the files it has not read
before (cached by blob sha). A forge a scan would not ask now (unreachable, rate limited) is
not asked either: its trackings are listed as not checked, with the reason. Progress is shown on
stderr.
${CONNECTION_HELP}`,
    )
    .action(async (options: PlanOptions) =>
      finish(await (await import("./commands/plan.ts")).runPlan(options, io)),
    );

  const filter = program
    .command("filter")
    .description("show or set a tracking's backport filters: which upstream commits get proposed")
    .usage(
      "--server SERVER --repo REPO --branch BRANCH [--user USER [--password PASSWORD]] [--message REGEX] [--include-path GLOB]... [--exclude-path GLOB]... [--clear]",
    );
  connectionOptions(filter);
  authOptions(filter);
  filter
    .option("--repo <repo>", "downstream Gitee repository: owner/name")
    .option("--branch <branch>", "downstream branch")
    .option(
      "--message <regex>",
      "propose only commits whose message matches (RE2 syntax, ^ and $ match at each line)",
    )
    .option(
      "--include-path <glob>",
      "propose only commits touching a matching path (repeatable; src/** for a folder)",
      collect,
    )
    .option(
      "--exclude-path <glob>",
      "pass over commits touching only matching paths (repeatable)",
      collect,
    )
    .option("--clear", "remove every filter: propose every commit again")
    .option("--json", "print the stored filters as JSON (for scripts)")
    .addHelpText(
      "after",
      `
Examples:
  ${PROGRAM} filter --server 127.0.0.1:5001 --repo src-openeuler/pkg --branch openEuler-24.03-LTS
  ${PROGRAM} filter --server 127.0.0.1:5001 --user admin --repo src-openeuler/pkg --branch openEuler-24.03-LTS --message '^(Fixes:|CVE-)' --include-path 'src/**' --exclude-path 'docs/**'
  ${PROGRAM} filter --server 127.0.0.1:5001 --user admin --repo src-openeuler/pkg --branch openEuler-24.03-LTS --clear

Without filter flags it shows the stored filters and needs no password. Setting replaces all
three filters at once. Passed-over commits get no patch file, the tracking still moves past them,
and the proposal's issue counts them with the filter that passed them over.
${CONNECTION_HELP}`,
    )
    .action(async (options: FilterOptions) =>
      finish(await (await import("./commands/filter.ts")).runFilter(options, io)),
    );

  program
    .command("doctor")
    .description(
      "check settings.conf, certificate, database, git, tokens and clock on this machine",
    )
    .usage("[--config FILE]")
    .option(
      "-c, --config <file>",
      "settings file (default: $PATCH_TRACKING_CONFIG or /etc/patch-tracking/settings.conf)",
    )
    .addHelpText(
      "after",
      `
Example:
  sudo -u patch-tracking ${PROGRAM} doctor

Prints one line per check (ok, warn or fail): every settings key, the certificate and key
(readable, a pair, expiry), the database (schema version, writable), GIT_BASE_PATH, git, the
GitHub and Gitee tokens (accepted, scopes, requests left) and the clock against both forges.
Exits 1 when a check failed. Tokens are never printed. Run it as the service's user, so file
permissions are checked as the service sees them; patch-tracking --check-config does the same.`,
    )
    .action(async (options: DoctorOptions) =>
      finish(await (await import("./commands/doctor.ts")).runDoctorCommand(options, io)),
    );

  return program;
}

/** The command line without running anything: the source of the man page and bash completion. */
export function describeProgram(): Command {
  const quiet: CliIo = {
    out: () => {},
    err: () => {},
    env: {},
    interactive: false,
    askSecret: async () => "",
  };
  return buildProgram(quiet, () => {});
}

/**
 * Runs `patch-tracking-cli` with `argv` (without the program name) and returns the exit code:
 * 0 on success, 1 on any error (already printed).
 */
export async function runCli(argv: string[], io: CliIo = processIo()): Promise<number> {
  let code = 0;
  const program = buildProgram(io, (result) => {
    code = result;
  });
  try {
    await program.parseAsync(argv, { from: "user" });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 1;
    if (error instanceof CliError) {
      const command = program.commands.find((c) => c.name() === argv[0]);
      io.err(`${PROGRAM}${command ? ` ${command.name()}` : ""}: error: ${formatCliError(error)}\n`);
      return 1;
    }
    throw error;
  }
}
