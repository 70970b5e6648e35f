/** The one error type commands throw: a message a person can act on, printed without a stack. */

export class CliError extends Error {
  constructor(
    message: string,
    /** Extra lines printed after the message (usage, a hint). */
    readonly details: string[] = [],
    /** The failure is the connection or the credentials, not the request: retrying others won't help. */
    readonly fromTransport = false,
  ) {
    super(message);
    this.name = "CliError";
  }
}

/** `message` followed by `details`, as printed on stderr after `<prog>: error: `. */
export function formatCliError(error: CliError): string {
  return [error.message, ...error.details.map((line) => `  ${line}`)].join("\n");
}
