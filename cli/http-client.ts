/**
 * Talking to the patch-tracking service: one request at a time, the `{code, msg, data}` envelope
 * read back, and every transport failure turned into a sentence saying what to do about it.
 */
import { VERSION } from "../src/version.ts";
import { PROGRAM } from "./defaults.ts";
import { CliError } from "./errors.ts";
import { presentedCertificate } from "./peer-certificate.ts";
import { describeTrust, fetchTls, type Trust } from "./tls-trust.ts";

export interface Credentials {
  user: string;
  password: string;
}

export interface ApiClientOptions {
  /** The service's base URL, from `serverBaseUrl`. */
  baseUrl: string;
  trust: Trust;
  credentials?: Credentials;
  timeoutMs?: number;
}

/** An answer the service handled (HTTP 200 with the envelope). */
export interface ApiAnswer {
  /** The HTTP status: 200, or one the request listed in `allowStatus`. */
  status: number;
  code: string;
  msg: string;
  data: unknown;
}

export interface RequestOptions {
  query?: Record<string, string | undefined>;
  json?: unknown;
  /** Send the Basic credentials. */
  auth?: boolean;
  /** Statuses besides 200 whose envelope is returned rather than thrown (e.g. 503 for the scanner). */
  allowStatus?: number[];
}

/** How the CLI names itself to the service and to the forges it checks. */
export const USER_AGENT = `${PROGRAM}/${VERSION}`;

const CONNECT_CODES = new Set([
  "ECONNREFUSED",
  "ConnectionRefused",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ECONNRESET",
  "ConnectionClosed",
  "ETIMEDOUT",
]);

function isTlsFailure(code: string, message: string): boolean {
  return /CERT|SELF_SIGNED|ALTNAME|UNABLE_TO_|TLS|SSL/i.test(code) || /certificate/i.test(message);
}

/** HTTP Basic as the original sent it: `user:password` encoded as latin1. */
export function basicAuthorization({ user, password }: Credentials): string {
  return `Basic ${Buffer.from(`${user}:${password}`, "latin1").toString("base64")}`;
}

export class ApiClient {
  constructor(private readonly options: ApiClientOptions) {}

  get baseUrl(): string {
    return this.options.baseUrl;
  }

