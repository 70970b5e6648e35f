/**
 * The RPM as an administrator gets it. `npm run rpm`'s script builds the binary, the RPM and the
 * SRPM once (into a temporary folder, not dist/), then the tests check:
 *   - rpmlint: no errors and no warnings beyond packaging/rpm/patch-tracking.rpmlintrc, whose
 *     every filter says why;
 *   - the package: architecture, file list with modes, owners and config flags, Requires,
 *     scriptlets, changelog; the systemd files in it are the repository's;
 *   - the unit: `systemd-analyze verify` passes, `systemd-analyze security` rates it OK or better;
 *   - a scratch root (`rpm --root`, as root): the installed binaries run, the server starts from
 *     the installed settings.conf edited as the README says, with an openssl certificate; an
 *     upgrade keeps settings.conf and the database; the uninstall removes the package.
 * The tools come from Debian's rpm, rpmlint, systemd and openssl packages, which `npm test`
 * installs (scripts/ensure-deps.mjs); a missing one fails the tests with its name.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import {
  cpSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { spawnSync } from "bun";
import { verifyPassword } from "../src/password/verify.ts";
import { VERSION } from "../src/version.ts";
import { addExampleTracking, pinned, setSettingsKeys } from "./helpers/installed-settings.ts";
import { freePort } from "./helpers/net.ts";
import { buildTestRpm } from "./helpers/rpm-build.ts";
import {
  PROJECT_ROOT,
  runCommand,
  type ServerProcess,
  startServerProcess,
} from "./helpers/server-process.ts";
import { TEST_GITEE_TOKEN, TEST_GITHUB_TOKEN } from "./helpers/settings.ts";
import { bigTempDirs } from "./helpers/temp.ts";
import { makeSelfSignedCert } from "./helpers/tls.ts";

const TOOLS: Record<string, string> = {
  rpm: "rpm",
  rpmbuild: "rpm",
  rpmlint: "rpmlint",
  "systemd-analyze": "systemd",
  "systemd-sysusers": "systemd",
  "systemd-tmpfiles": "systemd",
  openssl: "openssl",
  man: "man-db",
};
const SERVICE_USER = "patch-tracking";
const MAN_PAGES = [
  "/usr/share/man/man8/patch-tracking.8.bz2",
  "/usr/share/man/man1/patch-tracking-cli.1.bz2",
  "/usr/share/man/man1/generate_password.1.bz2",
];
const COMPLETION = "/usr/share/bash-completion/completions/patch-tracking-cli";
const SYSTEMD_FILES = {
  "/usr/lib/systemd/system/patch-tracking.service": "packaging/systemd/patch-tracking.service",
  "/usr/lib/sysusers.d/patch-tracking.conf": "packaging/systemd/patch-tracking.sysusers",
  "/usr/lib/tmpfiles.d/patch-tracking.conf": "packaging/systemd/patch-tracking.tmpfiles",
};
// Folders of a few hundred MB (binary, packages, scratch roots), freed when this file ends.
const big = bigTempDirs();
afterAll(big.remove);
const bigTempDir = big.dir;
const out = bigTempDir("pt-rpm-test-");
const machineArch = spawnSync(["uname", "-m"]).stdout.toString().trim();
const rpmFile = (release = 1) =>
  join(out, `patch-tracking-${VERSION}-${release}.${machineArch}.rpm`);
const srpmFile = join(out, `patch-tracking-${VERSION}-1.src.rpm`);
const isRoot = process.getuid?.() === 0;

/** Runs a command; throws with its output unless it exits with 0. */
async function must(
  command: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
) {
  const result = await runCommand(command, options);
  if (result.code !== 0)
    throw new Error(
      `${command.join(" ")} exited with ${result.code}:\n${result.stdout}${result.stderr}`,
    );
  return result.stdout;
}

/** `rpm -qp --qf FORMAT` on the built package. */
const query = (format: string, file = rpmFile()) =>
  must(["rpm", "-qp", "--nosignature", "--qf", format, file]);

