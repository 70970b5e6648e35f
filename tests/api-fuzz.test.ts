/**
 * Property-based fuzzing of every route the service serves (read from its own OpenAPI document,
 * so a new route is fuzzed without touching this file): random and hostile methods, query
 * strings, headers, credentials and bodies. Invariants: never a 5xx, the service keeps answering,
 * every JSON answer parses (the API's answers are `{code, msg, data}` envelopes), and input the
 * service rejects changes nothing in the database.
 *
 * `FUZZ_RUNS` sets the inputs per route (default 120); the total is printed at the end.
 */
import { afterAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { MAX_BODY_BYTES } from "../src/app.ts";
import { startEngineServer } from "./helpers/engine-server.ts";
import { basicAuth } from "./helpers/settings.ts";
import { TRACKING_FIELDS } from "./helpers/tracking-fields.ts";
import { makeWorld } from "./helpers/world.ts";

const RUNS = Number(process.env.FUZZ_RUNS ?? 120);
const world = await makeWorld();
const engine = await startEngineServer(world);
const base = `https://127.0.0.1:${engine.connection[1]?.split(":")[1]}`;

let inputs = 0;
afterAll(() => {
  console.log(`api fuzz: ${inputs} inputs tried`);
});

interface Probe {
  method: string;
  query: string;
  headers: Record<string, string>;
  body: string | Uint8Array | undefined;
}

// ---- database view: what a rejected request must leave alone ----

function snapshot(): string {
  return JSON.stringify([
    engine.db.query("SELECT * FROM tracking ORDER BY repo, branch").all(),
    engine.db.query("SELECT * FROM issue ORDER BY issue").all(),
    engine.db.query("SELECT id, state, step FROM publish_run ORDER BY id").all(),
  ]);
}

// ---- arbitraries ----

const hostileText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 20 }),
  fc.string({ unit: "binary", maxLength: 20 }),
  fc.constantFrom(
    "",
    " ",
    "-",
    "--upload-pack=touch /tmp/pwned",
    "../../etc/passwd",
    "src-openeuler/pkg",
    "owner/name",
    "file:///etc",
    "ext::sh -c id",
    "https://127.0.0.1:9/x.git",
    "patch-tracking/20240101000000000000",
    "true",
    "True",
    "1",
    "0",
    "null",
    "%00",
    "\u0000",
    "\ud800",
    "a".repeat(1025),
    "<script>alert(1)</script>",
  ),
);

const hugeNumber = fc.constantFrom(
  "1e400",
  "-1e400",
  "123456789012345678901234567890123456789",
  "-0",
  "0.0000000000000000000000000001",
  "9007199254740993",
  "1E+2",
);

/** Any JSON value of any type, as text. */
const jsonText = fc.jsonValue({ maxDepth: 4 }).map((value) => JSON.stringify(value) ?? "null");

/** A tracking body with some fields replaced by anything at all. */
const mutatedTracking = fc
  .record({
    version_control: fc.oneof(fc.constantFrom("github", "git"), fc.jsonValue()),
    scm_repo: fc.oneof(fc.constantFrom("owner/upstream", "https://127.0.0.1:9/x.git"), hostileText),
    scm_branch: fc.oneof(fc.constant("main"), hostileText),
    scm_commit: fc.option(fc.oneof(fc.stringMatching(/^[0-9a-f]{40}$/), fc.jsonValue())),
    repo: fc.oneof(fc.constant("src-openeuler/fuzz"), hostileText),
    branch: fc.oneof(fc.constant("master"), hostileText),
    enabled: fc.oneof(fc.boolean(), fc.constantFrom(0, 1, 2, "true", null), fc.jsonValue()),
    extra: fc.option(fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }))),
  })
  .chain((record) =>
    fc.subarray([...TRACKING_FIELDS]).map((kept) => {
      const body: Record<string, unknown> = {};
      for (const field of kept) body[field] = record[field];
      if (record.extra) Object.assign(body, record.extra);
      return JSON.stringify(body);
    }),
  );

/** The same key twice, with values of different types. */
const duplicateKeys = fc
  .tuple(fc.constantFrom(...TRACKING_FIELDS), jsonText, jsonText)
  .map(
    ([key, first, second]) =>
      `{"version_control":"github","scm_repo":"o/r","scm_branch":"m","repo":"a/b","branch":"x","enabled":true,${JSON.stringify(key)}:${first},${JSON.stringify(key)}:${second}}`,
  );

const deepNesting = fc
  .tuple(fc.integer({ min: 100, max: 8_000 }), fc.constantFrom("[", '{"a":'))
  .map(([depth, open]) => {
    const close = open === "[" ? "]" : "}";
    return `${open.repeat(depth)}1${close.repeat(depth)}`;
  });

