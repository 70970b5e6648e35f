/**
 * Upgrades as an operator runs them, with every scriptlet running (scratch roots with a static
 * busybox, tests/helpers/scratch-root.ts):
 *   - from the previous, Python release (a stand-in with its file list, 1.0.4 noarch): `rpm -U`
 *     keeps the database and settings.conf byte for byte, hands them and the TLS key to the
 *     service account, replaces the running uWSGI; the new service, run as that account inside
 *     the root, serves the old rows; `rpm -V` says nothing about ownership; `rpm -e` keeps the
 *     database;
 *   - from an earlier 2.x build of this project (the 2.0.0-1 spec, tests/fixtures): the same.
 * Needs root (as CI has), rpm, and Debian's busybox-static (npm test installs it).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { existsSync, linkSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { VERSION } from "../src/version.ts";
import { addExampleTracking, pinned, setSettingsKeys } from "./helpers/installed-settings.ts";
import { freePort } from "./helpers/net.ts";
import { makeOriginalDatabase, ORIGINAL_TRACKINGS } from "./helpers/original-database.ts";
import { buildPreviousPackage, PREVIOUS_FILES } from "./helpers/previous-package.ts";
import { buildTestRpm } from "./helpers/rpm-build.ts";
import {
  makeScratchRoot,
  missingScratchRootTools,
  type ScratchRoot,
} from "./helpers/scratch-root.ts";
import { PROJECT_ROOT, runCommand, type ServerProcess } from "./helpers/server-process.ts";
import { TEST_GITEE_TOKEN, TEST_GITHUB_TOKEN, TEST_PASSWORD_HASH } from "./helpers/settings.ts";
import { bigTempDirs } from "./helpers/temp.ts";
import { makeSelfSignedCert } from "./helpers/tls.ts";

const isRoot = process.getuid?.() === 0;
const SERVICE = "patch-tracking";
const SETTINGS = "/etc/patch-tracking/settings.conf";
const DATABASE = "/var/patch-tracking/db.sqlite";
const KEY = "/etc/patch-tracking/self-signed.key";

// Folders of a few hundred MB (binary, packages, scratch roots), freed when this file ends.
const big = bigTempDirs();
afterAll(big.remove);
const bigTempDir = big.dir;

const sha256 = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");
const machineArch = Bun.spawnSync(["uname", "-m"]).stdout.toString().trim();
const packages = { current: "", earlier: "", previous: "", safeguardOnly: "" };

beforeAll(async () => {
  if (!isRoot) return;
  const missing = missingScratchRootTools();
  if (missing.length > 0)
    throw new Error(
      `packaging-upgrade.test: missing ${missing.join(", ")} (npm test installs busybox-static through scripts/ensure-deps.mjs)`,
    );
  const out = bigTempDir("pt-upgrade-rpms-");
  await buildTestRpm(out);
  packages.current = join(out, `patch-tracking-${VERSION}-1.${machineArch}.rpm`);
  // The earlier 2.x build: the 2.0.0-1 spec around the same binary, as release 0 so that the
  // current package (release 1) upgrades it.
  await buildTestRpm(
    out,
    "--no-build",
    "--release",
    "0",
    "--spec",
    join(PROJECT_ROOT, "tests", "fixtures", "patch-tracking-2.0.0-1.spec"),
  );
  packages.earlier = join(out, `patch-tracking-${VERSION}-0.${machineArch}.rpm`);
  packages.previous = await buildPreviousPackage(out);
  // The current spec without the %ghost line: only the %pre/%posttrans safeguard keeps the
  // database then, which shows that it works on its own.
  const spec = readFileSync(join(PROJECT_ROOT, "packaging", "rpm", "patch-tracking.spec"), "utf8");
  const withoutGhost = spec.replace(/^%ghost .*$/m, "");
  expect(withoutGhost).not.toBe(spec);
  const safeguardOut = bigTempDir("pt-upgrade-safeguard-");
  const safeguardSpec = join(safeguardOut, "patch-tracking.spec");
  writeFileSync(safeguardSpec, withoutGhost);
  linkSync(join(out, "patch-tracking"), join(safeguardOut, "patch-tracking"));
  await buildTestRpm(safeguardOut, "--no-build", "--spec", safeguardSpec);
  packages.safeguardOnly = join(safeguardOut, `patch-tracking-${VERSION}-1.${machineArch}.rpm`);
}, 240_000);

/** settings.conf as a user of the previous release has it: its six keys, edited. */
function previousUserSettings(port: number): string {
  return [
    `LISTEN = "127.0.0.1:${port}"`,
    `GITHUB_ACCESS_TOKEN = "${TEST_GITHUB_TOKEN}"`,
    `GITEE_ACCESS_TOKEN = "${TEST_GITEE_TOKEN}"`,
    "SCAN_DB_INTERVAL = 3600",
    'USER = "admin"',
    `PASSWORD = "${TEST_PASSWORD_HASH}"`,
    // The test's own addition: nothing may reach the real forges (port 9 refuses at once).
    'GITHUB_API_URL = "http://127.0.0.1:9"',
    'GITEE_API_URL = "http://127.0.0.1:9/api/v5"',
    "",
  ].join("\n");
}

