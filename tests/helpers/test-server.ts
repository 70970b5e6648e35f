import { afterAll } from "bun:test";
import { silentLogger } from "../../src/log.ts";
import { type RunningServer, type ServerOptions, startServer } from "../../src/server.ts";
import type { Settings } from "../../src/settings.ts";
import { basicAuth, testSettings } from "./settings.ts";
import { tempDir } from "./temp.ts";

export type CallInit = RequestInit & { auth?: boolean | string; json?: unknown };

/**
 * fetch of `path` on the server at `baseUrl`; `auth: true` adds the admin's Basic credentials
 * (a string is sent as the authorization header), `json` becomes a JSON body.
 */
export function callServer(baseUrl: string, path: string, init: CallInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (init.auth) headers.set("authorization", init.auth === true ? basicAuth() : init.auth);
  let body = init.body;
  if (init.json !== undefined) {
    headers.set("content-type", "application/json");
    body = JSON.stringify(init.json);
  }
  return fetch(`${baseUrl}${path}`, { ...init, headers, body });
}

export interface TestServer extends RunningServer {
  settings: Settings;
  dir: string;
  /** {@link callServer} on this server. */
  call(path: string, init?: CallInit): Promise<Response>;
}

/** A real server on 127.0.0.1 (plain HTTP, ephemeral port) with a fresh SQLite file. */
export function startTestServer(
  extra: Record<string, string | number> = {},
  options: Partial<ServerOptions> & { settings?: Partial<Settings> } = {},
): TestServer {
  const dir = tempDir();
  const settings = { ...testSettings(dir, extra), ...options.settings };
  const running = startServer(settings, { log: silentLogger, ...options });
  afterAll(() => running.stop());
  return {
    ...running,
    settings,
    dir,
    call: (path, init) => callServer(running.url, path, init),
  };
}
