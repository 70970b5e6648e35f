/**
 * HTTP Basic authentication of the admin account, with two protections the original lacked:
 *
 * - a cache of recent successful verifications, keyed by an HMAC of the credentials under a
 *   per-process random key, so authenticated requests do not each pay for pbkdf2/bcrypt;
 * - per-client throttling of failed attempts: after `maxFailures` failures in `windowMs`, that
 *   client gets 429 until the window passes, while other clients (and the right password from
 *   elsewhere) keep working.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { verifyPassword } from "../password/verify.ts";

export type AuthOutcome =
  | { kind: "ok" }
  | { kind: "unauthorized"; reason: string }
  | { kind: "throttled"; retryAfterSeconds: number };

export interface AuthenticatorOptions {
  maxFailures?: number;
  windowMs?: number;
  cacheTtlMs?: number;
  now?: () => number;
}

interface FailureRecord {
  count: number;
  firstAt: number;
}

const MAX_TRACKED_CLIENTS = 10_000;
const MAX_CACHED_CREDENTIALS = 64;

export class Authenticator {
  private readonly key = randomBytes(32);
  private readonly userDigest: Buffer;
  private readonly verified = new Map<string, number>();
  private readonly failures = new Map<string, FailureRecord>();
  private readonly maxFailures: number;
  private readonly windowMs: number;
  private readonly cacheTtlMs: number;
  private readonly now: () => number;
  /** How many times the password hash was actually computed (the cache avoids most). */
  hashVerifications = 0;

  constructor(
    user: string,
    private readonly passwordHash: string,
    options: AuthenticatorOptions = {},
  ) {
    this.maxFailures = options.maxFailures ?? 10;
    this.windowMs = options.windowMs ?? 5 * 60_000;
    this.cacheTtlMs = options.cacheTtlMs ?? 10 * 60_000;
    this.now = options.now ?? Date.now;
    this.userDigest = this.digest(user);
  }

  private digest(text: string): Buffer {
    return createHmac("sha256", this.key).update(text, "latin1").digest();
  }

  /** Checks an `Authorization` header for the client `clientId` (its address). */
  async check(header: string | null, clientId: string): Promise<AuthOutcome> {
    const now = this.now();
    const record = this.failures.get(clientId);
    if (record && now - record.firstAt >= this.windowMs) this.failures.delete(clientId);
    const current = this.failures.get(clientId);
    if (current && current.count >= this.maxFailures) {
      return {
        kind: "throttled",
        retryAfterSeconds: Math.max(1, Math.ceil((current.firstAt + this.windowMs - now) / 1000)),
      };
    }

    const credentials = parseBasic(header);
    if (!credentials) return { kind: "unauthorized", reason: "missing or malformed credentials" };
    if (await this.matches(credentials.user, credentials.password, now)) {
      this.failures.delete(clientId);
      return { kind: "ok" };
    }
    this.recordFailure(clientId, now);
    return { kind: "unauthorized", reason: "wrong user or password" };
  }

  private async matches(user: string, password: string, now: number): Promise<boolean> {
    // Compare the user name in constant time and always run the password check, so timing
    // does not reveal which half was wrong.
    const userOk = timingSafeEqual(this.digest(user), this.userDigest);
    const cacheKey = this.digest(`${user}\u0000${password}`).toString("hex");
    const expires = this.verified.get(cacheKey);
    if (expires !== undefined && expires > now) return userOk;
    this.hashVerifications++;
    const passwordOk = await verifyPassword(password, this.passwordHash);
    if (!(userOk && passwordOk)) return false;
    if (this.verified.size >= MAX_CACHED_CREDENTIALS) this.verified.clear();
    this.verified.set(cacheKey, now + this.cacheTtlMs);
    return true;
  }

  private recordFailure(clientId: string, now: number) {
    const record = this.failures.get(clientId);
    if (record) {
      record.count++;
      return;
    }
    if (this.failures.size >= MAX_TRACKED_CLIENTS) {
      const oldest = this.failures.keys().next().value;
      if (oldest !== undefined) this.failures.delete(oldest);
    }
    this.failures.set(clientId, { count: 1, firstAt: now });
  }
}

/** Decodes `Authorization: Basic base64(user:password)` (latin1, as HTTP Basic specifies). */
export function parseBasic(header: string | null): { user: string; password: string } | null {
  if (!header) return null;
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!match?.[1]) return null;
  const decoded = Buffer.from(match[1], "base64").toString("latin1");
  const colon = decoded.indexOf(":");
  if (colon < 0) return null;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
