import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { launchChromium } from "./helpers/browser.ts";
import { startEngineServer } from "./helpers/engine-server.ts";
import { basicAuth } from "./helpers/settings.ts";
import { makeWorld } from "./helpers/world.ts";

const world = await makeWorld();
const engine = await startEngineServer(world);
const port = engine.connection[1]?.split(":")[1];
const base = `https://127.0.0.1:${port}`;

const valid = {
  version_control: "github",
  scm_repo: "owner/upstream",
  scm_branch: "main",
  repo: "src-openeuler/hygiene",
  branch: "master",
  enabled: true,
};

function call(path: string, init: RequestInit & { auth?: boolean } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (init.auth) headers.set("authorization", basicAuth());
  return fetch(`${base}${path}`, {
    ...init,
    headers,
    tls: { rejectUnauthorized: false },
  } as RequestInit);
}

function snapshot(): string {
  const db = new Database(engine.db.filename, { readonly: true });
  try {
    return JSON.stringify([
      db.query("SELECT * FROM tracking ORDER BY repo, branch").all(),
      db.query("SELECT * FROM issue ORDER BY issue").all(),
      db.query("SELECT id, state FROM publish_run ORDER BY id").all(),
    ]);
  } finally {
    db.close();
  }
}

/** Every authenticated route, with a body or query that would otherwise fail validation. */
const AUTHENTICATED: [string, string, string | null][] = [
  ["POST", "/tracking", '{"not":"valid"}'],
  ["POST", "/tracking", "{broken"],
  ["DELETE", "/tracking?color=red", null],
  ["POST", "/tracking/scan?bogus=1", null],
  ["GET", "/tracking/plan?nothing=1", null],
];

describe("credentials come first on authenticated routes", () => {
  for (const [method, path, body] of AUTHENTICATED) {
    test(`${method} ${path} ${body ?? ""} without credentials answers 401, not 4001`, async () => {
      const before = snapshot();
      const response = await call(path, {
        method,
        body: body ?? undefined,
        headers: body ? { "content-type": "text/plain" } : {},
      });
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toContain("Basic");
      expect(await response.json()).toEqual({
        code: "401",
        msg: "Unauthorized Access",
        data: null,
      });
      expect(snapshot()).toBe(before);
    });
  }

  test("with wrong credentials it is still 401 before any validation", async () => {
    const response = await call("/tracking", {
      method: "POST",
      body: "{broken",
      headers: { authorization: basicAuth("admin", "Wrong@123"), "content-type": "text/plain" },
    });
    expect(response.status).toBe(401);
  });
});

describe("writes accept only application/json", () => {
  const refused: [string, string, string][] = [
    ["text/plain", "text/plain", JSON.stringify(valid)],
    ["text/plain with charset", "text/plain;charset=UTF-8", JSON.stringify(valid)],
    ["a form", "application/x-www-form-urlencoded", "version_control=github&repo=a%2Fb"],
    [
      "multipart",
      "multipart/form-data; boundary=x",
      `--x\r\n\r\n${JSON.stringify(valid)}\r\n--x--`,
    ],
    ["json with another charset", "application/json; charset=latin1", JSON.stringify(valid)],
    ["a json look-alike", "application/jsonx", JSON.stringify(valid)],
  ];
  for (const [name, type, body] of refused) {
    test(`POST /tracking as ${name} answers 415 and changes nothing`, async () => {
      const before = snapshot();
      const response = await call("/tracking", {
        method: "POST",
        auth: true,
        body,
        headers: { "content-type": type },
      });
      expect(response.status).toBe(415);
      const answer: any = await response.json();
      expect(answer.code).toBe("415");
      expect(answer.data.error).toContain("application/json");
      expect(snapshot()).toBe(before);
    });
  }

  test("a body without Content-Type answers 415", async () => {
    const before = snapshot();
    const response = await call("/tracking", {
      method: "POST",
      auth: true,
      body: new Blob([JSON.stringify(valid)]),
    });
    expect(response.status).toBe(415);
    expect(snapshot()).toBe(before);
  });

  test("DELETE and scan with a form body answer 415", async () => {
    await call("/tracking", {
      method: "POST",
      auth: true,
      body: JSON.stringify(valid),
      headers: { "content-type": "application/json" },
    });
    const before = snapshot();
    for (const path of ["/tracking?repo=src-openeuler/hygiene", "/tracking/scan"]) {
      const response = await call(path, {
        method: path.startsWith("/tracking?") ? "DELETE" : "POST",
        auth: true,
        body: "a=b",
        headers: { "content-type": "application/x-www-form-urlencoded" },
      });
      expect(response.status).toBe(415);
    }
    expect(snapshot()).toBe(before);
  });

  test("application/json with and without charset=utf-8 is accepted", async () => {
    for (const type of [
      "application/json",
      "application/json; charset=utf-8",
      "Application/JSON;charset=UTF-8",
    ]) {
      const response = await call("/tracking", {
        method: "POST",
        auth: true,
        body: JSON.stringify({ ...valid, branch: "next" }),
        headers: { "content-type": type },
      });
      expect(response.status).toBe(200);
      expect(((await response.json()) as any).code).toBe("2001");
    }
  });

  test("a body-less write (DELETE with its query) needs no Content-Type", async () => {
    const response = await call("/tracking?repo=src-openeuler/hygiene&branch=next", {
      method: "DELETE",
      auth: true,
    });
    expect(((await response.json()) as any).code).toBe("2001");
  });
});

