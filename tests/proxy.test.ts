/**
 * Outbound proxies (HTTPS_PROXY, HTTP_PROXY, NO_PROXY, settings.conf PROXY/NO_PROXY): which
 * requests go through the proxy, and that every client — the GitHub REST and GraphQL calls, the
 * Gitee calls, git for git upstreams and the CLI's pre-add checks — really does, counted by a real
 * proxy on 127.0.0.1 (tests/helpers/connect-proxy.ts).
 */
import { describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { startGitHttpServer } from "../bench/git-http-server.ts";
import { getStatus } from "../src/db/status.ts";
import { upsertTracking } from "../src/db/trackings.ts";
import { runDoctor } from "../src/doctor/checks.ts";
import { createEngine } from "../src/engine.ts";
import { silentLogger } from "../src/log.ts";
import {
  bypassesProxy,
  describeProxy,
  gitProxyEnvironment,
  NO_PROXIES,
  type ProxyConfig,
  parseProxyUrl,
  proxiedFetch,
  proxyCredentials,
  proxyFor,
  resolveProxies,
} from "../src/net/proxy.ts";
import { Scanner } from "../src/scan/scheduler.ts";
import { createGithubUpstream } from "../src/scan/upstream/github.ts";
import { parseSettings, SettingsError } from "../src/settings.ts";
import { cli, GUIDE_TRACKING_FLAGS, startForges, startHttpsServer } from "./helpers/cli.ts";
import { startTestProxy } from "./helpers/connect-proxy.ts";
import {
  settingsText,
  TEST_GITHUB_TOKEN,
  testSettings,
  writeSettings,
} from "./helpers/settings.ts";
import { tempDir } from "./helpers/temp.ts";
import { makeSelfSignedCert } from "./helpers/tls.ts";
import { waitFor } from "./helpers/wait.ts";
import { makeWorld, packageSpec } from "./helpers/world.ts";

const noSettings = { proxy: null, noProxy: null };

describe("which proxy a request takes", () => {
  test("lower-case variables first, settings.conf PROXY wins, NO_PROXY lists add up", () => {
    const env = {
      HTTPS_PROXY: "http://upper:3128",
      https_proxy: "http://lower:3128",
      HTTP_PROXY: "plain:8080",
      NO_PROXY: "internal.example",
    };
    expect(resolveProxies(noSettings, env)).toEqual({
      https: "http://lower:3128",
      http: "http://plain:8080",
      noProxy: ["internal.example"],
    });
    expect(resolveProxies({ proxy: "http://file:3128", noProxy: "gitee.com, .corp" }, env)).toEqual(
      {
        https: "http://file:3128",
        http: "http://file:3128",
        noProxy: ["gitee.com", ".corp", "internal.example"],
      },
    );
    expect(resolveProxies(noSettings, {})).toEqual(NO_PROXIES);
  });

  test("NO_PROXY: names and their subdomains, .suffixes, ports, IPv4 CIDR, IPv6, *", () => {
    const list = ["gitee.com", ".corp.example", "git.example:8443", "10.0.0.0/8", "[::1]"];
    expect(bypassesProxy("gitee.com", "443", list)).toBe(true);
    expect(bypassesProxy("api.GITEE.com", "443", list)).toBe(true);
    expect(bypassesProxy("notgitee.com", "443", list)).toBe(false);
    expect(bypassesProxy("a.corp.example", "443", list)).toBe(true);
    expect(bypassesProxy("git.example", "8443", list)).toBe(true);
    expect(bypassesProxy("git.example", "443", list)).toBe(false);
    expect(bypassesProxy("10.20.30.40", "80", list)).toBe(true);
    expect(bypassesProxy("11.0.0.1", "80", list)).toBe(false);
    expect(bypassesProxy("[::1]", "80", list)).toBe(true);
    expect(bypassesProxy("api.github.com", "443", ["*"])).toBe(true);
    expect(bypassesProxy("api.github.com", "443", [])).toBe(false);
    const config: ProxyConfig = { https: "http://p:1", http: null, noProxy: ["gitee.com"] };
    expect(proxyFor("https://api.github.com/graphql", config)).toBe("http://p:1");
    expect(proxyFor("https://gitee.com/api/v5/user", config)).toBeNull();
    expect(proxyFor("http://api.github.com/", config)).toBeNull();
  });

  test("a proxy that is not an http(s) URL is named; credentials never shown", () => {
    expect(parseProxyUrl("proxy.corp:3128", "PROXY")).toBe("http://proxy.corp:3128");
    expect(() => parseProxyUrl("socks5://proxy:1080", "HTTPS_PROXY (environment)")).toThrow(
      "HTTPS_PROXY (environment): must be an http:// or https:// proxy, got socks5:// (SOCKS proxies are not supported)",
    );
    expect(() => resolveProxies(noSettings, { https_proxy: "http://[broken" })).toThrow(
      'https_proxy (environment): is not a proxy URL like "http://proxy.example.com:3128"',
    );
    expect(describeProxy("http://alice:s3cret-pass@proxy:3128")).toBe("http://***@proxy:3128");
    const config = resolveProxies({
      proxy: "http://alice:s3cret%2Fpass@proxy:3128",
      noProxy: null,
    });
    expect(proxyCredentials(config)).toContain("s3cret/pass");
    expect(gitProxyEnvironment(NO_PROXIES)).toEqual({});
  });

  test("settings.conf PROXY is checked like any key; NO_PROXY is kept as written", () => {
    const parse = (extra: Record<string, string>) =>
      parseSettings(settingsText(tempDir(), extra)).settings;
    expect(() => parse({ PROXY: '"ftp://proxy:21"' })).toThrow(SettingsError);
    expect(() => parse({ PROXY: '"ftp://proxy:21"' })).toThrow("PROXY: must be an http://");
    const settings = parse({ PROXY: '"proxy.corp:3128"', NO_PROXY: '"gitee.com"' });
    expect(settings.proxy).toBe("http://proxy.corp:3128");
    expect(settings.noProxy).toBe("gitee.com");
    expect(parse({}).proxy).toBeNull();
  });
});

describe("Bun's own use of the environment's proxies", () => {
  test("settings.conf NO_PROXY also keeps Bun's built-in HTTP_PROXY away from a host", async () => {
    // A separate process: Bun reads the proxy variables once, for the whole process.
    const site = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("direct") });
    const script = join(tempDir(), "probe.ts");
    await Bun.write(
      script,
      `import { proxiedFetch, resolveProxies, shareNoProxyWithRuntime } from ${JSON.stringify(join(import.meta.dir, "../src/net/proxy.ts"))};
const proxies = resolveProxies({ proxy: null, noProxy: "127.0.0.1" });
if (process.argv[2] === "share") shareNoProxyWithRuntime(proxies);
const answer = await proxiedFetch(proxies)("http://127.0.0.1:${site.port}/").then((r) => r.text(), (e) => "failed: " + e.message);
console.log(answer);`,
    );
    const run = async (mode: string) => {
      const child = Bun.spawn([process.execPath, script, mode], {
        env: { PATH: process.env.PATH ?? "", HTTP_PROXY: "http://127.0.0.1:9" },
        stdout: "pipe",
      });
      return (await new Response(child.stdout).text()).trim();
    };
    expect(await run("share")).toBe("direct");
    // Without sharing the list, Bun sends the request to the (closed) proxy on its own.
    expect(await run("keep")).toStartWith("failed: ");
    site.stop(true);
  });
});