beforeAll(async () => {
  const missing = Object.keys(TOOLS).filter((tool) => Bun.which(tool) === null);
  if (missing.length > 0) {
    const packages = [...new Set(missing.map((tool) => TOOLS[tool]))].join(" ");
    throw new Error(
      `packaging.test: missing ${missing.join(", ")}; install the Debian packages ${packages} ` +
        "(npm test does it through scripts/ensure-deps.mjs)",
    );
  }
  const started = performance.now();
  const built = await runCommand([
    process.execPath,
    join(PROJECT_ROOT, "scripts", "rpm.ts"),
    "--outdir",
    out,
  ]);
  if (built.code !== 0) throw new Error(`npm run rpm failed:\n${built.stdout}${built.stderr}`);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const megabytes = (statSync(rpmFile()).size / 1e6).toFixed(1);
  console.log(`packaging.test: binary, RPM and SRPM built in ${seconds} s; RPM ${megabytes} MB`);
}, 180_000);

describe("the built packages", () => {
  test("an RPM for this machine's architecture (not noarch) and an SRPM that stands alone", async () => {
    expect(machineArch).not.toBe("");
    expect(await query("%{NAME} %{VERSION} %{RELEASE} %{ARCH}")).toBe(
      `patch-tracking ${VERSION} 1 ${machineArch}`,
    );
    // The SRPM's spec has the version and release written out, so `rpmbuild --rebuild` works.
    expect(await query("%{NAME} %{VERSION} %{RELEASE}", srpmFile)).toBe(
      `patch-tracking ${VERSION} 1`,
    );
    expect((await must(["rpm", "-qlp", "--nosignature", srpmFile])).split("\n").sort()).toEqual(
      ["", `patch-tracking-${VERSION}.tar`, "patch-tracking.spec"].sort(),
    );
  });

  test("rpmlint: 0 errors and 0 warnings besides the explained filters", async () => {
    const result = await runCommand([
      "rpmlint",
      "-r",
      join(PROJECT_ROOT, "packaging", "rpm", "patch-tracking.rpmlintrc"),
      rpmFile(),
      srpmFile,
    ]);
    const summary =
      /(\d+) packages? and (\d+) specfiles? checked; (\d+) errors?, (\d+) warnings?/.exec(
        result.stdout,
      );
    if (!summary) throw new Error(`no rpmlint summary in:\n${result.stdout}${result.stderr}`);
    console.log(`packaging.test: rpmlint: ${summary[0]}`);
    const found = result.stdout.split("\n").filter((line) => /: [EW]: /.test(line));
    expect(found).toEqual([]);
    expect({ errors: Number(summary[3]), warnings: Number(summary[4]) }).toEqual({
      errors: 0,
      warnings: 0,
    });
    expect(result.code).toBe(0);
  }, 30_000);

  test("files: modes, owners and flags", async () => {
    const listing = await query(
      "[%{FILEMODES:perms} %{FILEUSERNAME} %{FILEGROUPNAME} %{FILEFLAGS:fflags} %{FILENAMES} %{FILELINKTOS}\n]",
    );
    const files = new Map(
      listing
        .trimEnd()
        .split("\n")
        .map((line) => {
          const [perms, user, group, flags, path, target] = line.split(" ");
          return [path, { perms, owner: `${user}:${group}`, flags, target }] as const;
        }),
    );
    const file = (path: string) => files.get(path) ?? { missing: path };
    expect(file("/usr/bin/patch-tracking")).toEqual({
      perms: "-rwxr-xr-x",
      owner: "root:root",
      flags: "",
      target: "",
    });
    for (const name of ["patch-tracking-cli", "generate_password"])
      expect(file(`/usr/bin/${name}`)).toEqual({
        perms: "lrwxrwxrwx",
        owner: "root:root",
        flags: "",
        target: "patch-tracking",
      });
    // The tokens: root and the service's group only, and the admin's copy survives upgrades.
    expect(file("/etc/patch-tracking/settings.conf")).toEqual({
      perms: "-rw-r-----",
      owner: `root:${SERVICE_USER}`,
      flags: "cn",
      target: "",
    });
    expect(file("/etc/patch-tracking")).toMatchObject({
      perms: "drwxr-x---",
      owner: `root:${SERVICE_USER}`,
    });
    expect(file("/var/patch-tracking")).toMatchObject({
      perms: "drwxr-x---",
      owner: `${SERVICE_USER}:${SERVICE_USER}`,
    });
    for (const path of Object.keys(SYSTEMD_FILES))
      expect(file(path)).toEqual({
        perms: "-rw-r--r--",
        owner: "root:root",
        flags: "",
        target: "",
      });
    expect(file("/usr/share/licenses/patch-tracking/LICENSE")).toMatchObject({ flags: "l" });
    expect(file("/usr/share/doc/patch-tracking/README.md")).toMatchObject({ flags: "d" });
    expect(file("/usr/share/doc/patch-tracking/README.zh-CN.md")).toMatchObject({ flags: "d" });
    // The database's path is the package's without a file in it (ghost), so that upgrades and
    // erasure never remove it (tests/packaging-upgrade.test.ts); it is private to the account.
    expect(file("/var/patch-tracking/db.sqlite")).toMatchObject({
      perms: "-rw-------",
      owner: `${SERVICE_USER}:${SERVICE_USER}`,
      flags: "cng",
    });
    // settings.conf is configuration; so is the database, which rpm then leaves where it is.
    expect(await must(["rpm", "-qcp", "--nosignature", rpmFile()])).toBe(
      "/etc/patch-tracking/settings.conf\n/var/patch-tracking/db.sqlite\n",
    );
    expect([...files.keys()].sort()).toEqual(
      [
        "/etc/patch-tracking",
        "/etc/patch-tracking/settings.conf",
        "/usr/bin/generate_password",
        "/usr/bin/patch-tracking",
        "/usr/bin/patch-tracking-cli",
        ...Object.keys(SYSTEMD_FILES),
        "/usr/share/doc/patch-tracking",
        "/usr/share/doc/patch-tracking/README.md",
        "/usr/share/doc/patch-tracking/README.zh-CN.md",
        "/usr/share/doc/patch-tracking/settings.conf.example",
        "/usr/share/licenses/patch-tracking",
        "/usr/share/licenses/patch-tracking/LICENSE",
        ...MAN_PAGES,
        COMPLETION,
        "/var/patch-tracking",
        "/var/patch-tracking/db.sqlite",
      ].sort(),
    );
  });

  test("the systemd files in the package are the repository's", async () => {
    const digests = await query("%{FILEDIGESTALGO}\n[%{FILENAMES} %{FILEDIGESTS}\n]");
    // Digest algorithm 8 is SHA-256.
    expect(digests).toStartWith("8\n");
    for (const [path, source] of Object.entries(SYSTEMD_FILES)) {
      const sha256 = createHash("sha256")
        .update(readFileSync(join(PROJECT_ROOT, source)))
        .digest("hex");
      expect(digests).toContain(`${path} ${sha256}\n`);
    }
  });

  test("Requires git; scriptlets of %systemd_post, %systemd_preun, %systemd_postun_with_restart", async () => {
    const requires = (await must(["rpm", "-qpR", "--nosignature", rpmFile()])).split("\n");
    expect(requires).toContain("git");
    const scripts = await must(["rpm", "-qp", "--scripts", "--nosignature", rpmFile()]);
    const scriptlet = (name: string) =>
      new RegExp(
        `^${name} scriptlet[^\n]*\n([\\s\\S]*?)(?=^\\w+ scriptlet|(?![\\s\\S]))`,
        "m",
      ).exec(scripts)?.[1] ?? "";
    // systemd's own macros (Fedora, openEuler) or the spec's stand-ins where rpm lacks them.
    expect(scriptlet("preinstall")).toContain("useradd -r -g patch-tracking");
    expect(scriptlet("postinstall")).toMatch(
      /(systemctl --no-reload preset|systemd-update-helper install-system-units) patch-tracking\.service/,
    );
    expect(scriptlet("preuninstall")).toMatch(
      /(systemctl --no-reload disable --now|systemd-update-helper remove-system-units) patch-tracking\.service/,
    );
    expect(scriptlet("postuninstall")).toMatch(
      /(systemctl try-restart|systemd-update-helper mark-restart-system-units) patch-tracking\.service/,
    );
  });

  test("a %changelog entry for this version", async () => {
    const changelog = await must(["rpm", "-qp", "--changelog", "--nosignature", rpmFile()]);
    expect(changelog).toMatch(new RegExp(`^\\* .+ - ${VERSION.replaceAll(".", "\\.")}-1\\n- \\S`));
  });
});

