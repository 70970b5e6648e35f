/**
 * A real TCP relay in front of an emulator that can take the forge "down" the ways networks do:
 * `refuse` closes its listening socket (connection refused, as if the server stopped), and
 * `blackhole` accepts connections and never answers (a dead route or a hung server); `up`
 * relays to the emulator again on the same port. It counts the connections it accepted.
 */
import { connect, createServer, type Server, type Socket } from "node:net";

export type OutageMode = "up" | "refuse" | "blackhole";

export interface OutageSwitch {
  /** `http://127.0.0.1:<port>` plus the path of the target URL. */
  url: string;
  port: number;
  mode: OutageMode;
  /** Connections accepted since the last `resetCount` (none can be counted while refusing). */
  connections: number;
  resetCount(): void;
  set(mode: OutageMode): Promise<void>;
  stop(): Promise<void>;
}

export async function startOutageSwitch(target: string): Promise<OutageSwitch> {
  const to = new URL(target);
  const sockets = new Set<Socket>();
  let server: Server | null = null;
  let port = 0;
  const state = { mode: "up" as OutageMode, connections: 0 };

  function onConnection(client: Socket): void {
    state.connections++;
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    client.on("error", () => client.destroy());
    if (state.mode === "blackhole") return; // accepted, never answered
    const upstream = connect(Number(to.port), to.hostname);
    sockets.add(upstream);
    upstream.on("close", () => {
      sockets.delete(upstream);
      client.destroy();
    });
    upstream.on("error", () => client.destroy());
    client.on("close", () => upstream.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  }

  async function listen(): Promise<void> {
    const next = createServer(onConnection);
    await new Promise<void>((resolve, reject) => {
      next.once("error", reject);
      next.listen(port, "127.0.0.1", () => resolve());
    });
    const address = next.address();
    port = typeof address === "object" && address ? address.port : port;
    server = next;
  }

  async function close(): Promise<void> {
    const current = server;
    server = null;
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    if (current) await new Promise<void>((resolve) => current.close(() => resolve()));
  }

  await listen();
  const path = to.pathname.replace(/\/+$/, "");
  return {
    url: `http://127.0.0.1:${port}${path}`,
    port,
    get mode() {
      return state.mode;
    },
    get connections() {
      return state.connections;
    },
    resetCount() {
      state.connections = 0;
    },
    async set(mode) {
      // Connections of the previous mode end, as they would when a route or server dies.
      await close();
      state.mode = mode;
      if (mode !== "refuse") await listen();
    },
    stop: close,
  };
}
