/**
 * Tells "the forge cannot be reached" (refused, DNS, TLS, proxy, timeout, cut connection, 5xx)
 * apart from everything else, for the fetch-based clients (GitHub, Gitee) and the git binary.
 * Only these failures count towards a forge's circuit breaker: a 404 or a refused write is the
 * forge answering, so one broken tracking never looks like an outage.
 */
import type { TransportFailure } from "../errors.ts";

/** Bun's and Node's error codes, by what they say about the connection. */
const CODES: Array<[RegExp, TransportFailure]> = [
  [/^ERR_PROXY|PROXY/i, "proxy"],
  [/^(ENOTFOUND|EAI_AGAIN|EAI_NONAME|EAI_FAIL|DNSException)$/i, "dns"],
  [/^(ECONNREFUSED|ConnectionRefused|FailedToOpenSocket|EHOSTUNREACH|ENETUNREACH)$/i, "refused"],
  [/CERT|TLS|SSL|EPROTO|HANDSHAKE/i, "tls"],
  [/^(ETIMEDOUT|TimeoutError)$/i, "timeout"],
  [/^(ECONNRESET|ConnectionClosed|EPIPE|ECONNABORTED)$/i, "reset"],
];

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  cause?: unknown;
}

/**
 * What kind of transport failure a thrown `fetch` error is (walking `cause`, where Octokit and
 * undici wrap the original). A throw that names nothing known still means no answer arrived,
 * so it counts as a cut connection.
 */
export function fetchFailureKind(error: unknown): TransportFailure {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current && typeof current === "object"; depth++) {
    const { name, code, cause } = current as ErrorLike;
    if (name === "TimeoutError") return "timeout";
    if (typeof code === "string" || typeof code === "number") {
      for (const [pattern, kind] of CODES) if (pattern.test(String(code))) return kind;
    }
    current = cause;
  }
  return "reset";
}

/** git's (curl's, ssh's) words for failures to reach the host, most specific first. */
const GIT_WORDS: Array<[RegExp, TransportFailure]> = [
  [/proxy/i, "proxy"],
  [/could not resolve host|name or service not known|temporary failure in name resolution/i, "dns"],
  [
    /connection refused|failed to connect|couldn't connect|network is unreachable|no route to host/i,
    "refused",
  ],
  [/gnutls|ssl|tls|certificate/i, "tls"],
  [/timed out|operation too slow/i, "timeout"],
  [
    /connection (reset|closed)|early eof|remote end hung up|unexpected disconnect|rpc failed/i,
    "reset",
  ],
  [/returned error: 5\d\d|http 5\d\d/i, "server"],
];

/** The transport failure git's stderr describes, or null when the host answered. */
export function gitFailureKind(words: string, timedOut: boolean): TransportFailure | null {
  if (timedOut) return "timeout";
  for (const [pattern, kind] of GIT_WORDS) if (pattern.test(words)) return kind;
  return null;
}