describe("fetch through a CONNECT proxy", () => {
  test("https:// requests open a tunnel; a refusing proxy and a missing one are named", async () => {
    const dir = tempDir();
    const cert = makeSelfSignedCert(dir);
    const site = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      tls: { cert: Bun.file(cert.cert), key: Bun.file(cert.key) },
      fetch: () => new Response("through"),
    });
    const proxy = await startTestProxy();
    const config: ProxyConfig = { https: proxy.url, http: null, noProxy: [] };
    const insecure = { tls: { rejectUnauthorized: false } } as RequestInit;
    const fetchIt = proxiedFetch(config);
    const url = `https://127.0.0.1:${site.port}/x`;
    expect(await (await fetchIt(url, insecure)).text()).toBe("through");
    expect(proxy.tunnels.get(`127.0.0.1:${site.port}`)).toBe(1);

    proxy.refuse(true);
    // A fresh URL, so no kept-alive tunnel is reused.
    const refused = await proxiedFetch(config)(`https://localhost:${site.port}/y`, insecure).catch(
      (error: Error) => error,
    );
    expect(refused).toBeInstanceOf(Error);
    expect((refused as Error).message).toBe(
      `proxy ${proxy.url} refused to open a tunnel to localhost:${site.port}: 403 Forbidden`,
    );
    expect(proxy.refused).toBe(1);

    const gone = proxiedFetch({
      https: "http://user:hunter2hunter2@127.0.0.1:9",
      http: null,
      noProxy: [],
    });
    const failure = (await gone(url, insecure).catch((error: Error) => error)) as Error;
    expect(failure.message).toBe(
      "proxy http://***@127.0.0.1:9 refused the connection (is it running?)",
    );
    expect(failure.message).not.toContain("hunter2");
    site.stop(true);
  });
});

