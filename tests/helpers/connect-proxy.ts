/**
 * A real HTTP proxy on 127.0.0.1 for the proxy tests: `CONNECT host:port` opens a TCP tunnel
 * (what clients do for https:// URLs), and absolute-form requests (`GET http://host/path`, what
 * they do for http:// URLs) are forwarded. It counts both per target `host:port`, can require
 * Basic credentials, and refuses everything with 403 when told to.
 */
import { afterAll } from "bun:test";
import { createServer, type IncomingMessage } from "node:http";
import { connect, type Socket } from "node:net";

export interface TestProxy {
  /** `http://127.0.0.1:PORT` */
  url: string;
  port: number;
  /** Tunnels opened (CONNECT answered 200), by target `host:port`. */
  tunnels: Map<string, number>;
  /** Requests forwarded, by target `host:port`. */
  forwarded: Map<string, number>;
  /** CONNECTs and requests refused (403 or 407). */
  refused: number;
  /** Every Proxy-Authorization header seen. */
  authorizations: string[];
  /** Total tunnels plus forwarded requests. */
  total(): number;
  /**
   * Answer every CONNECT and request with 403 from now on (or serve again). Turning refusal on
   * also closes the open connections, as a proxy restarted with a deny-all policy would: kept-alive
   * tunnels would otherwise still carry requests.
   */
  refuse(on: boolean): void;
  reset(): void;
  stop(): Promise<void>;
}

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "host",
]);

export async function startTestProxy(options: { credentials?: string } = {}): Promise<TestProxy> {
  let refusing = false;
  const sockets = new Set<Socket>();
  const expected = options.credentials
    ? `Basic ${Buffer.from(options.credentials).toString("base64")}`
    : null;
  const count = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);

  /** Null when the request may pass; else the status line to refuse it with. */
  function verdict(request: IncomingMessage): string | null {
    const auth = request.headers["proxy-authorization"];
    if (typeof auth === "string") proxy.authorizations.push(auth);
    if (refusing) return "403 Forbidden";
    if (expected && auth !== expected) return "407 Proxy Authentication Required";
    return null;
  }

  const server = createServer(async (request, response) => {
    const refusal = verdict(request);
    const target = new URL(request.url ?? "/");
    if (refusal) {
      proxy.refused++;
      response.writeHead(Number(refusal.slice(0, 3)), { "content-type": "text/plain" });
      response.end(`test proxy: ${refusal}\n`);
      return;
    }
    count(proxy.forwarded, target.host);
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const headers = new Headers();
    for (const [name, value] of Object.entries(request.headers)) {
      if (HOP_BY_HOP.has(name) || value === undefined) continue;
      headers.set(name, Array.isArray(value) ? value.join(", ") : value);
    }
    try {
      const answer = await fetch(target, {
        method: request.method,
        headers,
        body: chunks.length > 0 ? Buffer.concat(chunks) : undefined,
        redirect: "manual",
        decompress: false,
      } as RequestInit);
      const out: Record<string, string> = {};
      answer.headers.forEach((value, name) => {
        if (!HOP_BY_HOP.has(name) && name !== "content-length") out[name] = value;
      });
      response.writeHead(answer.status, out);
      response.end(Buffer.from(await answer.arrayBuffer()));
    } catch {
      response.writeHead(502, { "content-type": "text/plain" });
      response.end("test proxy: upstream unreachable\n");
    }
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.on("connect", (request: IncomingMessage, client: Socket, head: Buffer) => {
    const refusal = verdict(request);
    if (refusal) {
      proxy.refused++;
      client.end(`HTTP/1.1 ${refusal}\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    const [host = "", port = "443"] = (request.url ?? "").split(/:(?=\d+$)/);
    const upstream = connect(Number(port), host.replace(/^\[|\]$/g, ""), () => {
      count(proxy.tunnels, request.url ?? "");
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on("close", () => sockets.delete(upstream));
    upstream.on("error", () => client.end("HTTP/1.1 502 Bad Gateway\r\n\r\n"));
    client.on("error", () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  const proxy: TestProxy = {
    url: `http://127.0.0.1:${port}`,
    port,
    tunnels: new Map(),
    forwarded: new Map(),
    refused: 0,
    authorizations: [],
    total: () =>
      [...proxy.tunnels.values(), ...proxy.forwarded.values()].reduce((a, b) => a + b, 0),
    refuse(on) {
      refusing = on;
      if (on) for (const socket of sockets) socket.destroy();
    },
    reset() {
      proxy.tunnels.clear();
      proxy.forwarded.clear();
      proxy.refused = 0;
      proxy.authorizations.length = 0;
    },
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  afterAll(() => proxy.stop());
  return proxy;
}
