/**
 * The real service in this process — HTTPS server, scanner and scan routes, as `main.ts`
 * assembles them — pointed at a test world's GitHub and Gitee emulators (run
 * `patch-tracking-cli` against it with `cli` from ./cli.ts).
 */
import { afterAll } from "bun:test";
import { openDatabase } from "../../src/db/database.ts";
import { createEngine } from "../../src/engine.ts";
import { silentLogger } from "../../src/log.ts";
import { startServer } from "../../src/server.ts";
import { testSettings } from "./settings.ts";
import { tempDir } from "./temp.ts";
import { makeSelfSignedCert } from "./tls.ts";
import { waitFor } from "./wait.ts";
import { packageSpec, trackPackage, type World } from "./world.ts";

export async function startEngineServer(world: World, extra: Record<string, string | number> = {}) {
  const dir = tempDir();
  const cert = makeSelfSignedCert(dir);
  const settings = testSettings(dir, {
    PLAIN_HTTP: "False",
    CERT_FILE: `"${cert.cert}"`,
    KEY_FILE: `"${cert.key}"`,
    GITHUB_API_URL: `"${world.github.url}"`,
    GITEE_API_URL: `"${world.gitee.url}"`,
    ...extra,
  });
  const db = openDatabase(settings.databasePath);
  const engine = createEngine(settings, db, silentLogger);
  const server = startServer(settings, {
    log: silentLogger,
    db,
    routes: engine.routes,
    onTrackingSaved: engine.onTrackingSaved,
    metrics: engine.metrics,
    outages: () => engine.scanner.breakers.openViews(),
  });
  engine.scanner.start();
  afterAll(async () => {
    await engine.stop();
    await server.stop();
    db.close();
  });
  // The boot scan (of nothing yet) settles first, so every scan in a test is the test's own.
  await waitFor(
    () =>
      engine.scanner.state().lastScan !== null || engine.scanner.state().disabledReason !== null,
    15_000,
    "the scanner's first scan",
  );
  return {
    db,
    scanner: engine.scanner,
    cert,
    /** `--server` and `--ca` for the CLI. */
    connection: ["--server", `127.0.0.1:${server.port}`, "--ca", cert.cert],
    /** A downstream repository `src-openeuler/<name>` with a spec, tracked from `scmCommit`. */
    track(
      name: string,
      scmCommit: string | null,
      options: { gitee?: boolean; enabled?: boolean } = {},
    ) {
      if (options.gitee !== false) {
        world.gitee.addRepo(`src-openeuler/${name}`, {
          files: { [`${name}.spec`]: packageSpec(name) },
        });
      }
      trackPackage(db, name, scmCommit, options.enabled ?? true);
    },
  };
}

export type EngineServer = Awaited<ReturnType<typeof startEngineServer>>;