describe("the systemd unit", () => {
  // A root holding the host's units (the targets the unit refers to), the unit and the binary.
  let unitRoot = "";
  const unitPath = join(PROJECT_ROOT, "packaging", "systemd", "patch-tracking.service");

  beforeAll(() => {
    unitRoot = bigTempDir("pt-unit-root-");
    const units = join(unitRoot, "usr", "lib", "systemd", "system");
    cpSync("/usr/lib/systemd/system", units, { recursive: true, verbatimSymlinks: true });
    cpSync(unitPath, join(units, "patch-tracking.service"));
    mkdirSync(join(unitRoot, "usr", "bin"), { recursive: true });
    linkSync(join(out, "patch-tracking"), join(unitRoot, "usr", "bin", "patch-tracking"));
  });

  test("systemd-analyze verify passes", async () => {
    const verify = await runCommand([
      "systemd-analyze",
      "verify",
      "--man=no",
      `--root=${unitRoot}`,
      "patch-tracking.service",
    ]);
    expect(verify.stdout + verify.stderr).toBe("");
    expect(verify.code).toBe(0);
  });

  test("runs as the service user, restarts on failure, keeps state in /var/patch-tracking", () => {
    const unit = readFileSync(unitPath, "utf8");
    for (const line of [
      `User=${SERVICE_USER}`,
      `Group=${SERVICE_USER}`,
      "ExecStart=/usr/bin/patch-tracking --config /etc/patch-tracking/settings.conf",
      "Restart=on-failure",
      "ProtectSystem=strict",
      "ReadWritePaths=/var/patch-tracking",
      "ProtectHome=yes",
      "PrivateTmp=yes",
      "NoNewPrivileges=yes",
      "CapabilityBoundingSet=",
    ])
      expect(unit.split("\n")).toContain(line);
  });

  test("systemd-analyze security rates it OK or better", async () => {
    const security = await runCommand([
      "systemd-analyze",
      "security",
      "--offline=true",
      `--root=${unitRoot}`,
      "patch-tracking.service",
    ]);
    const overall = /Overall exposure level for patch-tracking\.service: (\d+\.\d+) (\w+)/.exec(
      security.stdout,
    );
    if (!overall) throw new Error(`no exposure level in:\n${security.stdout}${security.stderr}`);
    console.log(`packaging.test: systemd-analyze security exposure ${overall[1]} ${overall[2]}`);
    expect(Number(overall[1])).toBeLessThanOrEqual(4.9);
    expect(["PERFECT", "SAFE", "OK"]).toContain(overall[2] ?? "");
    expect(security.code).toBe(0);
  });
});