const world = await makeWorld();
const c1 = await world.upstream.commit("Fix a crash", { "src/a.c": "int a = 3;\n" });
const gitServer = startGitHttpServer({
  resolve: (name) => (name === "up/stream.git" ? join(world.upstream.dir, ".git") : null),
});
const GIT_URL = `${gitServer.origin}/up/stream.git`;
let packages = 0;

/** The service's engine with `proxies`, one GitHub and one git tracking on fresh packages. */
function engineWith(proxies: ProxyConfig) {
  const dir = tempDir();
  mkdirSync(join(dir, "git"), { recursive: true });
  const settings = testSettings(dir, {
    GITHUB_API_URL: `"${world.github.url}"`,
    GITEE_API_URL: `"${world.gitee.url}"`,
    GIT_ALLOW_PROTOCOL: '"http:https"',
    REQUEST_TIMEOUT: 5,
  });
  const engine = createEngine(settings, world.db, silentLogger, proxies);
  const names = [`viagithub${++packages}`, `viagit${packages}`];
  for (const [index, name] of names.entries()) {
    world.gitee.addRepo(`src-openeuler/${name}`, {
      files: { [`${name}.spec`]: packageSpec(name) },
    });
    upsertTracking(world.db, {
      version_control: index === 0 ? "github" : "git",
      scm_repo: index === 0 ? "up/stream" : GIT_URL,
      scm_branch: "main",
      scm_commit: world.base,
      repo: `src-openeuler/${name}`,
      branch: "master",
      enabled: true,
    });
  }
  return {
    engine,
    async scanBoth() {
      const results = [];
      for (const name of names)
        results.push(await engine.scanner.scanOne(`src-openeuler/${name}`, "master"));
      await engine.stop();
      return results;
    },
  };
}

function resetCounts() {
  world.github.requests.length = 0;
  world.gitee.resetLog();
  gitServer.requests.length = 0;
}

const host = (url: string) => new URL(url).host;

describe("the service through a proxy", () => {
  test("every GitHub, Gitee and git request goes through the proxy when configured", async () => {
    const proxy = await startTestProxy();
    resetCounts();
    const { scanBoth } = engineWith({ https: proxy.url, http: proxy.url, noProxy: [] });
    const results = await scanBoth();
    expect(results.map((result) => result.outcome)).toEqual(["proposed", "proposed"]);
    expect(world.github.requests.length).toBeGreaterThan(0);
    expect(world.gitee.requests.length).toBeGreaterThan(4);
    expect(gitServer.requests.length).toBeGreaterThan(0);
    // Each request the forges and the git server saw was one the proxy forwarded.
    expect(proxy.forwarded.get(host(world.github.url))).toBe(world.github.requests.length);
    expect(proxy.forwarded.get(host(world.gitee.url))).toBe(world.gitee.requests.length);
    expect(proxy.forwarded.get(host(gitServer.origin))).toBe(gitServer.requests.length);
    expect(c1).toHaveLength(40);
  });

  test("NO_PROXY covering the hosts: nothing goes through the proxy", async () => {
    const proxy = await startTestProxy();
    resetCounts();
    const { scanBoth } = engineWith({ https: proxy.url, http: proxy.url, noProxy: ["127.0.0.1"] });
    const results = await scanBoth();
    expect(results.map((result) => result.outcome)).toEqual(["proposed", "proposed"]);
    expect(world.gitee.requests.length).toBeGreaterThan(4);
    expect(gitServer.requests.length).toBeGreaterThan(0);
    expect(proxy.total()).toBe(0);
    expect(proxy.refused).toBe(0);
  });

  test("an unreachable proxy fails the scans with an error naming it, and proposes nothing", async () => {
    resetCounts();
    const proxyUrl = "http://operator:pr0xy-secret-pw@127.0.0.1:9";
    const { scanBoth } = engineWith({ https: proxyUrl, http: proxyUrl, noProxy: [] });
    const results = await scanBoth();
    expect(results.map((result) => result.outcome)).toEqual(["failed", "failed"]);
    expect(results[0]?.error).toContain("proxy http://***@127.0.0.1:9 refused the connection");
    expect(results[1]?.error).toContain("127.0.0.1");
    for (const result of results) expect(result.error).not.toContain("pr0xy-secret-pw");
    expect(world.gitee.writes()).toEqual([]);
    expect(world.github.requests.length + gitServer.requests.length).toBe(0);
    const status = getStatus(world.db, `src-openeuler/viagithub${packages}`, "master");
    expect(status?.lastError).toContain("proxy http://***@127.0.0.1:9");
  });
});

