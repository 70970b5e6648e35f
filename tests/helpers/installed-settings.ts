/**
 * What the packaging tests do to an installed package as its administrator would: edit the
 * installed settings.conf in place, and add the user guide's example tracking over HTTPS with
 * the certificate pinned.
 */
import { basicAuth } from "./settings.ts";

/**
 * Sets (or uncomments) each key in settings.conf text, in place: every key is in the installed
 * file already, so a missing one fails the test by name.
 */
export function setSettingsKeys(text: string, values: Record<string, string>): string {
  let edited = text;
  for (const [key, value] of Object.entries(values)) {
    const line = new RegExp(`^(# )?${key} = .*$`, "m");
    if (!line.test(edited)) throw new Error(`settings.conf has no line for ${key}`);
    // A function, not a string: "$2b$..." in a bcrypt hash would read as a group reference.
    edited = edited.replace(line, () => `${key} = "${value}"`);
  }
  return edited;
}

/** TLS options that trust one self-signed certificate whatever host name it was made for. */
export function pinned(pem: string) {
  return { ca: pem, checkServerIdentity: () => undefined };
}

/**
 * POSTs the user guide's example tracking and returns the answer's code. Disabled: an enabled
 * one starts a scan against the refusing forge address, and the server's stop then waits for it.
 */
export async function addExampleTracking(url: string, pem: string): Promise<string> {
  const answer = await fetch(`${url}/tracking`, {
    method: "POST",
    tls: pinned(pem),
    headers: { authorization: basicAuth(), "content-type": "application/json" },
    body: JSON.stringify({
      version_control: "github",
      scm_repo: "BJMX/testPatch01",
      scm_branch: "test",
      repo: "testPatchTrack/testPatch1",
      branch: "master",
      enabled: false,
    }),
  });
  return ((await answer.json()) as { code: string }).code;
}
