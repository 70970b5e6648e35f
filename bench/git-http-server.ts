/**
 * A smart-HTTP git server for the scan benchmark: `git http-backend` (git's own CGI) behind
 * `Bun.serve` on 127.0.0.1, with a fixed delay before every answer to stand for the network, and a
 * log of the requests. Many repository paths may map onto one directory on disk, so thousands of
 * distinct upstream URLs cost a handful of real repositories.
 */
import { statSync } from "node:fs";
import { join } from "node:path";
import { spawn } from "bun";

export interface GitHttpRequest {
  method: string;
  path: string;
  status: number;
}

export interface GitHttpServer {
  /** Origin, `http://127.0.0.1:PORT`; a repository's URL is `${origin}/${name}`. */
  origin: string;
  requests: GitHttpRequest[];
  stop(): Promise<void>;
}

export interface GitHttpServerOptions {
  /** URL path without the leading slash (`owner/name.git`) → git directory (a `.git` folder). */
  resolve(name: string): string | null;
  /** Milliseconds every request waits before it is handled; default 0. */
  latencyMs?: number;
  /**
   * Serve a repeated ref advertisement (`GET …/info/refs`) from memory while the repository's
   * refs are unchanged, as a busy forge does, so the bench measures the client and not
   * thousands of `http-backend` start-ups on the same 2 CPUs.
   */
  cacheAdvertisements?: boolean;
  /** Called with +1 when a request starts and −1 when it is answered (concurrency probes). */
  onRequest?(delta: 1 | -1): void;
}

/** Splits CGI output into status, headers and body (`Status:` header, blank line, bytes). */
function cgiResponse(output: Uint8Array): Response {
  const text = new TextDecoder("latin1").decode(output.subarray(0, 4096));
  const end = text.indexOf("\r\n\r\n");
  const split = end >= 0 ? end + 4 : text.indexOf("\n\n") + 2;
  const headers = new Headers();
  let status = 200;
  for (const line of text.slice(0, split).split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === "status") status = Number.parseInt(value, 10) || 500;
    else headers.append(name, value);
  }
  return new Response(output.subarray(split), { status, headers });
}

export function startGitHttpServer(options: GitHttpServerOptions): GitHttpServer {
  const requests: GitHttpRequest[] = [];
  const latencyMs = options.latencyMs ?? 0;

  const advertisements = new Map<
    string,
    { stamp: string; status: number; body: Uint8Array; headers: Headers }
  >();
  /** Changes whenever a ref of `dir` is written (loose refs are renamed into place). */
  function refsStamp(dir: string): string {
    const mtime = (path: string) => {
      try {
        return statSync(path).mtimeMs;
      } catch {
        return 0;
      }
    };
    return `${mtime(join(dir, "refs", "heads"))}:${mtime(join(dir, "packed-refs"))}`;
  }

  async function handle(request: Request): Promise<Response> {
    options.onRequest?.(1);
    try {
      return await answer(request);
    } finally {
      options.onRequest?.(-1);
    }
  }

  async function answer(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const record: GitHttpRequest = { method: request.method, path: url.pathname, status: 0 };
    requests.push(record);
    if (latencyMs > 0) await Bun.sleep(latencyMs);
    const match = /^\/(.+?\.git)(\/.*)$/.exec(url.pathname);
    const dir = match?.[1] ? options.resolve(match[1]) : null;
    if (!match?.[2] || !dir) {
      record.status = 404;
      return new Response("not found\n", { status: 404 });
    }
    const cacheKey = `${dir}\n${url.search}\n${request.headers.get("git-protocol") ?? ""}`;
    const cacheable =
      options.cacheAdvertisements && request.method === "GET" && match[2] === "/info/refs";
    const cached = cacheable ? advertisements.get(cacheKey) : undefined;
    if (cached && cached.stamp === refsStamp(dir)) {
      record.status = cached.status;
      return new Response(cached.body, { status: cached.status, headers: cached.headers });
    }
    const stamp = refsStamp(dir);
    const body =
      request.method === "POST" ? new Uint8Array(await request.arrayBuffer()) : new Uint8Array();
    const proc = spawn(["git", "http-backend"], {
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        GIT_CONFIG_NOSYSTEM: "1",
        GIT_CONFIG_GLOBAL: "/dev/null",
        GIT_PROJECT_ROOT: dir,
        GIT_HTTP_EXPORT_ALL: "1",
        PATH_INFO: match[2],
        REQUEST_METHOD: request.method,
        QUERY_STRING: url.search.slice(1),
        CONTENT_TYPE: request.headers.get("content-type") ?? "",
        CONTENT_LENGTH: String(body.length),
        HTTP_CONTENT_ENCODING: request.headers.get("content-encoding") ?? "",
        GIT_PROTOCOL: request.headers.get("git-protocol") ?? "",
        REMOTE_ADDR: "127.0.0.1",
      },
      stdin: body,
      stdout: "pipe",
      stderr: "ignore",
    });
    const output = new Uint8Array(await new Response(proc.stdout).arrayBuffer());
    await proc.exited;
    const response = cgiResponse(output);
    record.status = response.status;
    if (cacheable && response.status === 200) {
      const bytes = new Uint8Array(await response.arrayBuffer());
      advertisements.set(cacheKey, { stamp, status: 200, body: bytes, headers: response.headers });
      return new Response(bytes, { status: 200, headers: response.headers });
    }
    return response;
  }

  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: handle });
  return {
    origin: `http://127.0.0.1:${server.port}`,
    requests,
    async stop() {
      await server.stop(true);
    },
  };
}
