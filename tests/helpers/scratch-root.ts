/**
 * A scratch root in which `rpm --root` runs packages' scriptlets for real: a static busybox is
 * its `/bin/sh` and its coreutils, `/dev/null` is the real device, and three small stand-ins take
 * the place of what a distribution has and Debian's busybox lacks:
 *   - `getent`, `groupadd` and `useradd` (shadow-utils), for the accounts a %pre creates; they
 *     write /etc/passwd and /etc/group as the real tools do;
 *   - `/usr/bin/systemctl`, which records every call (a chroot has no systemd to talk to) and
 *     answers `is-active` from a flag the test sets, so a test reads what the scriptlets asked of
 *     systemd.
 * The installed service runs inside the root as its account (chroot in a private mount
 * namespace with /proc, which Bun's executables read themselves through), with the unit's umask.
 * Everything here needs root, as `rpm --root` does.
 */
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { spawnSync } from "bun";
import { runCommand, type ServerProcess, startServerProcess } from "./server-process.ts";

const BUSYBOX = "/bin/busybox";
// Where the stand-in systemctl writes its calls and reads whether the service is running.
const SYSTEMCTL_LOG = "/var/log/systemctl.calls";
const ACTIVE_FLAG = "/run/patch-tracking.active";

const GETENT = `#!/bin/sh
# getent DATABASE NAME, for passwd and group: the entry, or exit 2 when there is none.
case "$1" in passwd|group) ;; *) exit 1 ;; esac
grep "^$2:" "/etc/$1" || exit 2
`;

// The first free id counting down from 999, as shadow-utils picks system ids.
const FREE_ID = `free_id() {
  id=999
  while cut -d: -f3 "$1" | grep -qx "$id"; do id=$((id - 1)); done
  echo "$id"
}
`;

const GROUPADD = `#!/bin/sh
# groupadd [-r] NAME
${FREE_ID}
for name; do :; done
grep -q "^$name:" /etc/group && { echo "groupadd: group '$name' already exists" >&2; exit 9; }
echo "$name:x:$(free_id /etc/group):" >> /etc/group
`;

const USERADD = `#!/bin/sh
# useradd [-r] [-g GROUP] [-d HOME] [-s SHELL] [-c COMMENT] NAME
${FREE_ID}
group=""; home="/"; shell="/bin/sh"; comment=""
while getopts "rg:d:s:c:" option; do
  case "$option" in
    g) group="$OPTARG" ;; d) home="$OPTARG" ;; s) shell="$OPTARG" ;; c) comment="$OPTARG" ;;
  esac
done
shift $((OPTIND - 1))
name="$1"
grep -q "^$name:" /etc/passwd && { echo "useradd: user '$name' already exists" >&2; exit 9; }
gid=$(grep "^$group:" /etc/group | cut -d: -f3)
[ -n "$gid" ] || { echo "useradd: group '$group' does not exist" >&2; exit 6; }
echo "$name:x:$(free_id /etc/passwd):$gid:$comment:$home:$shell" >> /etc/passwd
`;

const SYSTEMCTL = `#!/bin/sh
echo "$*" >> ${SYSTEMCTL_LOG}
case "$1" in is-active) [ -e ${ACTIVE_FLAG} ] ;; *) exit 0 ;; esac
`;

export interface ScratchRoot {
  readonly dir: string;
  /** The host path of a path inside the root. */
  at(path: string): string;
  /** `rpm --root` with the scriptlets running; throws with rpm's output when it fails. */
  rpm(...args: string[]): Promise<{ stdout: string; stderr: string }>;
  /** The calls the scriptlets made to systemctl, oldest first; `clear` forgets them. */
  systemctlCalls(options?: { clear?: boolean }): string[];
  /** What `systemctl is-active patch-tracking.service` answers from now on. */
  setServiceActive(active: boolean): void;
  /** uid and gid of an account in the root's /etc/passwd. */
  account(name: string): { uid: number; gid: number } | undefined;
  /** Runs an installed program inside the root as an account, with umask 0077 (the unit's). */
  startAs(account: string, command: string[]): ServerProcess;
}

