/**
 * `patch-tracking-cli query` and `delete` against a real server over HTTPS, and how the CLI
 * reports the server's refusals: 401, 429 with Retry-After, and a 4001 answer's `data.error`.
 */
import { beforeEach, describe, expect, test } from "bun:test";
import { insertIssue } from "../src/db/issues.ts";
import { upsertTracking } from "../src/db/trackings.ts";
import { cli, startHttpsServer } from "./helpers/cli.ts";
import { TRACKING_FIELDS } from "./helpers/tracking-fields.ts";

const server = startHttpsServer();
const connection = ["--server", server.hostPort, "--ca", server.cert.cert];
const credentials = ["--user", "admin", "--password", "Test@123"];
const LONG_URL = `https://git.example.org/${"very-long-group/".repeat(8)}project.git`;

function seed() {
  upsertTracking(server.db, {
    version_control: "github",
    scm_repo: "BJMX/testPatch01",
    scm_branch: "test",
    repo: "testPatchTrack/testPatch1",
    branch: "master",
    enabled: true,
  });
  upsertTracking(server.db, {
    version_control: "git",
    scm_repo: LONG_URL,
    scm_branch: "main",
    scm_commit: "0123456789abcdef0123456789abcdef01234567",
    repo: "testPatchTrack/testPatch1",
    branch: "openEuler-22.03-LTS",
    enabled: false,
  });
  upsertTracking(server.db, {
    version_control: "github",
    scm_repo: "other/upstream",
    scm_branch: "main",
    repo: "testPatchTrack/testPatch2",
    branch: "master",
    enabled: true,
  });
}

beforeEach(() => {
  server.db.run("DELETE FROM tracking");
  server.db.run("DELETE FROM issue");
  seed();
});

describe("query", () => {
  test("the user guide's query prints an aligned table numbered from 1, values whole", async () => {
    const result = await cli([
      "query",
      "--server",
      server.hostPort,
      "--table",
      "tracking",
      "--ca",
      server.cert.cert,
    ]);
    expect(result.err).toBe("");
    expect(result.code).toBe(0);
    const lines = result.out.trimEnd().split("\n");
    expect(lines).toHaveLength(4);
    const header = lines[0]!;
    expect(header.trim().split(/\s+/)).toEqual([...TRACKING_FIELDS]);
    expect(lines.slice(1).map((line) => line.split(/\s+/)[0])).toEqual(["1", "2", "3"]);
    expect(lines[2]).toContain(LONG_URL);
    expect(lines[2]).toContain("0123456789abcdef0123456789abcdef01234567");
    expect(lines[1]).toMatch(/\bNone\b.*\bTrue$/);
    expect(lines[2]).toMatch(/\bFalse$/);
    // Aligned: every column starts at the same offset on every line.
    const offsets = [...header.matchAll(/\S+/g)].map((match) => match.index);
    expect(offsets).toHaveLength(7);
    for (const offset of offsets) {
      for (const line of lines.slice(1)) {
        expect(line[offset - 1]).toBe(" ");
        expect(line[offset]).not.toBe(" ");
      }
    }
  });

  test("--repo and --branch filter; --json prints the rows for scripts", async () => {
    const result = await cli([
      "query",
      ...connection,
      "--table",
      "tracking",
      "--repo",
      "testPatchTrack/testPatch1",
      "--branch",
      "master",
      "--json",
    ]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.out)).toEqual([
      {
        version_control: "github",
        scm_repo: "BJMX/testPatch01",
        scm_branch: "test",
        scm_commit: null,
        repo: "testPatchTrack/testPatch1",
        branch: "master",
        enabled: true,
      },
    ]);
  });

  test("--table issue lists the issues the service opened", async () => {
    insertIssue(server.db, {
      issue: "I6D3AV",
      repo: "testPatchTrack/testPatch1",
      branch: "master",
    });
    insertIssue(server.db, {
      issue: "I7XYZ1",
      repo: "testPatchTrack/testPatch2",
      branch: "master",
    });
    const result = await cli(["query", ...connection, "--table", "issue"]);
    expect(result.code).toBe(0);
    expect(result.out).toBe(
      [
        "   issue   repo                       branch",
        "1  I6D3AV  testPatchTrack/testPatch1  master",
        "2  I7XYZ1  testPatchTrack/testPatch2  master",
        "",
      ].join("\n"),
    );
  });

  test("no rows is said clearly, and --json prints []", async () => {
    let result = await cli(["query", ...connection, "--table", "issue"]);
    expect(result.code).toBe(0);
    expect(result.out).toBe("no rows: table issue is empty\n");
    result = await cli(["query", ...connection, "--table", "tracking", "--repo", "x/y"]);
    expect(result.out).toBe("no rows: table tracking has nothing for repo x/y\n");
    result = await cli(["query", ...connection, "--table", "issue", "--json"]);
    expect(JSON.parse(result.out)).toEqual([]);
  });

  test("missing --server and --table are named together; a bad --table lists the choices", async () => {
    let result = await cli(["query"]);
    expect(result.code).toBe(1);
    expect(result.err).toContain("the following options are required: --server, --table");
    result = await cli(["query", ...connection, "--table", "trackings"]);
    expect(result.code).toBe(1);
    expect(result.err).toContain(
      '--table: invalid value "trackings" (choose from tracking, issue)',
    );
  });
});

