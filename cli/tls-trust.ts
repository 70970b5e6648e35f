/**
 * Which server certificates the CLI trusts. The original turned verification off; this CLI
 * verifies against, in order: `--ca FILE`, `/etc/patch-tracking/self-signed.crt` when readable,
 * or the system store. `--insecure` is the explicit way out.
 *
 * The user guide's certificate is self-signed with `CN=self-signed` and no subject alternative
 * name, so no host name can ever match it. When the server presents exactly a certificate from
 * the trusted file, that match (pinning) stands in for the host-name check; any other
 * certificate must pass the usual chain and host-name checks.
 */
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { checkServerIdentity, type PeerCertificate } from "node:tls";
import { DEFAULT_CA_FILE } from "./defaults.ts";
import { CliError } from "./errors.ts";

export type Trust =
  | { kind: "insecure" }
  | { kind: "system" }
  | { kind: "file"; path: string; pem: string; fingerprints: string[] };

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function loadCertificates(path: string, pem: string): Trust {
  const blocks = pem.match(PEM_BLOCK) ?? [];
  const fingerprints: string[] = [];
  for (const block of blocks) {
    try {
      fingerprints.push(new X509Certificate(block).fingerprint256);
    } catch (error) {
      throw new CliError(`${path}: a certificate in it cannot be read (${String(error)})`);
    }
  }
  if (fingerprints.length === 0) throw new CliError(`${path} holds no PEM certificate`);
  return { kind: "file", path, pem: blocks.join("\n"), fingerprints };
}

/**
 * The trust for `--ca` / `--insecure`. `defaultFile` is only read when it exists and is
 * readable; an explicit `--ca` that cannot be read is an error.
 */
export function resolveTrust(
  options: { ca?: string; insecure?: boolean },
  defaultFile = DEFAULT_CA_FILE,
): Trust {
  if (options.insecure && options.ca) {
    throw new CliError("--ca and --insecure contradict each other: give one of them");
  }
  if (options.insecure) return { kind: "insecure" };
  if (options.ca) {
    let pem: string;
    try {
      pem = readFileSync(options.ca, "utf8");
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? String(error);
      throw new CliError(`--ca ${options.ca} cannot be read (${code})`);
    }
    return loadCertificates(options.ca, pem);
  }
  let pem: string;
  try {
    pem = readFileSync(defaultFile, "utf8");
  } catch {
    return { kind: "system" };
  }
  return loadCertificates(defaultFile, pem);
}

/** Words for messages: what the certificate was checked against. */
export function describeTrust(trust: Trust): string {
  switch (trust.kind) {
    case "insecure":
      return "nothing (--insecure)";
    case "system":
      return `the system's certificate store (${DEFAULT_CA_FILE} is not readable)`;
    case "file":
      return trust.path;
  }
}

/** The `tls` option for Bun's fetch. */
export function fetchTls(trust: Trust): Record<string, unknown> | undefined {
  switch (trust.kind) {
    case "insecure":
      return { rejectUnauthorized: false };
    case "system":
      return undefined;
    case "file": {
      const pinned = new Set(trust.fingerprints);
      return {
        ca: trust.pem,
        checkServerIdentity(host: string, cert: PeerCertificate) {
          if (pinned.has(cert.fingerprint256)) return undefined;
          return checkServerIdentity(host, cert);
        },
      };
    }
  }
}
