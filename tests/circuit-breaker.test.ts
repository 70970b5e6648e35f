import { describe, expect, test } from "bun:test";
import { createServer } from "node:net";
import { NotFoundError, RejectedError, TransientError } from "../src/errors.ts";
import { fetchFailureKind, gitFailureKind } from "../src/forge/transport-failure.ts";
import { GitError, git } from "../src/git.ts";
import { CircuitBreakers, gitHost, upstreamForge } from "../src/scan/circuit-breaker.ts";
import { freePort } from "./helpers/net.ts";
import { tempDir } from "./helpers/temp.ts";

/** Breakers on a clock the test moves, with jitter pinned to its middle. */
function breakersAt(options: ConstructorParameters<typeof CircuitBreakers>[0] = {}) {
  const clock = { now: 1_000_000 };
  const changes: string[] = [];
  const breakers = new CircuitBreakers({
    threshold: 3,
    probeBaseMs: 1000,
    probeMaxMs: 8000,
    now: () => clock.now,
    random: () => 0.5,
    onChange: (view) => changes.push(`${view.forge}:${view.state}`),
    ...options,
  });
  return { breakers, clock, changes };
}

const refused = (what = "x") =>
  new TransientError("github", `${what}: ECONNREFUSED`, undefined, "refused");
const server = (what = "x") => new TransientError("github", `${what}: 503`, 503, "server");

describe("opening", () => {
  test("consecutive refused connections open the forge's breaker, and only that forge's", () => {
    const { breakers, changes } = breakersAt();
    breakers.report("github", "a:master", refused());
    breakers.report("github", "a:master", refused());
    expect(breakers.isOpen("github")).toBe(false);
    breakers.report("github", "a:master", refused());
    expect(breakers.isOpen("github")).toBe(true);
    expect(breakers.isOpen("gitee")).toBe(false);
    expect(changes).toEqual(["github:open"]);
    expect(breakers.waitingReason("github")).toMatch(
      /^github unreachable since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/,
    );
  });

  test("any answer from the forge (404, refusal) ends the streak", () => {
    const { breakers } = breakersAt();
    for (let i = 0; i < 10; i++) {
      breakers.report("github", "a:master", refused());
      breakers.report("github", "b:master", refused());
      breakers.report("github", "gone:master", new NotFoundError("github", "repository gone"));
    }
    expect(breakers.isOpen("github")).toBe(false);
    breakers.report("github", "c:master", new RejectedError("github", "HTTP 422"));
    expect(breakers.views()[0]?.state).toBe("closed");
  });

  test("5xx or timeouts from one tracking alone never open it; from several trackings they do", () => {
    const { breakers } = breakersAt();
    for (let i = 0; i < 20; i++) breakers.report("github", "flaky:master", server());
    // The other trackings' answers come in between, as they do in a scan.
    breakers.succeeded("github");
    for (let i = 0; i < 20; i++) {
      breakers.report(
        "github",
        "huge:master",
        new TransientError("github", "timed out", undefined, "timeout"),
      );
    }
    expect(breakers.isOpen("github")).toBe(false);
    breakers.report("github", "b:master", server());
    expect(breakers.isOpen("github")).toBe(true);
  });

  test("errors that say nothing about the forge (local ones) are ignored", () => {
    const { breakers } = breakersAt({ threshold: 1 });
    breakers.report("github", "a:master", new Error("disk full"));
    breakers.report("github", "a:master", new TransientError("github", "listed 3 of 4 commits"));
    expect(breakers.isOpen("github")).toBe(false);
  });
});

