#!/usr/bin/env bun
/**
 * `patch-tracking`: the service. Reads settings.conf, opens the database, serves the API and runs
 * the scanner until SIGTERM/SIGINT.
 */
import { Command } from "commander";
import { openDatabase } from "./db/database.ts";
import { DEV_USER, ensureDevSettings } from "./dev-setup.ts";
import { createEngine, type Engine } from "./engine.ts";
import { createLogger } from "./log.ts";
import {
  ProxySettingError,
  proxyCredentials,
  resolveProxies,
  shareNoProxyWithRuntime,
} from "./net/proxy.ts";
import { startServer } from "./server.ts";
import {
  loadSettingsFile,
  resolveSettingsPath,
  SETTINGS_PATH_ENV,
  SettingsError,
} from "./settings.ts";
import { VERSION } from "./version.ts";

/** The command line of the service; also the source of its man page (scripts/man-pages.ts). */
export function serverProgram(): Command {
  return new Command("patch-tracking")
    .description("Watch upstream branches and propose their new commits as patches on Gitee.")
    .version(VERSION, "-V, --version")
    .option(
      "-c, --config <file>",
      `settings file (default: $${SETTINGS_PATH_ENV} or /etc/patch-tracking/settings.conf)`,
    )
    .option(
      "--check-config",
      "check settings.conf, certificate, database, git and tokens, print one line per check, exit 1 on a failure (the same checks as patch-tracking-cli doctor)",
    )
    .option(
      "--dev",
      "without --config: use ./.patch-tracking/settings.conf, made on first use (loopback, plain HTTP)",
    )
    .showHelpAfterError();
}

export async function runServer(argv: string[]): Promise<void> {
  const program = serverProgram();
  program.parse(argv, { from: "user" });
  const opts = program.opts<{ config?: string; dev?: boolean; checkConfig?: boolean }>();
  if (opts.checkConfig) {
    const { runDoctor, renderDoctor, hasFailure } = await import("./doctor/checks.ts");
    const lines = await runDoctor({ path: resolveSettingsPath(opts.config) });
    process.stdout.write(renderDoctor(lines));
    process.exit(hasFailure(lines) ? 1 : 0);
  }

  const log = createLogger();
  let settingsPath = resolveSettingsPath(opts.config);
  let devHint: string | undefined;
  if (opts.dev && !opts.config && !process.env[SETTINGS_PATH_ENV]) {
    const dev = await ensureDevSettings();
    settingsPath = dev.settingsPath;
    devHint = dev.created
      ? `log in as ${DEV_USER} with password ${dev.password} (saved in ${dev.passwordFile})`
      : `log in as ${DEV_USER} with the password in ${dev.passwordFile}`;
  }

  let server: ReturnType<typeof startServer>;
  let engine: Engine;
  try {
    const { settings, warnings } = await loadSettingsFile(settingsPath);
    log.setLevel(settings.logLevel);
    log.addSecret(settings.githubAccessToken);
    log.addSecret(settings.giteeAccessToken);
    for (const warning of warnings) log.warn("settings warning", { file: settingsPath, warning });
    const db = openDatabase(settings.databasePath);
    const proxies = resolveProxies(settings);
    shareNoProxyWithRuntime(proxies);
    for (const secret of proxyCredentials(proxies)) log.addSecret(secret);
    engine = createEngine(settings, db, log, proxies);
    server = startServer(settings, {
      log,
      db,
      routes: engine.routes,
      onTrackingSaved: engine.onTrackingSaved,
      metrics: engine.metrics,
      outages: () => engine.scanner.breakers.openViews(),
    });
    engine.scanner.start();
    log.info("listening", { url: server.url, settings: settingsPath, version: VERSION });
    // One write, so whoever watches for the listening line also has the log-in hint.
    const banner = `patch-tracking ${VERSION} listening on ${server.url}`;
    console.error(devHint ? `${banner}\n${devHint}` : banner);
  } catch (error) {
    if (error instanceof SettingsError || error instanceof ProxySettingError) {
      console.error(`patch-tracking: ${error.message}`);
      process.exit(1);
    }
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE" || code === "EACCES") {
      console.error(`patch-tracking: LISTEN: cannot listen (${code}): ${(error as Error).message}`);
      process.exit(1);
    }
    throw error;
  }

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("stopping", { signal });
    await server.stop();
    await engine.stop();
    server.db.close();
    log.info("stopped");
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

// No top-level await: the compiled binary is built with --bytecode, which rules it out.
if (import.meta.main) void runServer(process.argv.slice(2));