describe("a refusing proxy is an outage of the forge behind it", () => {
  test("GitHub's breaker opens, trackings wait without requests, and all come back when it serves again", async () => {
    // GitHub is reached over https, as in production, so the proxy is asked for CONNECT tunnels.
    const cert = makeSelfSignedCert(tempDir());
    const front = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      tls: { cert: Bun.file(cert.cert), key: Bun.file(cert.key) },
      async fetch(request) {
        const url = new URL(request.url);
        return fetch(`${world.github.url}${url.pathname}${url.search}`, {
          method: request.method,
          headers: request.headers,
          body: request.method === "GET" ? undefined : await request.arrayBuffer(),
        });
      },
    });
    const proxy = await startTestProxy();
    const trustFront: typeof fetch = Object.assign(
      (input: string | URL | Request, init?: RequestInit) =>
        fetch(input, { ...init, tls: { rejectUnauthorized: false } } as RequestInit),
      { preconnect: fetch.preconnect },
    );
    const github = createGithubUpstream({
      baseUrl: `https://127.0.0.1:${front.port}`,
      token: TEST_GITHUB_TOKEN,
      log: silentLogger,
      timeoutMs: 2000,
      retryAfterBaseValue: 5,
      fetch: proxiedFetch({ https: proxy.url, http: null, noProxy: [] }, trustFront),
    });
    world.db.run("UPDATE tracking SET enabled = 0");
    const head = await world.upstream.head();
    const names = Array.from({ length: 12 }, (_, i) => `src-openeuler/behindproxy${i}`);
    for (const repo of names) {
      upsertTracking(world.db, {
        version_control: "github",
        scm_repo: "up/stream",
        scm_branch: "main",
        scm_commit: head,
        repo,
        branch: "master",
        enabled: true,
      });
    }
    const scanner = new Scanner({
      runBackoff: () => 0,
      db: world.db,
      log: silentLogger,
      forge: world.forge,
      upstreams: { github, git: github },
      intervalSeconds: 3600,
      concurrency: 4,
      retryBaseMs: 60_000,
      breaker: { threshold: 3, probeBaseMs: 300, probeMaxMs: 1200 },
    });
    const lastOutcomes = () =>
      names.map((repo) => getStatus(world.db, repo, "master")?.lastOutcome ?? "none");
    try {
      expect((await scanner.scanAll()).outcomes).toEqual({ unchanged: 12 });
      expect(proxy.total()).toBeGreaterThan(0);

      proxy.refuse(true);
      const first = await scanner.scanAll();
      const outage = scanner.state().breakers.find((view) => view.forge === "github");
      expect(outage?.state).toBe("open");
      expect(outage?.lastError).toContain(`proxy ${proxy.url} refused to open a tunnel`);
      // The trackings whose failures revealed the outage may have failed; all the others wait.
      expect(first.outcomes.waiting ?? 0).toBeGreaterThanOrEqual(12 - 2);
      expect(lastOutcomes().every((outcome) => outcome === "waiting")).toBe(true);
      expect(getStatus(world.db, names[11] ?? "", "master")?.lastError).toMatch(
        /^github unreachable since \d{4}-/,
      );
      // Held trackings send nothing: what reaches the proxy is bounded by the probes, not by
      // the number of trackings.
      const refusedInPass = proxy.refused;
      expect(refusedInPass).toBeLessThan(names.length);
      expect((await scanner.scanAll()).outcomes).toEqual({ waiting: 12 });
      expect(proxy.refused).toBe(refusedInPass);
      expect(world.gitee.writes()).toEqual([]);

      proxy.refuse(false);
      const since = new Date().toISOString();
      await waitFor(
        () =>
          names.every((repo) => {
            const status = getStatus(world.db, repo, "master");
            return status?.lastOutcome === "unchanged" && (status.lastScanAt ?? "") >= since;
          }),
        15_000,
        "every tracking scanned again through the proxy",
      );
      expect(scanner.state().breakers.find((view) => view.forge === "github")?.state).not.toBe(
        "open",
      );
    } finally {
      await scanner.stop();
      front.stop(true);
      world.db.run("UPDATE tracking SET enabled = 0 WHERE repo LIKE 'src-openeuler/behindproxy%'");
    }
  });
});

