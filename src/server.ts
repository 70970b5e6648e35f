/**
 * Starting and stopping the HTTP side of the service: database, authenticator, app and the
 * listening socket (HTTPS with the configured certificate, or plain HTTP on loopback).
 */
import type { Database } from "bun:sqlite";
import { readFileSync } from "node:fs";
import { type AppDeps, createApp, MAX_BODY_BYTES } from "./app.ts";
import { openDatabase } from "./db/database.ts";
import { fillSearchIndexInBackground } from "./db/repo-search.ts";
import type { Logger } from "./log.ts";
import { Authenticator } from "./routes/authenticator.ts";
import { isLoopback, type Settings, SettingsError } from "./settings.ts";

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly db: Database;
  stop(): Promise<void>;
}

export interface RouteContext {
  db: Database;
  auth: Authenticator;
  log: Logger;
}

export interface ServerOptions {
  log: Logger;
  /** Already-open database (the scanner shares it); opened from settings when absent. */
  db?: Database;
  /** Route modules beyond the compatible ones (scanner, status), built with the server's auth. */
  routes?: (context: RouteContext) => NonNullable<AppDeps["plugins"]>;
  onTrackingSaved?: AppDeps["onTrackingSaved"];
  metrics?: AppDeps["metrics"];
  outages?: AppDeps["outages"];
}

function readPem(key: "CERT_FILE" | "KEY_FILE", path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new SettingsError(
      key,
      `${path} cannot be read (${code}); create it with: openssl req -x509 -days 3650 -subj "/CN=self-signed" -nodes -newkey rsa:4096 -keyout self-signed.key -out self-signed.crt`,
    );
  }
}

export function loadTls(settings: Settings): { cert: string; key: string } | undefined {
  if (settings.plainHttp) {
    if (!isLoopback(settings.listen.host)) {
      throw new SettingsError("PLAIN_HTTP", "plain HTTP is only allowed on a loopback address");
    }
    return undefined;
  }
  return {
    cert: readPem("CERT_FILE", settings.certFile),
    key: readPem("KEY_FILE", settings.keyFile),
  };
}

export function startServer(settings: Settings, options: ServerOptions): RunningServer {
  const tls = loadTls(settings);
  const db = options.db ?? openDatabase(settings.databasePath);
  const auth = new Authenticator(settings.user, settings.passwordHash);
  const app = createApp({
    db,
    auth,
    log: options.log,
    plugins: options.routes?.({ db, auth, log: options.log }),
    onTrackingSaved: options.onTrackingSaved,
    metrics: options.metrics,
    policy: { gitAllowProtocol: settings.gitAllowProtocol },
    outages: options.outages,
  });
  app.listen({
    hostname: settings.listen.host,
    port: settings.listen.port,
    tls,
    maxRequestBodySize: MAX_BODY_BYTES,
  });
  const server = app.server;
  if (!server) throw new Error("the HTTP server did not start");
  const port = server.port ?? settings.listen.port;
  const url = `${tls ? "https" : "http"}://${settings.listen.host}:${port}`;
  // The previous service's database gets its search index while the service already answers.
  const stopSearchFill = fillSearchIndexInBackground(db, options.log);
  return {
    url,
    port,
    db,
    async stop() {
      stopSearchFill();
      await app.stop();
      if (!options.db) db.close();
    },
  };
}
