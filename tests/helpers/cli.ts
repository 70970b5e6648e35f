/**
 * Running `patch-tracking-cli` in tests: in-process with captured output (fast), against a real
 * HTTPS server with an openssl certificate, and GitHub/Gitee stand-ins for the pre-add checks.
 */
import { afterAll } from "bun:test";
import type { CliIo } from "../../cli/io.ts";
import { runCli } from "../../cli/program.ts";
import { listTrackings } from "../../src/db/trackings.ts";
import { tempDir } from "./temp.ts";
import { startTestServer, type TestServer } from "./test-server.ts";
import { type CertFiles, makeSelfSignedCert } from "./tls.ts";

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

export interface CliRunOptions {
  env?: Record<string, string | undefined>;
  /** Pretend stdin is a terminal; each prompt answers the next of these. */
  answers?: string[];
  /** stderr is a terminal (progress rewrites its line). */
  errIsTerminal?: boolean;
  /** stdout is a terminal this wide. */
  columns?: number;
}

/** Runs `main` (runCli, runGeneratePassword) in this process, capturing its output. */
export async function runCaptured(
  main: (argv: string[], io: CliIo) => Promise<number>,
  argv: string[],
  options: CliRunOptions = {},
): Promise<CliResult> {
  let out = "";
  let err = "";
  const answers = [...(options.answers ?? [])];
  const io: CliIo = {
    out: (text) => {
      out += text;
    },
    err: (text) => {
      err += text;
    },
    // A forgotten stand-in must not reach the real forges: point the checks at a closed port.
    env: {
      GITHUB_API_URL: "http://127.0.0.1:9",
      GITEE_API_URL: "http://127.0.0.1:9/api/v5",
      ...options.env,
    },
    interactive: options.answers !== undefined,
    askSecret: async (prompt) => {
      err += prompt;
      const answer = answers.shift();
      if (answer === undefined) throw new Error(`unexpected prompt: ${prompt}`);
      return answer;
    },
    errIsTerminal: options.errIsTerminal,
    columns: options.columns,
  };
  const code = await main(argv, io);
  return { code, out, err };
}

/** Runs `patch-tracking-cli` in this process with `argv`, capturing its output. */
export function cli(argv: string[], options: CliRunOptions = {}): Promise<CliResult> {
  return runCaptured(runCli, argv, options);
}

export interface HttpsTestServer extends TestServer {
  cert: CertFiles;
  /** `127.0.0.1:PORT`, as `--server` takes it. */
  hostPort: string;
  /** The stored trackings, to assert that a failed command changed nothing. */
  trackings(): unknown[];
}

/** A real server over HTTPS with a fresh openssl self-signed certificate (no SAN). */
export function startHttpsServer(bits = 2048, extra: Record<string, string | number> = {}) {
  const cert = makeSelfSignedCert(tempDir("pt-cert-"), bits);
  const server = startTestServer({
    PLAIN_HTTP: "False",
    CERT_FILE: `"${cert.cert}"`,
    KEY_FILE: `"${cert.key}"`,
    ...extra,
  });
  return {
    ...server,
    cert,
    hostPort: `127.0.0.1:${server.port}`,
    trackings: () => listTrackings(server.db),
  } satisfies HttpsTestServer;
}

export interface ForgeStandIn {
  url: string;
  /** `owner/name` → branch names. */
  repos: Map<string, string[]>;
  /** Every request: method, path and Authorization header. */
  requests: { path: string; authorization: string | null }[];
}

/**
 * Minimal GitHub and Gitee stand-ins answering only what the pre-add checks ask:
 * `GET {prefix}/repos/{o}/{r}` and `GET {prefix}/repos/{o}/{r}/branches/{b}`, 200 or 404.
 */
export function startForgeStandIn(prefix = ""): ForgeStandIn {
  const repos = new Map<string, string[]>();
  const requests: ForgeStandIn["requests"] = [];
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch(request) {
      const url = new URL(request.url);
      requests.push({ path: url.pathname, authorization: request.headers.get("authorization") });
      const path = url.pathname.slice(prefix.length);
      const match = /^\/repos\/([^/]+\/[^/]+)(?:\/branches\/(.+))?$/.exec(path);
      const branches = match?.[1] ? repos.get(match[1]) : undefined;
      if (!match || !branches) return Response.json({ message: "Not Found" }, { status: 404 });
      if (match[2] === undefined) return Response.json({ full_name: match[1] });
      const branch = decodeURIComponent(match[2]);
      if (!branches.includes(branch)) {
        return Response.json({ message: "Branch not found" }, { status: 404 });
      }
      return Response.json({ name: branch, commit: { sha: "0".repeat(40) } });
    },
  });
  afterAll(() => server.stop(true));
  return { url: `http://127.0.0.1:${server.port}${prefix}`, repos, requests };
}

/** GitHub and Gitee stand-ins holding the user guide's example repositories. */
export function startForges() {
  const github = startForgeStandIn();
  const gitee = startForgeStandIn("/api/v5");
  github.repos.set("BJMX/testPatch01", ["test", "master"]);
  gitee.repos.set("testPatchTrack/testPatch1", ["master", "openEuler-20.03-LTS"]);
  gitee.repos.set("testPatchTrack/testPatch2", ["master"]);
  const env = { GITHUB_API_URL: github.url, GITEE_API_URL: gitee.url };
  return { github, gitee, env };
}

/** The tracking flags of the user guide's flag-style `add` example. */
export const GUIDE_TRACKING_FLAGS: readonly string[] = [
  "--version_control",
  "github",
  "--repo",
  "testPatchTrack/testPatch1",
  "--branch",
  "master",
  "--scm_repo",
  "BJMX/testPatch01",
  "--scm_branch",
  "test",
  "--enabled",
  "true",
];

/** The user guide's flag-style add command line, for `server`. */
export function guideAddArgs(hostPort: string, ca: string): string[] {
  return [
    "add",
    "--server",
    hostPort,
    "--user",
    "admin",
    "--password",
    "Test@123",
    ...GUIDE_TRACKING_FLAGS,
    "--ca",
    ca,
  ];
}
