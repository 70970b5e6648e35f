/**
 * `add`: create or update trackings, given in one of three styles — flags, `--file X.yaml`, or
 * `--dir DIR` (every .yaml file in it). Everything is checked locally first; then the service is
 * probed once, and each tracking passes the pre-add checks before it is sent.
 */

import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { describeFilters } from "../../src/scan/filters.ts";
import { type CheckSettings, checkSettingsFrom, preAddProblems } from "../checks.ts";
import {
  type AuthOptions,
  type ConnectionOptions,
  checkAuthOptions,
  openSignedInClient,
  Problems,
  prepareConnection,
} from "../connection.ts";
import { helpHint } from "../defaults.ts";
import { CliError, formatCliError } from "../errors.ts";
import { type ApiClient, answerProblem } from "../http-client.ts";
import type { CliIo } from "../io.ts";
import {
  checkTracking,
  TRACKING_FIELDS,
  type TrackingRequest,
  type TrackingValues,
} from "../tracking-input.ts";
import { isYamlFile, readTrackingFile, type TrackingFile } from "../yaml-input.ts";

export interface AddOptions extends ConnectionOptions, AuthOptions, TrackingValues {
  file?: string;
  dir?: string;
  /** False with `--no-check`. */
  check: boolean;
}

const ADD_HINT = helpHint("add");

/** What a `--dir` run found: tracking files to send, and entries it skipped. */
interface DirPlan {
  files: string[];
  skipped: string[];
}

function flagValues(options: AddOptions): TrackingValues {
  const values: TrackingValues = {};
  for (const field of TRACKING_FIELDS) values[field] = options[field];
  return values;
}

/** Checks the command line as a whole; returns the flag-style tracking when that style is used. */
function checkCommandLine(options: AddOptions, io: CliIo): TrackingRequest | null {
  const problems = new Problems();
  problems.require("--server", options.server);
  checkAuthOptions(options, io, problems);
  const flagsGiven = TRACKING_FIELDS.filter((field) => options[field] !== undefined);
  const styles = [
    flagsGiven.length > 0 ? `tracking flags (${flagsGiven.map((f) => `--${f}`).join(", ")})` : "",
    options.file !== undefined ? "--file" : "",
    options.dir !== undefined ? "--dir" : "",
  ].filter(Boolean);
  if (styles.length > 1) {
    throw new CliError(`mixed add styles: ${styles.join(" and ")}`, [
      "give the tracking either as flags, or with --file FILE, or with --dir DIR",
      ADD_HINT,
    ]);
  }
  let tracking: TrackingRequest | null = null;
  if (options.file === undefined && options.dir === undefined) {
    const check = checkTracking(flagValues(options));
    if (check.ok) tracking = check.tracking;
    else {
      const flags = check.missing.map((field) => `--${field}`);
      if (flagsGiven.length > 0) problems.missing.push(...flags);
      else problems.missing.push(`${flags.join(", ")} (or --file FILE, or --dir DIR)`);
      for (const problem of check.problems) problems.add(`--${problem.error}`);
    }
  }
  if (options.file === "") problems.missing.push("--file (a file name)");
  if (options.dir === "") problems.missing.push("--dir (a folder name)");
  problems.throwIfAny(ADD_HINT);
  return tracking;
}

function planDir(dir: string): DirPlan {
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new CliError(`--dir ${dir} is not a folder`);
    names = readdirSync(dir).sort();
  } catch (error) {
    if (error instanceof CliError) throw error;
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new CliError(`--dir ${dir} cannot be read (${code})`);
  }
  if (names.length === 0)
    throw new CliError(`--dir ${dir} is empty: put the tracking .yaml files in it`);
  const files: string[] = [];
  const skipped: string[] = [];
  for (const name of names) {
    const path = join(dir, name);
    let isFile = false;
    try {
      isFile = statSync(path).isFile();
    } catch {
      // A dangling link: reported as skipped like any other non-file.
    }
    if (isFile && isYamlFile(name)) files.push(path);
    else skipped.push(name);
  }
  if (files.length === 0) {
    throw new CliError(`--dir ${dir} holds no .yaml files (${skipped.length} other entries)`);
  }
  return { files, skipped };
}