describe("probing and closing", () => {
  test("probes back off exponentially with jitter, capped; a successful probe closes", () => {
    const { breakers, clock, changes } = breakersAt();
    for (let i = 0; i < 3; i++) breakers.report("gitee", "a:master", refused());
    const delays: number[] = [];
    let last = clock.now;
    for (let probe = 0; probe < 6; probe++) {
      const wait = breakers.nextProbeIn() as number;
      delays.push(wait);
      clock.now += wait - 1;
      expect(breakers.probeDue()).toEqual([]);
      clock.now += 1;
      expect(breakers.probeDue()).toEqual(["gitee"]);
      expect(breakers.beginProbe("gitee")).toEqual({ subject: "a:master" });
      // Only one probe at a time.
      expect(breakers.beginProbe("gitee")).toBeNull();
      expect(breakers.nextProbeIn()).toBeNull();
      breakers.probeFailed("gitee", "ECONNREFUSED");
      last = clock.now;
    }
    // base 1 s, doubling, capped at 8 s; jitter in the upper half (random 0.5 → 3/4 of it).
    expect(delays).toEqual([750, 1500, 3000, 6000, 6000, 6000]);
    expect(breakers.openViews()[0]).toMatchObject({
      forge: "gitee",
      failedProbes: 6,
      lastError: "ECONNREFUSED",
      nextProbeAt: new Date(last + 6000).toISOString(),
    });
    breakers.beginProbe("gitee");
    breakers.probeSucceeded("gitee");
    expect(breakers.isOpen("gitee")).toBe(false);
    expect(changes).toEqual(["gitee:open", "gitee:closed"]);
  });

  test("jitter spreads the probes of forges that went down together", () => {
    let seed = 1;
    const random = () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    const { breakers } = breakersAt({ random });
    const forges = ["h1", "h2", "h3", "h4", "h5"];
    for (const forge of forges) for (let i = 0; i < 3; i++) breakers.report(forge, "s", refused());
    const due = new Set(breakers.openViews().map((view) => view.nextProbeAt));
    expect(due.size).toBe(forges.length);
  });

  test("after closing, held trackings are let through 1, 2, 3 … at a time", async () => {
    const { breakers } = breakersAt({ rampMax: 4 });
    for (let i = 0; i < 3; i++) breakers.report("github", "s", refused());
    breakers.beginProbe("github");
    breakers.probeSucceeded("github");
    let running = 0;
    const peaks: number[] = [];
    await Promise.all(
      Array.from({ length: 12 }, async () => {
        const release = await breakers.admit("github");
        running++;
        peaks.push(running);
        await Bun.sleep(5);
        running--;
        breakers.succeeded("github");
        release();
      }),
    );
    // One alone, then two, then three …: not twelve at once.
    expect(peaks.slice(0, 3)).toEqual([1, 1, 2]);
    expect(Math.max(...peaks.slice(0, 6))).toBeLessThanOrEqual(3);
    // Ramped up: no gate any more.
    const releases = await Promise.all(Array.from({ length: 20 }, () => breakers.admit("github")));
    for (const release of releases) release();
  });
});

describe("forges of trackings", () => {
  test("GitHub is one forge; git upstreams are one forge per host", () => {
    expect(upstreamForge("github", "owner/name")).toBe("github");
    expect(upstreamForge("git", "https://git.kernel.org/pub/scm/git/git.git")).toBe(
      "git.kernel.org",
    );
    expect(gitHost("ssh://git@Example.org:2222/repo.git")).toBe("example.org:2222");
    expect(gitHost("git@gitlab.com:group/repo.git")).toBe("gitlab.com");
    expect(gitHost("https://user:pw@host.test/r.git")).toBe("host.test");
    expect(gitHost("file:///srv/git/repo.git")).toBe("local");
    expect(gitHost("/srv/git/repo.git")).toBe("local");
  });
});

describe("transport failures are told apart from answers", () => {
  async function fetchError(url: string, init: RequestInit = {}) {
    return fetch(url, { signal: AbortSignal.timeout(400), ...init }).then(
      () => null,
      (error) => error,
    );
  }

  test("refused, DNS, black hole, TLS and a refusing proxy, with real sockets", async () => {
    const closed = await freePort();
    expect(fetchFailureKind(await fetchError(`http://127.0.0.1:${closed}/`))).toBe("refused");
    expect(fetchFailureKind(await fetchError("http://forge-outage.invalid/"))).toBe("dns");
    const hole = createServer(() => {}).listen(0, "127.0.0.1");
    await new Promise((resolve) => hole.once("listening", resolve));
    const holePort = (hole.address() as { port: number }).port;
    expect(fetchFailureKind(await fetchError(`http://127.0.0.1:${holePort}/`))).toBe("timeout");
    hole.close();
    const plain = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("x") });
    expect(fetchFailureKind(await fetchError(`https://127.0.0.1:${plain.port}/`))).toBe("tls");
    const proxy = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: () => new Response("no", { status: 502 }),
    });
    const viaProxy = await fetchError("https://forge.test/", {
      proxy: `http://127.0.0.1:${proxy.port}`,
    } as RequestInit);
    expect(fetchFailureKind(viaProxy)).toBe("proxy");
    // A proxy that refuses the connection is an outage of the forge behind it.
    const deadProxy = await fetchError("https://forge.test/", {
      proxy: `http://127.0.0.1:${closed}`,
    } as RequestInit);
    expect(fetchFailureKind(deadProxy)).toBe("refused");
    plain.stop(true);
    proxy.stop(true);
  });

  test("git's words: refused and unresolvable hosts are transport failures, a missing repository is not", async () => {
    const cwd = tempDir();
    const closed = await freePort();
    const failure = async (url: string) => {
      const error = await git(["ls-remote", url], { cwd, timeoutMs: 10_000 }).catch((e) => e);
      expect(error).toBeInstanceOf(GitError);
      return gitFailureKind((error as GitError).stderr, (error as GitError).timedOut);
    };
    expect(await failure(`http://127.0.0.1:${closed}/repo.git`)).toBe("refused");
    expect(await failure("http://forge-outage.invalid/repo.git")).toBe("dns");
    expect(await failure(`${cwd}/missing.git`)).toBeNull();
    expect(
      gitFailureKind("fatal: unable to access 'x': The requested URL returned error: 503", false),
    ).toBe("server");
    expect(
      gitFailureKind(
        "fatal: unable to access 'x': Received HTTP code 502 from proxy after CONNECT",
        false,
      ),
    ).toBe("proxy");
    expect(gitFailureKind("", true)).toBe("timeout");
  });
});
