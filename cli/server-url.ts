/**
 * `--server`: the original took `host:port` and always spoke HTTPS. A full URL is accepted too,
 * so plain HTTP (a loopback development server) happens only when someone writes `http://`.
 */
import { CliError } from "./errors.ts";

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;
const EXAMPLE = "give host:port (e.g. 127.0.0.1:5001) or a URL such as https://host:5001";

/** The service's base URL (no trailing slash) for a `--server` value. */
export function serverBaseUrl(server: string): string {
  const text = server.trim();
  if (text === "" || /^\d+$/.test(text)) throw new CliError(`--server ${server}: ${EXAMPLE}`);
  let url: URL;
  try {
    url = new URL(SCHEME.test(text) ? text : `https://${text}`);
  } catch {
    throw new CliError(`--server ${server} is not a host:port or URL: ${EXAMPLE}`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new CliError(`--server ${server}: only https:// (or an explicit http://) is supported`);
  }
  if (url.search || url.hash || url.username || url.password) {
    throw new CliError(
      `--server ${server}: leave out query, fragment and credentials (use --user/--password)`,
    );
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

/** True for hosts where plain HTTP does not leave the machine. */
export function isLoopbackUrl(base: string): boolean {
  const host = new URL(base).hostname;
  return host === "localhost" || host === "[::1]" || /^127\./.test(host);
}