/** The installed service, inside the root as its account, from the root's settings.conf. */
function startService(root: ScratchRoot): ServerProcess {
  return root.startAs(SERVICE, ["/usr/bin/patch-tracking", "--config", SETTINGS]);
}

/** GET a path of the running service over HTTPS, pinning the root's certificate. */
async function get(
  url: string,
  root: ScratchRoot,
  path: string,
): Promise<{ code: string; data: unknown }> {
  const pem = readFileSync(root.at("/etc/patch-tracking/self-signed.crt"), "utf8");
  const answer = await fetch(`${url}${path}`, { tls: pinned(pem) });
  expect(answer.status).toBe(200);
  return (await answer.json()) as { code: string; data: unknown };
}

/** `rpm -V` of the installed package: its complaints, one per line. */
async function verify(root: ScratchRoot): Promise<string[]> {
  // --nodeps: the scratch root has no git or glibc package to satisfy Requires.
  const result = await runCommand(["rpm", "--root", root.dir, "-V", "--nodeps", SERVICE]);
  return result.stdout.split("\n").filter(Boolean);
}

/** Mode, owner and group of a file in the root, with names from the root's accounts. */
function ownership(root: ScratchRoot, path: string): string {
  const stat = statSync(root.at(path));
  const account = root.account(SERVICE);
  const name = (id: number) =>
    id === 0 ? "root" : id === account?.uid || id === account?.gid ? SERVICE : String(id);
  return `${(stat.mode & 0o7777).toString(8).padStart(4, "0")} ${name(stat.uid)}:${name(stat.gid)}`;
}

// What `rpm -V` may say about the admin's edited settings.conf: its size, digest and time differ
// from the packaged file, as for any edited configuration file. Nothing about mode or owners.
const EDITED_SETTINGS = new RegExp(
  `^S\\.5\\.\\.\\.\\.T\\.\\s+c ${SETTINGS.replaceAll(".", "\\.")}$`,
);

