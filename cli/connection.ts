/**
 * What every command needs before talking to the service: the base URL, the certificate trust
 * and, for add/delete, the credentials — with the original's checks on user and password.
 */
import {
  isLatin1,
  isValidPasswordLength,
  MAX_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
} from "../src/password/rules.ts";
import { PASSWORD_ENV } from "./defaults.ts";
import { CliError } from "./errors.ts";
import { ApiClient, type Credentials } from "./http-client.ts";
import type { CliIo } from "./io.ts";
import { isLoopbackUrl, serverBaseUrl } from "./server-url.ts";
import { resolveTrust, type Trust } from "./tls-trust.ts";

export interface ConnectionOptions {
  server?: string;
  ca?: string;
  insecure?: boolean;
}

export interface AuthOptions {
  user?: string;
  password?: string;
}

/**
 * Collects everything wrong with a command line, so one run names every problem at once
 * instead of one per attempt.
 */
export class Problems {
  readonly missing: string[] = [];
  readonly problems: string[] = [];

  require(flag: string, value: string | undefined): void {
    if (value === undefined || value === "") this.missing.push(flag);
  }

  add(problem: string): void {
    this.problems.push(problem);
  }

  /** Throws a `CliError` listing every problem, ending with `hint`, when there is any. */
  throwIfAny(hint: string): void {
    const lines = [...this.problems];
    if (this.missing.length > 0) {
      // Plain flag names fit on one line; entries with explanations read better as a list.
      const plain = this.missing.every((entry) => /^--\S+$/.test(entry));
      lines.unshift(
        plain
          ? `the following options are required: ${this.missing.join(", ")}`
          : `the following options are required:\n${this.missing.map((entry) => `  ${entry}`).join("\n")}`,
      );
    }
    const [first, ...rest] = lines;
    if (first !== undefined) throw new CliError(first, [...rest, hint]);
  }
}

function passwordProblems(password: string, source: string): string[] {
  const problems: string[] = [];
  if (!isLatin1(password)) problems.push(`${source}: only latin1 characters are allowed`);
  if (!isValidPasswordLength(password)) {
    problems.push(
      `${source}: the length must be between ${MIN_PASSWORD_LENGTH} and ${MAX_PASSWORD_LENGTH} characters`,
    );
  }
  return problems;
}

/** Adds the problems with --user and --password (or its environment variable) to `problems`. */
export function checkAuthOptions(options: AuthOptions, io: CliIo, problems: Problems): void {
  problems.require("--user", options.user);
  if (options.user && !isLatin1(options.user)) {
    problems.add("--user: only latin1 characters are allowed");
  }
  const fromEnv = io.env[PASSWORD_ENV];
  if (options.password !== undefined) {
    for (const problem of passwordProblems(options.password, "--password")) problems.add(problem);
  } else if (fromEnv !== undefined && fromEnv !== "") {
    for (const problem of passwordProblems(fromEnv, PASSWORD_ENV)) problems.add(problem);
  } else if (!io.interactive) {
    problems.missing.push(`--password (or ${PASSWORD_ENV}, or run it in a terminal to be asked)`);
  }
}

/** The credentials, asking for the password on the terminal when no flag or variable gave one. */
export async function resolveCredentials(
  options: AuthOptions,
  io: CliIo,
  baseUrl: string,
): Promise<Credentials> {
  const user = options.user ?? "";
  let password = options.password ?? (io.env[PASSWORD_ENV] || undefined);
  if (password === undefined) {
    password = await io.askSecret(`Password for ${user} at ${baseUrl}: `);
    const [problem] = passwordProblems(password, "password");
    if (problem) throw new CliError(problem);
  }
  return { user, password };
}

export interface Connection {
  baseUrl: string;
  trust: Trust;
}

/** Checks --server, --ca and --insecure (throwing `CliError`) before anything is asked or sent. */
export function prepareConnection(options: ConnectionOptions): Connection {
  return { baseUrl: serverBaseUrl(options.server ?? ""), trust: resolveTrust(options) };
}

/** The client for a prepared connection, warning when credentials would travel unencrypted. */
export function openClient(
  connection: Connection,
  io: CliIo,
  credentials?: Credentials,
  timeoutMs?: number,
): ApiClient {
  const { baseUrl, trust } = connection;
  if (baseUrl.startsWith("http:") && credentials && !isLoopbackUrl(baseUrl)) {
    io.err(
      `patch-tracking-cli: warning: ${baseUrl} is plain HTTP: the password is sent unencrypted\n`,
    );
  }
  return new ApiClient({ baseUrl, trust, credentials, timeoutMs });
}

/**
 * The client that signs in: the service is reached first, so no password is asked for that it
 * would never see.
 */
export async function openSignedInClient(
  connection: Connection,
  options: AuthOptions,
  io: CliIo,
  timeoutMs?: number,
): Promise<ApiClient> {
  await openClient(connection, io).probe();
  const credentials = await resolveCredentials(options, io, connection.baseUrl);
  return openClient(connection, io, credentials, timeoutMs);
}
