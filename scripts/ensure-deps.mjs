// Makes a fresh clone runnable: installs the npm dependencies (Bun among them) when they are
// missing, and the Debian tools the tests use (git, rpmspec, openssl, ...) when asked to.
// Runs under plain Node, before Bun exists.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bun = join(root, "node_modules", ".bin", "bun");

function say(message) {
  process.stderr.write(`[setup] ${message}\n`);
}

function works(command, args) {
  const result = spawnSync(command, args, { stdio: "ignore" });
  return result.status === 0;
}

/**
 * Packages package-lock.json asks for that node_modules lacks, or holds at another version (npm
 * records what it installed in node_modules/.package-lock.json): after a `git pull` that adds
 * or bumps a dependency, the next start installs it instead of failing on an import.
 */
function missingPackages() {
  const read = (file) => JSON.parse(readFileSync(join(root, file), "utf8")).packages ?? {};
  let installed;
  try {
    installed = read("node_modules/.package-lock.json");
  } catch {
    return ["(no node_modules/.package-lock.json)"];
  }
  return Object.entries(read("package-lock.json"))
    .filter(([path, meta]) => path !== "" && !meta.optional)
    .filter(([path, meta]) => installed[path]?.version !== meta.version)
    .map(([path]) => path.replace(/^node_modules\//, ""));
}

export function ensureNodeModules() {
  const missing = existsSync(bun) && works(bun, ["--version"]) ? missingPackages() : ["bun"];
  if (missing.length === 0) return;
  say(
    `installing npm dependencies (npm ci): ${missing.slice(0, 5).join(", ")} missing or outdated`,
  );
  execFileSync("npm", ["ci", "--no-audit", "--no-fund"], { cwd: root, stdio: "inherit" });
  if (!works(bun, ["--version"])) {
    // npm may skip the bun package's install script; it only links the platform binary.
    execFileSync("node", [join(root, "node_modules", "bun", "install.js")], { stdio: "inherit" });
  }
}

/** Debian packages providing each command the tests need. */
const TEST_TOOLS = {
  git: "git",
  rpmspec: "rpm",
  rpmbuild: "rpm",
  rpmlint: "rpmlint",
  "systemd-analyze": "systemd",
  openssl: "openssl",
  chromium: "chromium",
  // A static busybox is the /bin/sh of the scratch roots in which the RPM scriptlets run.
  busybox: "busybox-static",
  // The packaging test renders the man pages with `man -l`.
  man: "man-db",
};

// Tools for which being on PATH is not enough: the scratch roots need a static busybox, and
// Debian's other busybox package is linked dynamically.
const CHECKS = {
  busybox: () => existsSync("/bin/busybox") && !works("ldd", ["/bin/busybox"]),
};

function hasCommand(name) {
  if (CHECKS[name]) return CHECKS[name]();
  return works("sh", ["-c", `command -v ${name}`]);
}

// The benchmarks' tools: a load generator written in C (one in JavaScript would take the CPU the
// server needs on a small machine, and autocannon rounds latencies to whole milliseconds) and a
// start-up timer.
const BENCH_TOOLS = { wrk: "wrk", hyperfine: "hyperfine" };
const TOOLS = { ...TEST_TOOLS, ...BENCH_TOOLS };

export function ensureDebianTools(tools = Object.keys(TEST_TOOLS)) {
  const missing = [
    ...new Set(tools.filter((tool) => !hasCommand(tool)).map((tool) => TOOLS[tool])),
  ];
  if (missing.length === 0) return;
  const asRoot = process.getuid?.() === 0;
  const prefix = asRoot ? [] : ["sudo", "-n"];
  if (!asRoot && !hasCommand("sudo")) {
    say(`missing Debian packages ${missing.join(" ")} and no root to install them`);
    process.exit(1);
  }
  say(`installing Debian packages: ${missing.join(" ")}`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const run = (args) =>
    execFileSync(
      prefix[0] ?? args[0],
      [...prefix.slice(1), ...(prefix.length ? args : args.slice(1))],
      { stdio: "inherit", env },
    );
  run(["apt-get", "update", "-qq"]);
  run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", ...missing]);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  ensureNodeModules();
  if (process.argv.includes("--tools")) ensureDebianTools();
  if (process.argv.includes("--bench-tools")) ensureDebianTools(Object.keys(BENCH_TOOLS));
}