describe.skipIf(!isRoot)("installed into a scratch root", () => {
  const root = bigTempDir("pt-rpm-root-");
  const at = (path: string) => join(root, path);
  const settingsPath = at("/etc/patch-tracking/settings.conf");
  const databasePath = at("/var/patch-tracking/db.sqlite");
  const rpmRoot = (...args: string[]) =>
    must(["rpm", "--root", root, "--nosignature", "--nodeps", "--noscripts", ...args]);
  // Nothing from the developer's shell may answer for the test.
  const env = {
    PATCH_TRACKING_PASSWORD: "",
    PATCH_TRACKING_CONFIG: "",
    GITHUB_TOKEN: "",
    GITHUB_ACCESS_TOKEN: "",
    GITEE_ACCESS_TOKEN: "",
  };
  let server: ServerProcess | undefined;
  let hostPort = "";
  let pem = "";

  afterAll(async () => {
    if (server && server.proc.exitCode === null) await server.stop();
  });

  /** The installed server, from the root's settings.conf (the unit's path exists only inside it). */
  function startInstalledServer(): ServerProcess {
    server = startServerProcess(["--config", settingsPath], {
      command: [at("/usr/bin/patch-tracking")],
      cwd: at("/var/patch-tracking"),
      env,
    });
    return server;
  }

  test("rpm -i: the sysusers.d account owns the state folder", async () => {
    // rpm >= 4.19 creates sysusers.d accounts before unpacking; --noscripts skips %pre here, so
    // the account comes from systemd-sysusers, from the file the package ships.
    mkdirSync(at("/etc"), { recursive: true });
    await must([
      "systemd-sysusers",
      `--root=${root}`,
      join(PROJECT_ROOT, "packaging", "systemd", "patch-tracking.sysusers"),
    ]);
    await rpmRoot("-i", rpmFile());
    expect(await must(["rpm", "--root", root, "-q", "patch-tracking"])).toBe(
      `patch-tracking-${VERSION}-1.${machineArch}\n`,
    );
    await must(["systemd-tmpfiles", `--root=${root}`, "--create", "patch-tracking.conf"]);
    const passwd = readFileSync(at("/etc/passwd"), "utf8");
    const account = new RegExp(`^${SERVICE_USER}:x:(\\d+):(\\d+):`, "m").exec(passwd);
    if (!account) throw new Error(`no ${SERVICE_USER} in the root's /etc/passwd:\n${passwd}`);
    const [uid, gid] = [Number(account[1]), Number(account[2])];
    const state = statSync(at("/var/patch-tracking"));
    expect({ uid: state.uid, gid: state.gid, mode: state.mode & 0o7777 }).toEqual({
      uid,
      gid,
      mode: 0o750,
    });
    const settings = statSync(settingsPath);
    expect({ uid: settings.uid, gid: settings.gid, mode: settings.mode & 0o7777 }).toEqual({
      uid: 0,
      gid,
      mode: 0o640,
    });
    expect(readlinkSync(at("/usr/bin/patch-tracking-cli"))).toBe("patch-tracking");
    expect(lstatSync(at("/usr/bin/generate_password")).isSymbolicLink()).toBe(true);
    // No database yet (the service makes it), and rpm -V does not miss it.
    expect(existsSync(databasePath)).toBe(false);
    expect(
      await runCommand(["rpm", "--root", root, "-V", "--nodeps", "patch-tracking"]),
    ).toMatchObject({ code: 0, stdout: "" });
  }, 30_000);

  test("the installed binaries run", async () => {
    for (const name of ["patch-tracking", "patch-tracking-cli", "generate_password"])
      expect(await runCommand([at(`/usr/bin/${name}`), "--version"], { env })).toEqual({
        code: 0,
        stdout: `${VERSION}\n`,
        stderr: "",
      });
    const hash = await runCommand([at("/usr/bin/generate_password"), "Test@123"], { env });
    expect(hash.code).toBe(0);
    expect(await verifyPassword("Test@123", hash.stdout.trim())).toBe(true);
    expect(await verifyPassword("Test@124", hash.stdout.trim())).toBe(false);
  }, 30_000);

  test("the man pages render with man -l and say what --help says; bash completes commands and options", async () => {
    const rendered: Record<string, string> = {};
    for (const page of MAN_PAGES) {
      const result = await runCommand(["man", "--warnings", "-l", at(page)], {
        env: { ...env, MANWIDTH: "200", MAN_KEEP_FORMATTING: "", LC_ALL: "C.UTF-8", PAGER: "cat" },
      });
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      // No overstrike (bold) sequences, so words can be compared.
      // biome-ignore lint/suspicious/noControlCharactersInRegex: removing backspaces is the point
      rendered[page] = result.stdout.replace(/.\x08/g, "");
      for (const section of ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "SEE ALSO"])
        expect(rendered[page]).toContain(`\n${section}\n`);
    }
    const cli = rendered["/usr/share/man/man1/patch-tracking-cli.1.bz2"] ?? "";
    // Every command and every option of the installed program's --help is in its man page.
    for (const command of [
      "add",
      "query",
      "delete",
      "status",
      "scan",
      "plan",
      "filter",
      "doctor",
    ]) {
      expect(cli).toContain(`\n   ${command}\n`);
      const help = await must([at("/usr/bin/patch-tracking-cli"), command, "--help"], { env });
      for (const flag of help.match(/--[a-z_-]+/g) ?? []) expect(cli).toContain(flag);
    }
    const server = rendered["/usr/share/man/man8/patch-tracking.8.bz2"] ?? "";
    expect(server).toContain("--check-config");
    expect(rendered["/usr/share/man/man1/generate_password.1.bz2"]).toContain("bcrypt");
    const complete = async (...words: string[]) =>
      (
        await must(
          [
            "bash",
            "-c",
            `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _patch_tracking_cli; printf '%s\n' "\${COMPREPLY[@]}"`,
            "complete",
            at(COMPLETION),
            ...words,
          ],
          { env },
        )
      )
        .trim()
        .split("\n");
    expect(await complete("patch-tracking-cli", "fi")).toEqual(["filter"]);
    expect(await complete("patch-tracking-cli", "filter", "--inc")).toEqual(["--include-path"]);
    expect(await complete("patch-tracking-cli", "add", "--version_control", "")).toEqual([
      "github",
      "git",
    ]);
  }, 30_000);

  test("the server starts from the installed settings.conf, edited as the README says", async () => {
    const certs = makeSelfSignedCert(at("/etc/patch-tracking"));
    pem = readFileSync(certs.cert, "utf8");
    const hash = (await must([at("/usr/bin/generate_password"), "Test@123"], { env })).trim();
    hostPort = `127.0.0.1:${await freePort()}`;
    const text = readFileSync(settingsPath, "utf8");
    const values: Record<string, string> = {
      LISTEN: hostPort,
      GITHUB_ACCESS_TOKEN: TEST_GITHUB_TOKEN,
      GITEE_ACCESS_TOKEN: TEST_GITEE_TOKEN,
      PASSWORD: hash,
      // Nothing may reach the real forges: port 9 on loopback refuses at once.
      GITHUB_API_URL: "http://127.0.0.1:9",
      GITEE_API_URL: "http://127.0.0.1:9/api/v5",
      DATABASE_PATH: databasePath,
      GIT_BASE_PATH: at("/var/patch-tracking/git"),
      CERT_FILE: certs.cert,
      KEY_FILE: certs.key,
    };
    writeFileSync(settingsPath, setSettingsKeys(text, values));
    expect(statSync(settingsPath).mode & 0o777).toBe(0o640);

    const running = startInstalledServer();
    const url = await running.ready;
    expect(url).toBe(`https://${hostPort}`);
    const tls = pinned(pem);
    const health = await fetch(`${url}/health`, { tls });
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: "ok", database: "ok" });
    expect(await addExampleTracking(url, pem)).toBe("2001");
    // The README's check, with the installed CLI and the certificate made above.
    const listed = await runCommand(
      [
        at("/usr/bin/patch-tracking-cli"),
        "query",
        "--server",
        hostPort,
        "--table",
        "tracking",
      ].concat(["--ca", certs.cert]),
      { env },
    );
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain("testPatchTrack/testPatch1");
    expect(await running.stop()).toBe(0);
    expect(existsSync(databasePath)).toBe(true);
  }, 30_000);

  test("rpm -U of a newer release keeps the admin's settings.conf and the database", async () => {
    await buildTestRpm(out, "--no-build", "--release", "2");
    const settingsBefore = readFileSync(settingsPath, "utf8");
    const databaseBefore = createHash("sha256").update(readFileSync(databasePath)).digest("hex");

    await rpmRoot("-U", rpmFile(2));
    expect(await must(["rpm", "--root", root, "-q", "patch-tracking"])).toBe(
      `patch-tracking-${VERSION}-2.${machineArch}\n`,
    );
    expect(readFileSync(settingsPath, "utf8")).toBe(settingsBefore);
    expect(statSync(settingsPath).mode & 0o777).toBe(0o640);
    expect(existsSync(`${settingsPath}.rpmsave`)).toBe(false);
    expect(existsSync(`${settingsPath}.rpmnew`)).toBe(false);
    expect(createHash("sha256").update(readFileSync(databasePath)).digest("hex")).toBe(
      databaseBefore,
    );
    expect(existsSync(at("/etc/patch-tracking/self-signed.key"))).toBe(true);

    // The upgraded server serves the tracking stored before the upgrade.
    const running = startInstalledServer();
    const url = await running.ready;
    const rows = (await (await fetch(`${url}/tracking`, { tls: pinned(pem) })).json()) as {
      data: { repo: string }[];
    };
    expect(rows.data.map((row) => row.repo)).toEqual(["testPatchTrack/testPatch1"]);
    expect(await running.stop()).toBe(0);
  }, 60_000);

  test("rpm -e removes the package; the edited settings and the database stay", async () => {
    await rpmRoot("-e", "patch-tracking");
    const installed = await runCommand(["rpm", "--root", root, "-q", "patch-tracking"]);
    expect(installed.code).not.toBe(0);
    for (const path of [
      "/usr/bin/patch-tracking",
      "/usr/bin/patch-tracking-cli",
      ...Object.keys(SYSTEMD_FILES),
    ])
      expect(existsSync(at(path))).toBe(false);
    // rpm keeps a modified configuration file as .rpmsave; the database is not the package's.
    expect(readFileSync(`${settingsPath}.rpmsave`, "utf8")).toContain(`LISTEN = "${hostPort}"`);
    expect(existsSync(databasePath)).toBe(true);
  }, 30_000);
});

if (!isRoot)
  console.warn(
    "packaging.test: skipping the scratch-root install: rpm --root must chown the files to the " +
      "service account, which needs root (run the tests as root, as CI does)",
  );
