/**
 * Password hash verification for the admin account.
 *
 * Existing installations hold werkzeug hashes (`pbkdf2:sha256:ITER$SALT$HEX`,
 * `scrypt:N:R:P$SALT$HEX`); `generate_password` now writes bcrypt (`$2b$...`). All three verify
 * here, off the event loop, with constant-time comparison of the derived keys.
 */
import { pbkdf2, scrypt, timingSafeEqual } from "node:crypto";
import { promisify } from "node:util";

const pbkdf2Async = promisify(pbkdf2);
const scryptAsync = promisify(scrypt) as (
  password: string,
  salt: string,
  keylen: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;

const PBKDF2_DIGESTS: Record<string, number> = { sha1: 20, sha224: 28, sha256: 32, sha512: 64 };

type ParsedHash =
  | { kind: "pbkdf2"; digest: string; iterations: number; salt: string; hex: string }
  | { kind: "scrypt"; n: number; r: number; p: number; salt: string; hex: string }
  | { kind: "bcrypt"; hash: string };

function parseHash(hash: string): ParsedHash | string {
  if (/^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/.test(hash)) return { kind: "bcrypt", hash };
  const parts = hash.split("$");
  if (parts.length !== 3) {
    return "is not a password hash: expected pbkdf2:sha256:…, scrypt:… or a bcrypt $2b$… hash (make one with generate_password)";
  }
  const [method = "", salt = "", hex = ""] = parts;
  if (!/^[0-9a-f]+$/i.test(hex)) return "hash part is not hexadecimal";
  const fields = method.split(":");
  if (fields[0] === "pbkdf2") {
    const digest = fields[1] ?? "";
    const iterations = Number(fields[2]);
    if (!(digest in PBKDF2_DIGESTS)) return `unsupported pbkdf2 digest ${JSON.stringify(digest)}`;
    if (!Number.isInteger(iterations) || iterations < 1) {
      return "pbkdf2 hash must state its iteration count (pbkdf2:sha256:ITERATIONS$…)";
    }
    return { kind: "pbkdf2", digest, iterations, salt, hex: hex.toLowerCase() };
  }
  if (fields[0] === "scrypt") {
    const [n = 32768, r = 8, p = 1] = fields.slice(1).map(Number);
    if (![n, r, p].every((v) => Number.isInteger(v) && v > 0)) return "malformed scrypt parameters";
    return { kind: "scrypt", n, r, p, salt, hex: hex.toLowerCase() };
  }
  return `unsupported hash method ${JSON.stringify(method)}`;
}

/** Why `hash` cannot be used as a password hash, or null when it can. */
export function describeHashProblem(hash: string): string | null {
  const parsed = parseHash(hash);
  return typeof parsed === "string" ? parsed : null;
}

function sameHex(derived: Buffer, expectedHex: string): boolean {
  const expected = Buffer.from(expectedHex, "hex");
  return expected.length === derived.length && timingSafeEqual(derived, expected);
}

/** True when `password` matches `hash`. Unusable hashes never match. */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  const parsed = parseHash(hash);
  if (typeof parsed === "string") return false;
  switch (parsed.kind) {
    case "bcrypt":
      return Bun.password.verify(password, parsed.hash, "bcrypt");
    case "pbkdf2": {
      const keylen = parsed.hex.length / 2;
      const derived = await pbkdf2Async(
        password,
        parsed.salt,
        parsed.iterations,
        keylen,
        parsed.digest,
      );
      return sameHex(derived, parsed.hex);
    }
    case "scrypt": {
      const { n, r, p } = parsed;
      const derived = await scryptAsync(password, parsed.salt, parsed.hex.length / 2, {
        N: n,
        r,
        p,
        maxmem: 132 * n * r * p,
      });
      return sameHex(derived, parsed.hex);
    }
  }
}