describe.skipIf(!isRoot)("rpm -U from the previous release (1.0.4, Python)", () => {
  let root: ScratchRoot;
  let port = 0;
  const before = { database: "", settings: "" };

  beforeAll(async () => {
    root = makeScratchRoot(bigTempDir("pt-root-previous-"));
    port = await freePort();
  });

  test("the previous package installs, and its user writes a database, settings and a key", async () => {
    await root.rpm("-i", packages.previous);
    for (const path of PREVIOUS_FILES) expect(existsSync(root.at(path))).toBe(true);
    makeOriginalDatabase(root.at(DATABASE));
    writeFileSync(root.at(SETTINGS), previousUserSettings(port));
    makeSelfSignedCert(root.at("/etc/patch-tracking"));
    // The previous service ran as root: everything is root's, settings.conf readable by all.
    expect(ownership(root, SETTINGS)).toBe("0644 root:root");
    expect(ownership(root, DATABASE)).toBe("0644 root:root");
    expect(ownership(root, KEY)).toBe("0600 root:root");
    before.database = sha256(root.at(DATABASE));
    before.settings = sha256(root.at(SETTINGS));
    // uWSGI is serving when the operator upgrades.
    root.setServiceActive(true);
    root.systemctlCalls({ clear: true });
  });

  test("rpm -U keeps db.sqlite and settings.conf byte for byte", async () => {
    const upgrade = await root.rpm("-U", packages.current);
    // What the operator sees: rpm keeps their settings.conf and writes the new one beside it.
    expect(upgrade.stderr).toContain(`${SETTINGS} created as ${SETTINGS}.rpmnew`);
    expect((await runCommand(["rpm", "--root", root.dir, "-q", SERVICE])).stdout).toBe(
      `patch-tracking-${VERSION}-1.${machineArch}\n`,
    );
    expect(sha256(root.at(DATABASE))).toBe(before.database);
    expect(sha256(root.at(SETTINGS))).toBe(before.settings);
    expect(existsSync(root.at(`${SETTINGS}.rpmnew`))).toBe(true);
    // The upgrade's safeguard (a second name for the database) is gone again.
    expect(existsSync(root.at("/var/patch-tracking/.db.sqlite.upgrade"))).toBe(false);
    expect(existsSync(root.at("/var/lib/rpm-state/patch-tracking"))).toBe(false);
    // The previous release's own files are gone: Python modules, logging.conf, its scripts.
    expect(existsSync(root.at("/etc/patch-tracking/logging.conf"))).toBe(false);
    expect(existsSync(root.at("/usr/lib/python3.7/site-packages/patch_tracking"))).toBe(false);
    expect(readFileSync(root.at("/usr/bin/patch-tracking")).subarray(0, 4).toString("latin1")).toBe(
      "\x7fELF",
    );
  });

  test("the service account owns the state folder and the database; settings and key are its group's", () => {
    expect(root.account(SERVICE)).toBeDefined();
    expect(ownership(root, "/var/patch-tracking")).toBe(`0750 ${SERVICE}:${SERVICE}`);
    expect(ownership(root, DATABASE)).toBe(`0600 ${SERVICE}:${SERVICE}`);
    expect(ownership(root, SETTINGS)).toBe(`0640 root:${SERVICE}`);
    expect(ownership(root, "/etc/patch-tracking")).toBe(`0750 root:${SERVICE}`);
    expect(ownership(root, KEY)).toBe(`0640 root:${SERVICE}`);
    expect(ownership(root, "/etc/patch-tracking/self-signed.crt")).toBe(`0644 root:${SERVICE}`);
  });

  test("uWSGI is stopped, the unit reloaded and the service restarted", () => {
    const calls = root.systemctlCalls({ clear: true });
    expect(calls.slice(calls.indexOf("daemon-reload"))).toEqual([
      "daemon-reload",
      "is-active --quiet patch-tracking.service",
      "kill --signal=SIGQUIT patch-tracking.service",
      "restart patch-tracking.service",
    ]);
  });

  test("rpm -V says nothing but that settings.conf was edited", async () => {
    const complaints = await verify(root);
    expect(complaints).toHaveLength(1);
    expect(complaints[0]).toMatch(EDITED_SETTINGS);
  });

  test("the new service, as its account, migrates the database and serves the old rows", async () => {
    const service = startService(root);
    const url = await service.ready;
    expect(url).toBe(`https://127.0.0.1:${port}`);
    expect((await get(url, root, "/tracking")).data).toEqual(ORIGINAL_TRACKINGS);
    expect((await get(url, root, "/issue")).data).toEqual([
      { issue: "I1X2Y3", repo: "testPatchTrack/testPatch1", branch: "master" },
    ]);
    service.proc.kill("SIGKILL");
    await service.proc.exited;
    expect(ownership(root, DATABASE)).toBe(`0600 ${SERVICE}:${SERVICE}`);
  }, 30_000);

  test("rpm -e keeps the database; the edited settings stay as .rpmsave", async () => {
    const database = sha256(root.at(DATABASE));
    await root.rpm("-e", SERVICE);
    expect((await runCommand(["rpm", "--root", root.dir, "-q", SERVICE])).code).not.toBe(0);
    expect(root.systemctlCalls()).toContain("--no-reload disable --now patch-tracking.service");
    expect(sha256(root.at(DATABASE))).toBe(database);
    expect(sha256(root.at(`${SETTINGS}.rpmsave`))).toBe(before.settings);
    expect(existsSync(root.at("/usr/bin/patch-tracking"))).toBe(false);
  });
});

describe.skipIf(!isRoot)("rpm -U from the previous release while it is stopped", () => {
  test("nothing is started; the files still change hands", async () => {
    const root = makeScratchRoot(bigTempDir("pt-root-stopped-"));
    await root.rpm("-i", packages.previous);
    makeOriginalDatabase(root.at(DATABASE));
    writeFileSync(root.at(SETTINGS), previousUserSettings(5001));
    const database = sha256(root.at(DATABASE));
    await root.rpm("-U", packages.current);
    expect(sha256(root.at(DATABASE))).toBe(database);
    expect(ownership(root, DATABASE)).toBe(`0600 ${SERVICE}:${SERVICE}`);
    expect(ownership(root, SETTINGS)).toBe(`0640 root:${SERVICE}`);
    const calls = root.systemctlCalls();
    expect(calls.slice(calls.indexOf("daemon-reload"))).toEqual([
      "daemon-reload",
      "is-active --quiet patch-tracking.service",
    ]);
  }, 60_000);
});

