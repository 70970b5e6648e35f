/**
 * Failures of the `git` binary translated into the typed errors of `src/errors.ts`, at the git
 * upstream's edge. Git reports everything as exit 128 plus text, so the class is read from the
 * text; the message always names the URL without its credentials.
 */
import { NotFoundError, RejectedError, ServiceError, TransientError } from "../../errors.ts";
import { gitFailureKind } from "../../forge/transport-failure.ts";
import { GitError } from "../../git.ts";
import { displayUrl, scrubUrl } from "./git-url.ts";

/**
 * A missing or inaccessible repository. A host such as GitHub answers a private or absent
 * repository with an authentication request, which fails at once because prompts are disabled;
 * with no credentials configured, "needs a password" and "does not exist" are the same to us.
 */
const NOT_FOUND =
  /does not appear to be a git repository|repository '[^']*' not found|repository not found|no such repository|could not read (username|password)|terminal prompts disabled|authentication failed|permission denied \(|returned error: 40[134]/i;

/** Network trouble and other conditions a later attempt may not meet. */
const TRANSIENT =
  /could not resolve (host|proxy)|failed to connect|couldn't connect|connection (refused|reset|timed out|closed)|timed out|operation too slow|early eof|remote end hung up|rpc failed|unexpected disconnect|gnutls|ssl_(read|write|connect)|tls connection|returned error: (5\d\d|429)|temporary failure|network is unreachable|no route to host|no space left on device|index-pack failed|could not read from remote repository/i;

/** The last meaningful lines of git's stderr, credentials removed. */
function gitSays(stderr: string, url: string): string {
  const lines = stderr
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line && !/^(please make sure|and the repository exists)/i.test(line));
  return scrubUrl(lines.slice(-3).join(" | "), url) || "no message";
}

/**
 * Translates any failure of a git call about `url`; `what` says what was attempted (e.g.
 * `ls-remote`, `fetch`). Typed errors pass through unchanged.
 */
export function toGitServiceError(error: unknown, what: string, url: string): ServiceError {
  if (error instanceof ServiceError) return error;
  const where = `git ${what} ${displayUrl(url)}`;
  if (!(error instanceof GitError)) {
    const message = error instanceof Error ? error.message : String(error);
    return new RejectedError("git", `${where}: ${scrubUrl(message, url)}`);
  }
  if (error.timedOut) return new TransientError("git", `${where}: timed out`, undefined, "timeout");
  const says = gitSays(error.stderr, url);
  // Classify on git's words only: the URL itself may contain anything ("timed-out.git").
  const words = error.stderr.split(url).join("<url>").split(displayUrl(url)).join("<url>");
  const transport = /transport '([^']+)' not allowed/i.exec(words);
  if (transport) {
    return new RejectedError(
      "git",
      `${where}: the '${transport[1]}' transport is not allowed (GIT_ALLOW_PROTOCOL)`,
    );
  }
  if (NOT_FOUND.test(words)) {
    return new NotFoundError(
      "git",
      `${where}: the repository does not exist or is not readable without credentials (${says})`,
    );
  }
  if (TRANSIENT.test(words)) {
    return new TransientError("git", `${where}: ${says}`, undefined, gitFailureKind(words, false));
  }
  return new RejectedError("git", `${where}: ${says}`);
}
