/**
 * Headers for the HTML pages the service renders: a Content-Security-Policy that allows nothing
 * but the page's own inline `<style>` and `<script>` blocks, each by its SHA-256 hash (so injected
 * markup could run nothing), plus no sniffing, no framing and no referrer.
 */
import { createHash } from "node:crypto";
import { BASE_SECURITY_HEADERS } from "./request-hygiene.ts";

const BLOCK = /<(style|script)(?:\s[^>]*)?>([\s\S]*?)<\/\1>/gi;

function hashes(html: string, tag: "style" | "script"): string[] {
  const found: string[] = [];
  for (const match of html.matchAll(BLOCK)) {
    if (match[1]?.toLowerCase() !== tag) continue;
    const digest = createHash("sha256")
      .update(match[2] ?? "", "utf8")
      .digest("base64");
    found.push(`'sha256-${digest}'`);
  }
  return found;
}

/** The policy for `html`: its inline blocks by hash, nothing else from anywhere. */
export function contentSecurityPolicy(html: string): string {
  const styles = hashes(html, "style");
  const scripts = hashes(html, "script");
  return [
    "default-src 'none'",
    `style-src ${styles.length ? styles.join(" ") : "'none'"}`,
    `script-src ${scripts.length ? scripts.join(" ") : "'none'"}`,
    "img-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** An HTML answer carrying the page's security headers. */
export function htmlPage(html: string, status = 200): Response {
  return new Response(html, {
    status,
    headers: {
      "content-type": "text/html; charset=utf-8",
      "cache-control": "no-store",
      "content-security-policy": contentSecurityPolicy(html),
      ...BASE_SECURITY_HEADERS,
    },
  });
}
