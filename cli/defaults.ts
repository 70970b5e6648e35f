/**
 * Names the CLI's help and its commands share. Kept free of imports, so building the help does not
 * load the TLS and HTTP modules (every millisecond of start-up counts in a command line tool).
 */

export const PROGRAM = "patch-tracking-cli";

/** Environment variable holding the admin password, so it stays out of `ps` and shell history. */
export const PASSWORD_ENV = "PATCH_TRACKING_PASSWORD";

/** Certificate trusted (pinned) by default, where the RPM's instructions put it. */
export const DEFAULT_CA_FILE = "/etc/patch-tracking/self-signed.crt";

/** The last line of a usage error: where to read more. */
export function helpHint(command: string): string {
  return `see: ${PROGRAM} ${command} --help`;
}