  /** Sends one request; throws `CliError` unless the service answered with its envelope. */
  async request(method: string, path: string, options: RequestOptions = {}): Promise<ApiAnswer> {
    const url = new URL(`${this.options.baseUrl}${path}`);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, value);
    }
    const headers: Record<string, string> = {
      accept: "application/json",
      "user-agent": USER_AGENT,
    };
    if (options.auth && this.options.credentials) {
      headers.authorization = basicAuthorization(this.options.credentials);
    }
    let body: string | undefined;
    if (options.json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(options.json);
    }
    const response = await this.send(url, { method, headers, body });
    return this.read(response, url, options.allowStatus ?? []);
  }

  /** Checks that the service answers at all (any HTTP status), before any other work. */
  async probe(): Promise<void> {
    const response = await this.send(new URL(`${this.options.baseUrl}/health`), {
      method: "GET",
      headers: { "user-agent": USER_AGENT },
    });
    await response.body?.cancel();
  }

  private async send(url: URL, init: RequestInit): Promise<Response> {
    const timeoutMs = this.options.timeoutMs ?? 30_000;
    try {
      return await fetch(url, {
        ...init,
        redirect: "manual",
        signal: AbortSignal.timeout(timeoutMs),
        tls: url.protocol === "https:" ? fetchTls(this.options.trust) : undefined,
      } as RequestInit);
    } catch (error) {
      throw await this.transportError(error, timeoutMs);
    }
  }

  private async transportError(error: unknown, timeoutMs: number): Promise<CliError> {
    const base = this.options.baseUrl;
    const err = error as { code?: string; name?: string; message?: string };
    const code = err.code ?? err.name ?? "error";
    const message = err.message ?? String(error);
    if (err.name === "TimeoutError") {
      return transportFailure(
        `${base} did not answer within ${timeoutMs / 1000} s: is the service running and reachable?`,
      );
    }
    if (isTlsFailure(code, message)) return this.tlsError(code, message);
    if (CONNECT_CODES.has(code)) {
      const closed = code === "ECONNRESET" || code === "ConnectionClosed";
      const hint = base.startsWith("https:")
        ? "if the service speaks plain HTTP, write --server http://…"
        : "if the service speaks HTTPS, leave out http:// (host:port means HTTPS)";
      return transportFailure(
        `cannot connect to ${base} (${code}): is the service running?`,
        closed ? [`the connection was closed at once: ${hint}`] : [],
      );
    }
    return transportFailure(`request to ${base} failed (${code}: ${message})`);
  }

  /** Says which certificate the server presents and what it was checked against. */
  private async tlsError(code: string, message: string): Promise<CliError> {
    const base = this.options.baseUrl;
    const trust = this.options.trust;
    const presented = await presentedCertificate(base);
    const details: string[] = [];
    if (presented) {
      details.push(
        `the server presents: ${presented.subject || "(no subject)"}, SHA-256 ${presented.fingerprint256}`,
      );
    }
    const pinned = trust.kind === "file" ? ` (SHA-256 ${trust.fingerprints.join(", ")})` : "";
    details.push(
      `checked against: ${describeTrust(trust)}${pinned}`,
      "give the server's certificate with --ca FILE (a copy of its /etc/patch-tracking/self-signed.crt), or --insecure to skip the check",
    );
    return transportFailure(
      `the TLS certificate of ${base} is not trusted (${code}: ${message.split("\n")[0]})`,
      details,
    );
  }

  private async read(response: Response, url: URL, allowStatus: number[]): Promise<ApiAnswer> {
    const user = this.options.credentials?.user;
    if (response.status === 401) {
      await response.body?.cancel();
      throw transportFailure(
        `${this.options.baseUrl} refused the credentials of user ${JSON.stringify(user ?? "")} (HTTP 401): check --user and the password`,
      );
    }
    if (response.status === 429) {
      await response.body?.cancel();
      const retryAfter = response.headers.get("retry-after");
      throw transportFailure(
        `${this.options.baseUrl} is refusing logins from this address after too many failures (HTTP 429)${retryAfter ? `: try again in ${retryAfter} seconds` : ""}`,
      );
    }
    const text = await response.text();
    const allowed = response.status === 200 || allowStatus.includes(response.status);
    if (!allowed) {
      const where = response.headers.get("location");
      throw transportFailure(
        `${url.pathname} answered HTTP ${response.status}${where ? ` (redirect to ${where})` : ""}: ${snippet(text)}`,
        response.status === 404 ? ["is --server the patch-tracking service?"] : [],
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw transportFailure(
        `${url.pathname} answered${response.status === 200 ? "" : ` HTTP ${response.status}`} with something other than JSON: ${snippet(text)}`,
      );
    }
    const envelope = parsed as Partial<ApiAnswer>;
    if (typeof envelope !== "object" || envelope === null || typeof envelope.code !== "string") {
      throw transportFailure(`${url.pathname} answered without a response code: ${snippet(text)}`);
    }
    return {
      status: response.status,
      code: envelope.code,
      msg: String(envelope.msg ?? ""),
      data: envelope.data ?? null,
    };
  }
}

/** Failures of the connection or the credentials, which every further request would repeat. */
function transportFailure(message: string, details: string[] = []): CliError {
  return new CliError(message, details, true);
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat || "(empty body)";
}

/** What went wrong in a non-2001 answer: the server's own `data.error` when it gave one. */
export function answerProblem(answer: ApiAnswer): string {
  const data = answer.data as { error?: unknown; field?: unknown } | null;
  const detail = data && typeof data.error === "string" ? data.error : null;
  return detail ? `${detail} (${answer.code} ${answer.msg})` : `${answer.code} ${answer.msg}`;
}
