/**
 * The real service as a child process (`bun src/main.ts --config …`) wired to a test world's
 * emulators, with a database of its own that survives restarts and kills.
 */
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { openDatabase } from "../../src/db/database.ts";
import { freePort } from "./net.ts";
import { type ServerProcess, startServerProcess } from "./server-process.ts";
import { writeSettings } from "./settings.ts";
import { tempDir } from "./temp.ts";
import { type CallInit, callServer } from "./test-server.ts";
import { trackPackage, type World } from "./world.ts";

export interface ServiceHandle {
  dir: string;
  config: string;
  databasePath: string;
  /** The running process (replaced by `restart`). */
  current: ServerProcess | null;
  url: string;
  start(): Promise<string>;
  /** All output of every process started so far. */
  output(): string;
  call(path: string, init?: CallInit): Promise<Response>;
  /** Adds a tracking straight into the service's database (before or between runs). */
  track(name: string, scmCommit: string | null): void;
  /** Reads the tracking's scm_commit from the database file. */
  scmCommit(name: string): string | null;
}

export async function serviceFor(
  world: World,
  extra: Record<string, string | number> = {},
): Promise<ServiceHandle> {
  const dir = tempDir();
  const port = await freePort();
  const config = writeSettings(dir, {
    LISTEN: `"127.0.0.1:${port}"`,
    PLAIN_HTTP: "True",
    GITHUB_API_URL: `"${world.github.url}"`,
    GITEE_API_URL: `"${world.gitee.url}"`,
    SCAN_DB_INTERVAL: 3600,
    REQUEST_TIMEOUT: 2,
    LOG_LEVEL: '"debug"',
    ...extra,
  });
  const databasePath = join(dir, "db.sqlite");
  const processes: ServerProcess[] = [];
  const handle: ServiceHandle = {
    dir,
    config,
    databasePath,
    current: null,
    url: `http://127.0.0.1:${port}`,
    start() {
      const process = startServerProcess(["--config", config]);
      handle.current = process;
      processes.push(process);
      return process.ready;
    },
    // A process's output() keeps everything it wrote, also after it has ended.
    output: () => processes.map((process) => process.output()).join("\n"),
    call: (path, init) => callServer(handle.url, path, init),
    track(name, scmCommit) {
      const db = openDatabase(databasePath);
      trackPackage(db, name, scmCommit);
      db.close();
    },
    scmCommit(name) {
      const db = new Database(databasePath, { readonly: true });
      try {
        const row = db
          .query<{ scm_commit: string | null }, [string]>(
            "SELECT scm_commit FROM tracking WHERE repo = ? AND branch = 'master'",
          )
          .get(`src-openeuler/${name}`);
        return row?.scm_commit ?? null;
      } finally {
        db.close();
      }
    },
  };
  return handle;
}