/** Names the tools a scratch root needs that this machine lacks (for the tests' message). */
export function missingScratchRootTools(): string[] {
  const missing: string[] = [];
  const busybox = spawnSync(["ldd", BUSYBOX]);
  // A dynamically linked busybox (Debian's "busybox") would need the host's libraries inside.
  if (!existsSync(BUSYBOX) || busybox.exitCode === 0) missing.push("busybox-static");
  for (const tool of ["unshare", "chroot", "ldd"]) if (Bun.which(tool) === null) missing.push(tool);
  return missing;
}

export function makeScratchRoot(dir: string): ScratchRoot {
  const at = (path: string) => join(dir, path);
  // The root's "/" (a private temporary folder, 0700) must be open to the service's account.
  chmodSync(dir, 0o755);
  for (const folder of [
    "bin",
    "sbin",
    "usr/bin",
    "usr/sbin",
    "dev",
    "etc",
    "proc",
    "run",
    "var/log",
  ])
    mkdirSync(at(folder), { recursive: true });
  mkdirSync(at("tmp"), { recursive: true, mode: 0o1777 });
  chmodSync(at("tmp"), 0o1777);
  copyFileSync(BUSYBOX, at("bin/busybox"));
  chmodSync(at("bin/busybox"), 0o755);
  const applets = spawnSync([BUSYBOX, "--list"]).stdout.toString().split("\n").filter(Boolean);
  for (const applet of applets)
    if (!existsSync(at(`bin/${applet}`))) symlinkSync("busybox", at(`bin/${applet}`));
  const devNull = spawnSync(["mknod", "-m", "0666", at("dev/null"), "c", "1", "3"]);
  if (devNull.exitCode !== 0) throw new Error(`mknod dev/null: ${devNull.stderr.toString()}`);
  writeFileSync(at("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
  writeFileSync(at("etc/group"), "root:x:0:\n");
  const scripts: Record<string, string> = {
    "usr/bin/getent": GETENT,
    "usr/sbin/groupadd": GROUPADD,
    "usr/sbin/useradd": USERADD,
    "usr/bin/systemctl": SYSTEMCTL,
  };
  for (const [path, text] of Object.entries(scripts))
    writeFileSync(at(path), text, { mode: 0o755 });

  return {
    dir,
    at,
    async rpm(...args) {
      const result = await runCommand(["rpm", "--root", dir, "--nosignature", "--nodeps", ...args]);
      if (result.code !== 0)
        throw new Error(
          `rpm ${args.join(" ")} exited with ${result.code}:\n${result.stdout}${result.stderr}`,
        );
      return { stdout: result.stdout, stderr: result.stderr };
    },
    systemctlCalls({ clear = false } = {}) {
      const log = at(SYSTEMCTL_LOG);
      const calls = existsSync(log) ? readFileSync(log, "utf8").split("\n").filter(Boolean) : [];
      if (clear) rmSync(log, { force: true });
      return calls;
    },
    setServiceActive(active) {
      if (active) writeFileSync(at(ACTIVE_FLAG), "");
      else rmSync(at(ACTIVE_FLAG), { force: true });
    },
    account(name) {
      const passwd = readFileSync(at("etc/passwd"), "utf8");
      const entry = new RegExp(`^${name}:x:(\\d+):(\\d+):`, "m").exec(passwd);
      return entry ? { uid: Number(entry[1]), gid: Number(entry[2]) } : undefined;
    },
    startAs(name, command) {
      const ids = this.account(name);
      if (!ids) throw new Error(`no account ${name} in ${at("etc/passwd")}`);
      copyLibraries(at, at(command[0] ?? ""));
      // The mount namespace, and with it /proc, ends with the process: nothing to clean up.
      const script = `umask 077; mount -t proc proc "$0/proc" && exec chroot --userspec=${ids.uid}:${ids.gid} --groups=${ids.gid} "$0" "$@"`;
      return startServerProcess([], {
        command: [
          "unshare",
          "--mount",
          "--propagation",
          "private",
          "sh",
          "-c",
          script,
          dir,
          ...command,
        ],
        cwd: dir,
      });
    },
  };
}

/** Copies the shared libraries a program of the root links against from the host. */
function copyLibraries(at: (path: string) => string, program: string): void {
  const listing = spawnSync(["ldd", program]).stdout.toString();
  for (const library of listing.matchAll(/(\/\S+) \(0x/g)) {
    const path = library[1] ?? "";
    if (existsSync(at(path))) continue;
    mkdirSync(dirname(at(path)), { recursive: true });
    copyFileSync(path, at(path));
  }
}