/** Pre-add checks and the POST; returns the result sentence or throws `CliError`. */
async function sendTracking(
  client: ApiClient,
  { tracking, filters }: TrackingFile,
  checks: CheckSettings | null,
): Promise<string> {
  if (checks) {
    const problems = await preAddProblems(tracking, checks);
    const [first, ...rest] = problems;
    if (first !== undefined) {
      throw new CliError(first, [
        ...rest,
        "nothing was sent (use --no-check to skip these checks)",
      ]);
    }
  }
  const answer = await client.request("POST", "/tracking", { json: tracking, auth: true });
  if (answer.code !== "2001") {
    throw new CliError(`the service did not save the tracking: ${answerProblem(answer)}`);
  }
  const saved = `saved tracking ${tracking.repo} ${tracking.branch} (upstream ${tracking.scm_repo} ${tracking.scm_branch}${tracking.enabled ? "" : ", disabled"})`;
  if (filters === undefined) return saved;
  const put = await client.request("PUT", "/tracking/filters", {
    query: { repo: tracking.repo, branch: tracking.branch },
    json: filters,
    auth: true,
  });
  if (put.code !== "2001") {
    throw new CliError(`${saved}, but the service did not save its filters: ${answerProblem(put)}`);
  }
  return `${saved}, filters: ${describeFilters(filters) || "none"}`;
}

/** Indents the extra lines of an error under its file. */
function reportFailure(io: CliIo, file: string, error: CliError): void {
  io.out(`${file}: failed: ${formatCliError(error)}\n`);
}

async function addFromDir(
  io: CliIo,
  client: ApiClient | null,
  plan: DirPlan,
  parsed: Map<string, TrackingFile | CliError>,
  checks: CheckSettings | null,
): Promise<number> {
  for (const name of plan.skipped) io.out(`${name}: skipped (not a .yaml file)\n`);
  let saved = 0;
  let failed = 0;
  let notSent = 0;
  let stop: CliError | null = null;
  for (const file of plan.files) {
    const entry = parsed.get(file);
    if (stop) {
      notSent++;
      continue;
    }
    if (!entry || entry instanceof CliError || !client) {
      failed++;
      if (entry instanceof CliError) reportFailure(io, file, entry);
      continue;
    }
    try {
      io.out(`${file}: ${await sendTracking(client, entry, checks)}\n`);
      saved++;
    } catch (error) {
      if (!(error instanceof CliError)) throw error;
      failed++;
      reportFailure(io, file, error);
      // Connection, certificate and credential failures would repeat for every file (and a
      // wrong password would count towards the server's throttling): stop at the first.
      if (error.fromTransport) stop = error;
    }
  }
  const parts = [`${saved} saved`, `${failed} failed`];
  if (notSent > 0) parts.push(`${notSent} not sent`);
  if (plan.skipped.length > 0) parts.push(`${plan.skipped.length} other entries skipped`);
  io.out(`summary: ${plan.files.length} .yaml files: ${parts.join(", ")}\n`);
  if (stop) throw new CliError(`stopped after: ${stop.message}`, stop.details);
  return failed > 0 ? 1 : 0;
}

export async function runAdd(options: AddOptions, io: CliIo): Promise<number> {
  const flagTracking = checkCommandLine(options, io);
  const connection = prepareConnection(options);
  const plan = options.dir !== undefined ? planDir(options.dir) : null;
  const single: TrackingFile | null = flagTracking
    ? { tracking: flagTracking }
    : options.file !== undefined
      ? readTrackingFile(options.file)
      : null;
  const parsed = new Map<string, TrackingFile | CliError>();
  for (const file of plan?.files ?? []) {
    try {
      parsed.set(file, readTrackingFile(file));
    } catch (error) {
      if (!(error instanceof CliError)) throw error;
      parsed.set(file, error);
    }
  }
  const checks = options.check ? checkSettingsFrom(io.env) : null;
  const anythingToSend =
    !plan || [...parsed.values()].some((entry) => !(entry instanceof CliError));
  if (plan && !anythingToSend) return addFromDir(io, null, plan, parsed, checks);
  const client = await openSignedInClient(connection, options, io);
  if (plan) return addFromDir(io, client, plan, parsed, checks);
  if (!single) throw new CliError("no tracking given", [ADD_HINT]);
  const result = await sendTracking(client, single, checks);
  io.out(`${options.file ? `${options.file}: ` : ""}${result}\n`);
  return 0;
}
