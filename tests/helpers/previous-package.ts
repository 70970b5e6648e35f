/**
 * A stand-in for the previous patch-tracking RPM (1.0.4, noarch, Python under uWSGI), built from
 * its file list alone: the same paths with the same kind of ownership (plain files, no %config,
 * no %dir, no %attr), placeholder contents, and the one scriptlet it had that matters here (its
 * %preun disables the service on erase only). This is what an upgrade has to deal with: rpm
 * erases every file of it that the new package does not own, and it owns the database.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCommand } from "./server-process.ts";

export const PREVIOUS_VERSION = "1.0.4";
const SITE = "/usr/lib/python3.7/site-packages";

/** The previous package's files (its Python modules expanded). */
export const PREVIOUS_FILES = [
  `${SITE}/patch_tracking/__init__.py`,
  `${SITE}/patch_tracking/app.py`,
  `${SITE}/patch_tracking/cli/__init__.py`,
  `${SITE}/patch_tracking/cli/patch_tracking_cli.py`,
  `${SITE}/patch_tracking-${PREVIOUS_VERSION}-py3.7.egg-info/PKG-INFO`,
  "/etc/patch-tracking/logging.conf",
  "/etc/patch-tracking/settings.conf",
  "/usr/bin/patch-tracking",
  "/usr/bin/patch-tracking-cli",
  "/var/patch-tracking/db.sqlite",
  "/usr/bin/generate_password",
  "/usr/lib/systemd/system/patch-tracking.service",
];

/** Its %files as it listed them: everything under site-packages by a glob, so the module
 * folders are its own too (an upgrade removes them). */
const FILE_LIST = [`${SITE}/*`, ...PREVIOUS_FILES.filter((path) => !path.startsWith(SITE))];

/** Placeholder contents: just enough for each file to be what its path says. */
function contentOf(path: string): string {
  if (path.startsWith("/usr/bin/"))
    return "#!/bin/sh\n# stand-in for the previous release's script\n";
  if (path.endsWith(".service"))
    return "[Unit]\nDescription=patch-tracking (stand-in of the previous release)\n\n[Service]\nExecStart=/usr/bin/patch-tracking\nKillSignal=SIGQUIT\n\n[Install]\nWantedBy=multi-user.target\n";
  if (path.endsWith("settings.conf"))
    return 'LISTEN = "127.0.0.1:5001"\nGITHUB_ACCESS_TOKEN = ""\nGITEE_ACCESS_TOKEN = ""\nSCAN_DB_INTERVAL = 3600\nUSER = "admin"\nPASSWORD = ""\n';
  if (path.endsWith("logging.conf")) return "[loggers]\nkeys=root\n";
  // The database ships empty; the service creates its tables on first start.
  if (path.endsWith(".sqlite")) return "";
  return "# stand-in\n";
}

/** Builds the stand-in RPM into `dir` and returns its path. */
export async function buildPreviousPackage(dir: string): Promise<string> {
  const top = join(dir, "rpmbuild");
  mkdirSync(top, { recursive: true });
  const install = PREVIOUS_FILES.map((path) => {
    const mode = path.startsWith("/usr/bin/") ? "0755" : "0644";
    const text = contentOf(path).replaceAll("\\", "\\\\").replaceAll("'", "'\\''");
    return `mkdir -p "%{buildroot}$(dirname ${path})"\nprintf '%%s' '${text}' > "%{buildroot}${path}"\nchmod ${mode} "%{buildroot}${path}"`;
  }).join("\n");
  const spec = `Name: patch-tracking
Version: ${PREVIOUS_VERSION}
Release: 1
Summary: Stand-in for the previous patch-tracking release (its file list only)
License: MulanPSL-2.0
BuildArch: noarch

%description
Test stand-in with the file list of the previous, Python release of patch-tracking.

%install
${install}

%preun
if [ $1 -eq 0 ] && [ -x /usr/bin/systemctl ]; then
    /usr/bin/systemctl --no-reload disable --now patch-tracking.service >/dev/null 2>&1 || :
fi

%files
${FILE_LIST.join("\n")}
`;
  const specFile = join(dir, "previous.spec");
  writeFileSync(specFile, spec);
  const built = await runCommand(["rpmbuild", "-bb", "--define", `_topdir ${top}`, specFile]);
  if (built.code !== 0)
    throw new Error(`rpmbuild of the stand-in failed:\n${built.stdout}${built.stderr}`);
  return join(top, "RPMS", "noarch", `patch-tracking-${PREVIOUS_VERSION}-1.noarch.rpm`);
}