describe("the CLI's pre-add checks through a proxy", () => {
  const server = startHttpsServer();
  const forges = startForges();
  const add = (env: Record<string, string>) =>
    cli(
      [
        "add",
        "--server",
        server.hostPort,
        "--ca",
        server.cert.cert,
        "--user",
        "admin",
        "--password",
        "Test@123",
        ...GUIDE_TRACKING_FLAGS,
      ],
      { env: { ...forges.env, ...env } },
    );

  test("HTTP_PROXY carries the GitHub and Gitee look-ups; NO_PROXY sends them directly", async () => {
    const proxy = await startTestProxy();
    const through = await add({ HTTP_PROXY: proxy.url });
    expect(through.code).toBe(0);
    expect(proxy.forwarded.get(host(forges.github.url))).toBeGreaterThan(0);
    expect(proxy.forwarded.get(host(forges.gitee.url))).toBeGreaterThan(0);
    proxy.reset();
    const direct = await add({ http_proxy: proxy.url, no_proxy: "localhost,127.0.0.1" });
    expect(direct.code).toBe(0);
    expect(proxy.total()).toBe(0);
  });

  test("a refusing proxy makes the checks fail with the reason; a bad proxy URL is named", async () => {
    server.db.run("DELETE FROM tracking");
    const proxy = await startTestProxy();
    proxy.refuse(true);
    const refused = await add({ HTTP_PROXY: proxy.url });
    expect(refused.code).toBe(1);
    expect(refused.err).toContain("HTTP 403");
    expect(server.trackings()).toHaveLength(0);
    const bad = await add({ HTTPS_PROXY: "socks5://127.0.0.1:1080" });
    expect(bad.code).toBe(1);
    expect(bad.err).toContain("HTTPS_PROXY (environment): must be an http:// or https:// proxy");
  });
});

describe("doctor through a proxy", () => {
  test("asks GitHub and Gitee through the proxy, names it, and skips it for NO_PROXY hosts", async () => {
    const dir = tempDir();
    const path = writeSettings(dir, {
      GITHUB_API_URL: `"${world.github.url}"`,
      GITEE_API_URL: `"${world.gitee.url}"`,
    });
    const proxy = await startTestProxy();
    const withProxy = `http://doctor:d0ct0r-secret-pw@127.0.0.1:${proxy.port}`;
    const lines = await runDoctor({ path, env: { HTTP_PROXY: withProxy } });
    const text = lines.map((line) => `${line.level} ${line.subject}: ${line.detail}`).join("\n");
    expect(text).toContain(
      `ok proxy: https direct, http http://***@127.0.0.1:${proxy.port}, no proxy for (none)`,
    );
    expect(text).not.toContain("d0ct0r-secret-pw");
    expect(proxy.forwarded.get(host(world.github.url))).toBeGreaterThan(0);
    expect(proxy.forwarded.get(host(world.gitee.url))).toBeGreaterThan(0);
    proxy.reset();
    await runDoctor({ path, env: { HTTP_PROXY: proxy.url, NO_PROXY: "127.0.0.1" } });
    expect(proxy.total()).toBe(0);
    const bad = await runDoctor({ path, env: { HTTPS_PROXY: "socks5://127.0.0.1:1080" } });
    expect(bad).toContainEqual({
      level: "fail",
      subject: "HTTPS_PROXY (environment)",
      detail:
        "must be an http:// or https:// proxy, got socks5:// (SOCKS proxies are not supported)",
    });
  });
});