describe("no other origin may read or write", () => {
  test("a write sent by another site answers 403 and changes nothing", async () => {
    const before = snapshot();
    const senders: Record<string, string>[] = [
      { origin: "https://evil.example" },
      { origin: "null" },
      { "sec-fetch-site": "cross-site" },
    ];
    for (const headers of senders) {
      const response = await call("/tracking", {
        method: "POST",
        auth: true,
        body: JSON.stringify({ ...valid, repo: "src-openeuler/csrf" }),
        headers: { "content-type": "application/json", ...headers },
      });
      expect(response.status).toBe(403);
      expect(((await response.json()) as any).data.error).toContain("another site");
    }
    expect(snapshot()).toBe(before);
  });

  test("a write from the service's own origin is accepted", async () => {
    const response = await call("/tracking", {
      method: "POST",
      auth: true,
      body: JSON.stringify({ ...valid, branch: "same-origin" }),
      headers: {
        "content-type": "application/json",
        origin: base,
        "sec-fetch-site": "same-origin",
      },
    });
    expect(((await response.json()) as any).code).toBe("2001");
  });

  test("no answer carries a CORS grant, preflights included", async () => {
    const probes: [string, string][] = [
      ["GET", "/tracking"],
      ["GET", "/issue"],
      ["GET", "/tracking/status"],
      ["GET", "/"],
      ["OPTIONS", "/tracking"],
      ["OPTIONS", "/tracking/scan"],
    ];
    for (const [method, path] of probes) {
      const response = await call(path, {
        method,
        auth: true,
        headers: {
          origin: "https://evil.example",
          "access-control-request-method": "POST",
          "access-control-request-headers": "authorization, content-type",
        },
      });
      expect(response.status).toBeLessThan(500);
      for (const name of response.headers.keys()) expect(name).not.toStartWith("access-control-");
    }
  });
});

describe("a known path with another method answers 405 with Allow", () => {
  const cases: [string, string, string[]][] = [
    ["PUT", "/tracking", ["GET", "POST", "DELETE"]],
    ["PATCH", "/tracking", ["GET", "POST", "DELETE"]],
    ["POST", "/issue", ["GET"]],
    ["DELETE", "/health", ["GET"]],
    ["POST", "/status", ["GET"]],
    ["GET", "/tracking/scan", ["POST"]],
    ["DELETE", "/tracking/status", ["GET"]],
    ["PUT", "/metrics", ["GET"]],
  ];
  for (const [method, path, allowed] of cases) {
    test(`${method} ${path}`, async () => {
      const before = snapshot();
      const response = await call(path, { method });
      expect(response.status).toBe(405);
      const allow = (response.headers.get("allow") ?? "").split(/,\s*/);
      for (const name of allowed) expect(allow).toContain(name);
      expect(allow).not.toContain(method);
      expect(allow).toContain("OPTIONS");
      const answer: any = await response.json();
      expect(answer.code).toBe("405");
      expect(answer.data.allow).toEqual(allow);
      expect(snapshot()).toBe(before);
    });
  }

  test("an unknown path stays 404; a trailing slash does not dodge the gate", async () => {
    expect((await call("/nothing-here", { method: "PUT" })).status).toBe(404);
    expect((await call("/tracking/", { method: "PUT" })).status).toBe(405);
    expect((await call("/tracking/", { method: "POST", body: "{x" })).status).toBe(401);
  });

  test("HEAD answers like GET, without a body", async () => {
    const get = await call("/tracking");
    const head = await call("/tracking", { method: "HEAD" });
    expect(head.status).toBe(get.status);
    expect(head.headers.get("content-type")).toBe(get.headers.get("content-type"));
    expect(await head.text()).toBe("");
  });

  test("OPTIONS answers 204 with Allow", async () => {
    const response = await call("/tracking/status", { method: "OPTIONS" });
    expect(response.status).toBe(204);
    expect(response.headers.get("allow")).toBe("GET, HEAD, OPTIONS");
  });
});

describe("security headers", () => {
  test("every answer says nosniff and forbids framing", async () => {
    for (const path of ["/tracking", "/health", "/nothing-here", "/metrics", "/"]) {
      const response = await call(path);
      expect(response.headers.get("x-content-type-options")).toBe("nosniff");
      expect(response.headers.get("x-frame-options")).toBe("DENY");
    }
  });

  test("the status page has a strict CSP: its style by hash, no script, no framing", async () => {
    for (const path of ["/", "/status?state=all"]) {
      const response = await call(path);
      const html = await response.text();
      const csp = response.headers.get("content-security-policy") ?? "";
      const directives = new Map(
        csp.split(/;\s*/).map((part) => {
          const [name, ...values] = part.split(" ");
          return [name, values] as const;
        }),
      );
      expect(directives.get("default-src")).toEqual(["'none'"]);
      expect(directives.get("script-src")).toEqual(["'none'"]);
      expect(directives.get("frame-ancestors")).toEqual(["'none'"]);
      const style = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1] ?? "";
      const digest = createHash("sha256").update(style).digest("base64");
      expect(directives.get("style-src")).toEqual([`'sha256-${digest}'`]);
      expect(csp).not.toContain("unsafe-inline");
      expect(html).not.toMatch(/<script/i);
      expect(html).not.toMatch(/\sstyle=/i);
      expect(html).not.toMatch(/\son[a-z]+=/i);
    }
  });

  test("Chromium applies the page's style under its CSP and reports no violation", async () => {
    const browser = await launchChromium();
    try {
      const context = await browser.newContext({ ignoreHTTPSErrors: true });
      const page = await context.newPage();
      const messages: string[] = [];
      page.on("console", (message) => messages.push(message.text()));
      await page.goto(`${base}/`);
      const background: string = await page.evaluate(
        "getComputedStyle(document.querySelector('th')).backgroundColor",
      );
      // #eef1f6 from the page's own style block: the hash let it through.
      expect(background).toBe("rgb(238, 241, 246)");
      expect(messages.filter((text) => /Content Security Policy/i.test(text))).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 60_000);
});
