import { describe, expect, test } from "bun:test";
import { request } from "node:http";
import { hashPassword } from "../src/password/rules.ts";
import { describeHashProblem, verifyPassword } from "../src/password/verify.ts";
import { Authenticator } from "../src/routes/authenticator.ts";
import { basicAuth, TEST_PASSWORD, TEST_PASSWORD_HASH } from "./helpers/settings.ts";
import { startTestServer } from "./helpers/test-server.ts";

// scrypt:32768:8:1 hash of Test@123 with salt "abcdefgh", as werkzeug computes it.
const SCRYPT_HASH =
  "scrypt:32768:8:1$abcdefgh$77aefe43658280c0a49b78017d479b35c0f1fb5729fc8673549f0d6ee6bb42088d2273272c104749afaeb75b6641cd97bfa58db3b4210aa686f3361c63bea646";

const body = {
  version_control: "github",
  scm_repo: "o/u",
  scm_branch: "main",
  repo: "o/d",
  branch: "master",
  enabled: true,
};

describe("password hashes", () => {
  test("the documented werkzeug pbkdf2 hash accepts Test@123 only", async () => {
    expect(await verifyPassword("Test@123", TEST_PASSWORD_HASH)).toBe(true);
    expect(await verifyPassword("Test@124", TEST_PASSWORD_HASH)).toBe(false);
    expect(await verifyPassword("", TEST_PASSWORD_HASH)).toBe(false);
  });

  test("werkzeug scrypt hashes verify", async () => {
    expect(await verifyPassword("Test@123", SCRYPT_HASH)).toBe(true);
    expect(await verifyPassword("test@123", SCRYPT_HASH)).toBe(false);
  });

  test("bcrypt hashes from generate_password verify", async () => {
    const hash = await hashPassword("Test@123");
    expect(hash).toStartWith("$2b$");
    expect(await verifyPassword("Test@123", hash)).toBe(true);
    expect(await verifyPassword("Test@12", hash)).toBe(false);
  });

  test("unusable hashes are described and never match", async () => {
    expect(describeHashProblem("plaintext")).toMatch(/not a password hash/);
    expect(describeHashProblem("pbkdf2:md5:1000$salt$abcd")).toMatch(/digest/);
    expect(describeHashProblem("pbkdf2:sha256$salt$abcd")).toMatch(/iteration count/);
    expect(describeHashProblem(TEST_PASSWORD_HASH)).toBeNull();
    expect(await verifyPassword("x", "plaintext")).toBe(false);
  });
});

function postFrom(url: string, localAddress: string, authorization: string) {
  const target = new URL(url);
  const payload = JSON.stringify(body);
  return new Promise<{ status: number; retryAfter?: string }>((resolve, reject) => {
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        path: "/tracking",
        method: "POST",
        localAddress,
        headers: {
          authorization,
          "content-type": "application/json",
          "content-length": payload.length,
        },
      },
      (response) => {
        response.resume();
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            retryAfter: response.headers["retry-after"] as string,
          }),
        );
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

describe("HTTP Basic on mutating endpoints", () => {
  const server = startTestServer();

  test("POST and DELETE without credentials answer 401 with a challenge; GET is open", async () => {
    const post = await server.call("/tracking", { method: "POST", json: body });
    expect(post.status).toBe(401);
    expect(post.headers.get("www-authenticate")).toContain("Basic");
    const del = await server.call("/tracking?repo=o/d", { method: "DELETE" });
    expect(del.status).toBe(401);
    expect((await server.call("/tracking")).status).toBe(200);
  });

  test("wrong password, wrong user and malformed headers answer 401", async () => {
    for (const auth of [
      basicAuth("admin", "wrong"),
      basicAuth("root", TEST_PASSWORD),
      "Basic !!!",
      "Bearer x",
    ]) {
      const response = await server.call("/tracking", { method: "POST", auth, json: body });
      expect(response.status).toBe(401);
    }
    const list: any = await (await server.call("/tracking")).json();
    expect(list.data).toEqual([]);
  });

  test("the right credentials work", async () => {
    expect(
      (await server.call("/tracking", { method: "POST", auth: true, json: body })).status,
    ).toBe(200);
    expect((await server.call("/tracking?repo=o/d", { method: "DELETE", auth: true })).status).toBe(
      200,
    );
  });
});

describe("verification cache", () => {
  test("a successful login is verified once; a changed password is verified again", async () => {
    const auth = new Authenticator("admin", TEST_PASSWORD_HASH);
    expect((await auth.check(basicAuth(), "c")).kind).toBe("ok");
    expect((await auth.check(basicAuth(), "c")).kind).toBe("ok");
    expect(auth.hashVerifications).toBe(1);
    expect((await auth.check(basicAuth("admin", "Test@1234"), "c")).kind).toBe("unauthorized");
    expect(auth.hashVerifications).toBe(2);
    expect((await auth.check(basicAuth("root", TEST_PASSWORD), "c")).kind).toBe("unauthorized");
  });
});

describe("failed-login throttling", () => {
  const server = startTestServer();

  test("after 10 failures one address gets 429 with Retry-After; another address still logs in", async () => {
    const wrong = basicAuth("admin", "guess");
    for (let i = 0; i < 10; i++) {
      expect((await postFrom(server.url, "127.0.0.3", wrong)).status).toBe(401);
    }
    const throttled = await postFrom(server.url, "127.0.0.3", wrong);
    expect(throttled.status).toBe(429);
    expect(Number(throttled.retryAfter)).toBeGreaterThan(0);
    // Even the right password is refused from the throttled address...
    expect((await postFrom(server.url, "127.0.0.3", basicAuth())).status).toBe(429);
    // ...but not from elsewhere.
    expect((await postFrom(server.url, "127.0.0.4", basicAuth())).status).toBe(200);
  });

  test("the window expires", async () => {
    let now = 1_000_000;
    const auth = new Authenticator("admin", TEST_PASSWORD_HASH, {
      maxFailures: 2,
      windowMs: 60_000,
      now: () => now,
    });
    const wrong = basicAuth("admin", "nope");
    expect((await auth.check(wrong, "c")).kind).toBe("unauthorized");
    expect((await auth.check(wrong, "c")).kind).toBe("unauthorized");
    const throttled = await auth.check(basicAuth(), "c");
    expect(throttled).toEqual({ kind: "throttled", retryAfterSeconds: 60 });
    now += 60_000;
    expect((await auth.check(basicAuth(), "c")).kind).toBe("ok");
  });
});