describe.skipIf(!isRoot)("the upgrade's safeguard on its own", () => {
  test("without the %ghost line, %pre's second name brings the database back", async () => {
    const root = makeScratchRoot(bigTempDir("pt-root-safeguard-"));
    await root.rpm("-i", packages.previous);
    makeOriginalDatabase(root.at(DATABASE));
    const database = sha256(root.at(DATABASE));
    await root.rpm("-U", packages.safeguardOnly);
    expect(sha256(root.at(DATABASE))).toBe(database);
    expect(existsSync(root.at("/var/patch-tracking/.db.sqlite.upgrade"))).toBe(false);
  }, 60_000);
});

describe.skipIf(!isRoot)("rpm -U from an earlier 2.x build (2.0.0-1's packaging)", () => {
  let root: ScratchRoot;
  let url = "";
  const before = { database: "", settings: "" };

  test("the earlier build installs; its service, as its account, stores a tracking", async () => {
    root = makeScratchRoot(bigTempDir("pt-root-earlier-"));
    await root.rpm("-i", packages.earlier);
    expect(root.systemctlCalls()).toContain("--no-reload preset patch-tracking.service");
    const certs = makeSelfSignedCert(root.at("/etc/patch-tracking"));
    const { gid } = root.account(SERVICE) ?? { gid: -1 };
    for (const file of [certs.cert, certs.key]) Bun.spawnSync(["chgrp", String(gid), file]);
    Bun.spawnSync(["chmod", "0640", certs.key]);
    const port = await freePort();
    const text = readFileSync(root.at(SETTINGS), "utf8");
    const values: Record<string, string> = {
      LISTEN: `127.0.0.1:${port}`,
      GITHUB_ACCESS_TOKEN: TEST_GITHUB_TOKEN,
      GITEE_ACCESS_TOKEN: TEST_GITEE_TOKEN,
      PASSWORD: TEST_PASSWORD_HASH,
      GITHUB_API_URL: "http://127.0.0.1:9",
      GITEE_API_URL: "http://127.0.0.1:9/api/v5",
    };
    writeFileSync(root.at(SETTINGS), setSettingsKeys(text, values));

    const service = startService(root);
    url = await service.ready;
    expect(await addExampleTracking(url, readFileSync(certs.cert, "utf8"))).toBe("2001");
    expect(await service.stop()).toBe(0);
    // The service made the database itself, with the unit's umask.
    expect(ownership(root, DATABASE)).toBe(`0600 ${SERVICE}:${SERVICE}`);
    before.database = sha256(root.at(DATABASE));
    before.settings = sha256(root.at(SETTINGS));
  }, 60_000);

  test("rpm -U keeps both byte for byte and restarts the service; rpm -V stays quiet", async () => {
    root.systemctlCalls({ clear: true });
    await root.rpm("-U", packages.current);
    expect(sha256(root.at(DATABASE))).toBe(before.database);
    expect(sha256(root.at(SETTINGS))).toBe(before.settings);
    expect(existsSync(root.at(`${SETTINGS}.rpmnew`))).toBe(false);
    expect(existsSync(root.at("/var/patch-tracking/.db.sqlite.upgrade"))).toBe(false);
    // The earlier package's %postun restarts the service; nothing of the 1.x hand-over runs.
    const calls = root.systemctlCalls();
    expect(calls).toContain("try-restart patch-tracking.service");
    expect(calls).not.toContain("kill --signal=SIGQUIT patch-tracking.service");
    const complaints = await verify(root);
    expect(complaints).toHaveLength(1);
    expect(complaints[0]).toMatch(EDITED_SETTINGS);

    const service = startService(root);
    const served = await get(await service.ready, root, "/tracking");
    expect((served.data as { repo: string }[]).map((row) => row.repo)).toEqual([
      "testPatchTrack/testPatch1",
    ]);
    expect(await service.stop()).toBe(0);
  }, 60_000);

  test("rpm -e keeps the database", async () => {
    const database = sha256(root.at(DATABASE));
    await root.rpm("-e", SERVICE);
    expect(sha256(root.at(DATABASE))).toBe(database);
    expect(existsSync(root.at(`${SETTINGS}.rpmsave`))).toBe(true);
  });
});

if (!isRoot)
  console.warn(
    "packaging-upgrade.test: skipping: rpm --root must run scriptlets and chown files to the service account, which needs root (run the tests as root, as CI does)",
  );