const hugeNumbers = fc
  .tuple(fc.constantFrom(...TRACKING_FIELDS), hugeNumber)
  .map(([key, number]) => `{"${key}":${number}}`);

/** Bytes that are not valid UTF-8, inside or instead of JSON. */
const brokenUtf8 = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 200 }),
  fc
    .tuple(
      mutatedTracking,
      fc.constantFrom([0xff], [0xc3], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0x00]),
    )
    .map(([text, bad]) => {
      const bytes = new TextEncoder().encode(text);
      const cut = Math.floor(bytes.length / 2);
      return new Uint8Array([...bytes.slice(0, cut), ...bad, ...bytes.slice(cut)]);
    }),
);

const bigBody = fc
  .integer({ min: 1_000, max: MAX_BODY_BYTES - 200 })
  .map((size) => JSON.stringify({ scm_repo: "x".repeat(size) }));

const body = fc.option(
  fc.oneof(
    { weight: 3, arbitrary: mutatedTracking },
    { weight: 2, arbitrary: jsonText },
    { weight: 1, arbitrary: duplicateKeys },
    { weight: 1, arbitrary: deepNesting },
    { weight: 1, arbitrary: hugeNumbers },
    { weight: 1, arbitrary: brokenUtf8 },
    { weight: 1, arbitrary: bigBody },
    { weight: 1, arbitrary: hostileText },
  ),
  { nil: undefined, freq: 4 },
);

const contentType = fc.option(
  fc.oneof(
    { weight: 6, arbitrary: fc.constant("application/json") },
    {
      weight: 4,
      arbitrary: fc.constantFrom(
        "application/json; charset=utf-8",
        "text/plain",
        "text/plain;charset=UTF-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=zz",
        "application/json; charset=latin1",
        "application/xml",
        "",
        ";;;",
        "application/json, text/plain",
      ),
    },
    { weight: 1, arbitrary: fc.string({ maxLength: 30 }).filter((s) => !/[\r\n\0]/.test(s)) },
  ),
  { nil: undefined, freq: 5 },
);

/** Header-safe text (a fetch refuses CR, LF and NUL), sometimes long. */
const headerValue = fc.oneof(
  fc.string({ maxLength: 50 }),
  // Bun's HTTP layer caps the whole header block near 8 KiB (431 beyond; tested below).
  fc.integer({ min: 500, max: 2_500 }).map((length) => "v".repeat(length)),
);

const extraHeaders = fc.dictionary(
  fc.stringMatching(/^x-[a-z0-9-]{1,20}$/),
  headerValue.map((value) => value.replace(/[\r\n\0]/g, "").replace(/[^\x20-\x7e]/g, "?")),
  { maxKeys: 2 },
);

const authorization = fc.oneof(
  { weight: 5, arbitrary: fc.constant(basicAuth()) },
  { weight: 3, arbitrary: fc.constant(undefined) },
  {
    // Headers that are not Basic credentials: never counted as failed logins, so the
    // throttle does not lock the fuzzer out.
    weight: 1,
    arbitrary: fc.constantFrom("Bearer abc", "Basic", "Basic !!!", "Basic Zm9v", "Digest x=1"),
  },
);

