/**
 * Switchable faults of the Gitee emulator: gateway errors, rate limiting, nginx's HTML 403,
 * slow answers, dropped connections, and — for exactly-once tests — writes that take effect
 * although the client never learns it.
 */
import type { Reply } from "./gitee-routes.ts";

export type FailureStatus = 500 | 502 | 503;

export type GiteeFault =
  /** Answers with this status without doing anything. */
  | { status: FailureStatus }
  /** 429 with `Retry-After`, without doing anything. */
  | { rateLimit: { retryAfterSeconds: number } }
  /** 403 with nginx's HTML page, as Gitee answers blocked or filtered requests. */
  | { html403: true }
  /** Answers exactly this (another forge's wording, say) without doing anything. */
  | { answer: Reply }
  /** Waits, then answers normally. */
  | { delayMs: number }
  /**
   * A slow server: holds the request without an answer (the client times out and gives up), then
   * handles it `afterMs` after it arrived. A create then lands after the client's re-check found
   * nothing — and after its re-send, unless the client waits long enough before sending again.
   */
  | { landsLate: { afterMs: number } }
  /** Closes the connection without an answer; nothing is done. */
  | { drop: true }
  /** Handles the request (the write happens), then answers with the failure instead. */
  | { afterWrite: { status: FailureStatus } | { drop: true } };

export interface FaultMatcher {
  /** Case-insensitive; any method when absent. */
  method?: string;
  /** A substring of, or a pattern for, the decoded path below the API base (`/repos/o/r/...`). */
  path?: string | RegExp;
  /** How many matching requests get the fault; unlimited when absent. */
  times?: number;
}

export interface ArmedFault {
  matcher: FaultMatcher;
  fault: GiteeFault;
  left: number;
}

/** The fault's kind, as recorded in the request log. */
export function faultName(fault: GiteeFault): string {
  if ("afterWrite" in fault) return "drop" in fault.afterWrite ? "afterWrite:drop" : "afterWrite";
  if ("status" in fault) return `status:${fault.status}`;
  if ("rateLimit" in fault) return "rateLimit";
  if ("html403" in fault) return "html403";
  if ("answer" in fault) return `answer:${fault.answer.status}`;
  if ("delayMs" in fault) return "delay";
  if ("landsLate" in fault) return "landsLate";
  return "drop";
}

/** Takes one use of the first armed fault matching the request, if any. */
export function takeFault(faults: ArmedFault[], method: string, path: string): GiteeFault | null {
  for (const entry of faults) {
    const { matcher } = entry;
    if (entry.left <= 0) continue;
    if (matcher.method && matcher.method.toUpperCase() !== method) continue;
    if (typeof matcher.path === "string" && !path.includes(matcher.path)) continue;
    if (matcher.path instanceof RegExp && !matcher.path.test(path)) continue;
    entry.left--;
    return entry.fault;
  }
  return null;
}

const REASONS: Record<number, string> = {
  403: "403 Forbidden",
  502: "502 Bad Gateway",
  503: "503 Service Temporarily Unavailable",
};

/** The page nginx serves for an error status. */
function nginxPage(status: number): string {
  const title = REASONS[status] ?? `${status} Error`;
  return `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`;
}

/**
 * The answer for a failure status. Assumption: 500 comes from the application as JSON, while
 * 502/503 come from the nginx in front of it as HTML, which a client must also survive.
 */
export function failureReply(status: FailureStatus): Reply {
  if (status === 500) return { status, json: { message: "500 Internal Server Error" } };
  return { status, html: nginxPage(status) };
}

export function rateLimitReply(retryAfterSeconds: number): Reply {
  return {
    status: 429,
    // Assumption: Gitee's 429 wording is not documented.
    json: { message: "Too Many Requests" },
    headers: {
      "retry-after": String(retryAfterSeconds),
      "x-ratelimit-remaining": "0",
    },
  };
}

export function html403Reply(): Reply {
  return { status: 403, html: nginxPage(403) };
}

/** The answer of a fault that refuses the request before any work, or null for other kinds. */
export function refusal(fault: GiteeFault | null): Reply | null {
  if (!fault) return null;
  if ("status" in fault) return failureReply(fault.status);
  if ("rateLimit" in fault) return rateLimitReply(fault.rateLimit.retryAfterSeconds);
  if ("html403" in fault) return html403Reply();
  if ("answer" in fault) return fault.answer;
  return null;
}

/** A response whose body errors at once: Bun then resets the connection without any answer. */
export function droppedResponse(): Response {
  return new Response(new ReadableStream({ start: (controller) => controller.error() }));
}
