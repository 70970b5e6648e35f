/**
 * For error messages only: which certificate the server presents, read over a separate,
 * unverified TLS handshake after verification already failed. Nothing is sent on it.
 */
import { connect } from "node:tls";

export interface PresentedCertificate {
  subject: string;
  fingerprint256: string;
}

/** The server's certificate at `url`, or null when it cannot be read within `timeoutMs`. */
export function presentedCertificate(
  url: string,
  timeoutMs = 3_000,
): Promise<PresentedCertificate | null> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(
      {
        host: hostname.replace(/^\[|\]$/g, ""),
        port: Number(port || 443),
        rejectUnauthorized: false,
      },
      () => {
        const cert = socket.getPeerCertificate();
        const subject = Object.entries(cert.subject ?? {})
          .map(([key, value]) => `${key}=${value}`)
          .join(", ");
        socket.destroy();
        resolve(cert.fingerprint256 ? { subject, fingerprint256: cert.fingerprint256 } : null);
      },
    );
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      resolve(null);
    });
    socket.on("error", () => resolve(null));
  });
}