/** Percent-encodes the UTF-8 bytes of `text` (lone surrogates become U+FFFD, as a browser sends). */
function percent(text: string): string {
  return [...Buffer.from(text, "utf8")]
    .map((byte) =>
      /[A-Za-z0-9_.~-]/.test(String.fromCharCode(byte))
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).padStart(2, "0").toUpperCase()}`,
    )
    .join("");
}

function queryArbitrary(names: string[]) {
  const key = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...(names.length ? names : ["repo"])) },
    { weight: 1, arbitrary: fc.string({ maxLength: 10 }) },
  );
  const value = fc.oneof(hostileText, hugeNumber);
  const raw = fc.constantFrom(
    "%",
    "%zz",
    "%ff%fe",
    "repo=%ed%a0%80",
    "a=b=c",
    "&&",
    "=",
    "repo",
    "repo[]=1",
    "__proto__=1",
    "constructor[prototype]=1",
  );
  const pair = fc.oneof(
    {
      weight: 4,
      arbitrary: fc.tuple(key, value).map(([k, v]) => `${percent(k)}=${percent(v)}`),
    },
    { weight: 1, arbitrary: raw },
  );
  // Repeats come naturally: several pairs may pick the same key.
  return fc
    .array(pair, { maxLength: 6 })
    .map((pairs) => (pairs.length ? `?${pairs.join("&")}` : ""));
}

function probeArbitrary(served: string[], queryNames: string[]) {
  return fc.record({
    method: fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(...served) },
      {
        weight: 1,
        arbitrary: fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"),
      },
    ),
    query: queryArbitrary(queryNames),
    headers: fc.tuple(extraHeaders, contentType, authorization).map(([headers, type, auth]) => {
      const all: Record<string, string> = { ...headers };
      if (type !== undefined) all["content-type"] = type;
      if (auth !== undefined) all.authorization = auth;
      return all;
    }),
    body,
  });
}

// ---- the routes, from the service's own description ----

interface OpenApi {
  paths: Record<
    string,
    Record<string, { parameters?: { name: string; in: string }[] } | undefined>
  >;
}

const openapi = (await (
  await fetch(`${base}/openapi/json`, { tls: { rejectUnauthorized: false } } as RequestInit)
).json()) as OpenApi;

/** Answers that are not API envelopes: pages, documents, metrics, health. */
const NOT_ENVELOPE = new Set(["/", "/status", "/openapi", "/openapi/json", "/metrics", "/health"]);

async function send(path: string, probe: Probe): Promise<Response> {
  const withBody = probe.method !== "GET" && probe.method !== "HEAD";
  return fetch(`${base}${path}${probe.query}`, {
    method: probe.method,
    headers: probe.headers,
    body: withBody ? probe.body : undefined,
    tls: { rejectUnauthorized: false },
  } as RequestInit);
}

describe("fuzzed API", () => {
  const routes = Object.entries(openapi.paths);

  test("the OpenAPI document lists the routes to fuzz", () => {
    const paths = routes.map(([path]) => path);
    for (const path of ["/tracking", "/issue", "/tracking/status", "/tracking/scan", "/health"]) {
      expect(paths).toContain(path);
    }
  });

  for (const [path, operations] of routes) {
    const served = Object.keys(operations).map((method) => method.toUpperCase());
    const queryNames = Object.values(operations).flatMap(
      (operation) =>
        operation?.parameters?.filter((item) => item.in === "query").map((item) => item.name) ?? [],
    );
    test(`${served.join("/")} ${path}: never a 5xx, always JSON, rejected input changes nothing`, async () => {
      await fc.assert(
        fc.asyncProperty(probeArbitrary(served, queryNames), async (probe) => {
          inputs++;
          const before = snapshot();
          const response = await send(path, probe);
          const text = await response.text();
          const context = `${probe.method} ${path}${probe.query.slice(0, 200)} → ${response.status} ${text.slice(0, 200)}`;
          expect(response.status, context).toBeLessThan(500);
          const type = response.headers.get("content-type") ?? "";
          let envelope: { code?: unknown; msg?: unknown; data?: unknown } | null = null;
          if (probe.method === "HEAD") {
            expect(text, context).toBe("");
          } else if (type.startsWith("application/json")) {
            envelope = JSON.parse(text); // throws, failing the property, when not JSON
            if (!NOT_ENVELOPE.has(path)) {
              expect(typeof envelope?.code, context).toBe("string");
              expect(typeof envelope?.msg, context).toBe("string");
              expect(envelope && "data" in envelope, context).toBe(true);
            }
          } else if (response.status !== 204) {
            // Only the pages, the metrics and the OpenAPI viewer answer something else.
            expect(NOT_ENVELOPE.has(path), context).toBe(true);
          }
          const accepted = envelope?.code === "2001";
          if (!accepted || probe.method === "GET" || probe.method === "HEAD") {
            expect(snapshot(), context).toBe(before);
          }
        }),
        { numRuns: RUNS },
      );
    }, 120_000);
  }

  test("over-limit bodies and headers are refused by the HTTP layer, changing nothing", async () => {
    const before = snapshot();
    const tooBig = await send("/tracking", {
      method: "POST",
      query: "",
      headers: { authorization: basicAuth(), "content-type": "application/json" },
      body: JSON.stringify({ scm_repo: "x".repeat(MAX_BODY_BYTES) }),
    });
    expect(tooBig.status).toBe(413);
    const longHeaders = await send("/tracking", {
      method: "GET",
      query: "",
      headers: { "x-long": "v".repeat(20_000) },
      body: undefined,
    });
    expect(longHeaders.status).toBe(431);
    inputs += 2;
    expect(snapshot()).toBe(before);
  });

  test("the service still answers after the storm", async () => {
    const response = await fetch(`${base}/health`, {
      tls: { rejectUnauthorized: false },
    } as RequestInit);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { status: string }).status).toBe("ok");
  });
});