describe("delete", () => {
  test("the user guide's delete removes one branch's tracking and says which", async () => {
    const result = await cli([
      "delete",
      "--server",
      server.hostPort,
      "--user",
      "admin",
      "--password",
      "Test@123",
      "--repo",
      "testPatchTrack/testPatch1",
      "--branch",
      "master",
      "--ca",
      server.cert.cert,
    ]);
    expect(result.err).toBe("");
    expect(result.code).toBe(0);
    expect(result.out).toBe("deleted 1 tracking:\n  testPatchTrack/testPatch1 master\n");
    expect(server.trackings().map((t: any) => `${t.repo} ${t.branch}`)).toEqual([
      "testPatchTrack/testPatch1 openEuler-22.03-LTS",
      "testPatchTrack/testPatch2 master",
    ]);
  });

  test("without --branch every branch of the repository goes", async () => {
    const result = await cli([
      "delete",
      ...connection,
      ...credentials,
      "--repo",
      "testPatchTrack/testPatch1",
    ]);
    expect(result.code).toBe(0);
    expect(result.out).toContain("deleted 2 trackings:");
    expect(server.trackings()).toHaveLength(1);
  });

  test("deleting nothing is an error naming what was not found", async () => {
    const result = await cli([
      "delete",
      ...connection,
      ...credentials,
      "--repo",
      "testPatchTrack/gone",
    ]);
    expect(result.code).toBe(1);
    expect(result.err).toContain(
      "nothing deleted: there is no tracking for repo testPatchTrack/gone",
    );
    expect(server.trackings()).toHaveLength(3);
  });

  test("missing --user, --password and --repo are named at once", async () => {
    const result = await cli(["delete", ...connection]);
    expect(result.code).toBe(1);
    expect(result.err).toContain("  --user\n  --password (or PATCH_TRACKING_PASSWORD");
    expect(result.err).toContain("  --repo\n");
    expect(server.trackings()).toHaveLength(3);
  });

  test("a 4001 answer shows the server's data.error", async () => {
    const result = await cli(["delete", ...connection, ...credentials, "--repo", "x".repeat(1100)]);
    expect(result.code).toBe(1);
    expect(result.err).toContain(
      "delete failed: repo is required, given once (4001 Please enter the correct parameters)",
    );
    expect(server.trackings()).toHaveLength(3);
  });
});

describe("credentials refused by the server", () => {
  // Its own server: the failures below make it throttle this client.
  const guarded = startHttpsServer();
  const args = (password: string) => [
    "delete",
    "--server",
    guarded.hostPort,
    "--ca",
    guarded.cert.cert,
    "--user",
    "admin",
    "--password",
    password,
    "--repo",
    "testPatchTrack/testPatch1",
  ];

  test("a wrong password is a 401 naming the user; after ten, 429 with the wait", async () => {
    upsertTracking(guarded.db, {
      version_control: "github",
      scm_repo: "BJMX/testPatch01",
      scm_branch: "test",
      repo: "testPatchTrack/testPatch1",
      branch: "master",
      enabled: true,
    });
    const wrong = await cli(args("Wrong@123"));
    expect(wrong.code).toBe(1);
    expect(wrong.err).toContain(
      `https://${guarded.hostPort} refused the credentials of user "admin" (HTTP 401): check --user and the password`,
    );
    for (let i = 0; i < 9; i++) expect((await cli(args("Wrong@123"))).code).toBe(1);
    const throttled = await cli(args("Test@123"));
    expect(throttled.code).toBe(1);
    expect(throttled.err).toMatch(
      /refusing logins from this address after too many failures \(HTTP 429\): try again in \d+ seconds/,
    );
    expect(guarded.trackings()).toHaveLength(1);
  });
});
