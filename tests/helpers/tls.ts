import { execFileSync } from "node:child_process";
import { join } from "node:path";

export interface CertFiles {
  cert: string;
  key: string;
}

/**
 * A self-signed certificate made the way the user guide says (`/CN=self-signed`, no subject
 * alternative name). `bits` defaults to 2048 to keep tests quick; the guide uses 4096.
 */
export function makeSelfSignedCert(dir: string, bits = 2048, name = "self-signed"): CertFiles {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-days",
      "3650",
      "-subj",
      "/CN=self-signed",
      "-nodes",
      "-newkey",
      `rsa:${bits}`,
    ].concat(["-keyout", key, "-out", cert]),
    { stdio: "ignore" },
  );
  return { cert, key };
}
