/**
 * `npm run rpm`: builds the binaries, packs them with the packaging files into a source tarball,
 * and runs `rpmbuild -ba` on packaging/rpm/patch-tracking.spec. The RPM (for this machine's
 * architecture) and the SRPM land in dist/.
 *
 * The spec's `%{pt_version}` and `%{pt_release}` are written out (version from package.json,
 * release 1) in the copy rpmbuild reads, so the SRPM rebuilds on its own with `rpmbuild --rebuild`.
 *
 * Options: `--outdir DIR` (default dist; the binaries are built there too), `--no-build` (package
 * the binary already in the output folder), `--release N` (e.g. to try an upgrade locally),
 * `--binary-only` (no SRPM), `--payload IO` (rpm's payload compression, default w9T0.zstdio;
 * w.ufdio packs without compressing, quicker for throwaway packages), `--spec FILE` (another
 * spec, e.g. an earlier release's, to test upgrades from it).
 */

import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { spawnSync } from "bun";
import { VERSION } from "../src/version.ts";
import { documentation } from "./man-pages.ts";

const root = join(import.meta.dir, "..");
const DEFAULT_SPEC = join(root, "packaging", "rpm", "patch-tracking.spec");
// zstd level 9 on all cores: ~45 MB for the 110 MB binary in a few seconds, where rpm's default
// (gzip -9) takes several times longer for ~51 MB. Any rpm since 4.14 installs zstd payloads.
const DEFAULT_PAYLOAD = "w9T0.zstdio";

const { values } = parseArgs({
  options: {
    outdir: { type: "string", default: "dist" },
    "no-build": { type: "boolean", default: false },
    release: { type: "string", default: "1" },
    "binary-only": { type: "boolean", default: false },
    payload: { type: "string", default: DEFAULT_PAYLOAD },
    spec: { type: "string", default: DEFAULT_SPEC },
  },
});
const SPEC = resolve(values.spec ?? DEFAULT_SPEC);
const payload = values.payload ?? DEFAULT_PAYLOAD;
const outdir = resolve(root, values.outdir ?? "dist");
const release = values.release ?? "1";
if (!/^[0-9][0-9a-zA-Z._+~]*$/.test(release)) {
  console.error(`rpm: --release ${release}: must start with a digit (e.g. 2)`);
  process.exit(1);
}

function run(command: string[], cwd = root): void {
  const result = spawnSync(command, { cwd, stdout: "inherit", stderr: "inherit" });
  if (result.exitCode !== 0) {
    console.error(`rpm: ${command.join(" ")} failed with exit code ${result.exitCode}`);
    process.exit(1);
  }
}

for (const tool of ["rpmbuild", "tar"]) {
  if (Bun.which(tool) === null) {
    console.error(`rpm: ${tool} is missing (on Debian/Ubuntu: apt-get install rpm)`);
    process.exit(1);
  }
}

if (!values["no-build"])
  run([process.execPath, join(root, "scripts", "build.ts"), "--outdir", outdir]);
const binary = join(outdir, "patch-tracking");
if (!existsSync(binary)) {
  console.error(`rpm: ${binary} is missing; run npm run build first`);
  process.exit(1);
}

const started = performance.now();
const work = mkdtempSync(join(tmpdir(), "pt-rpm-"));
try {
  const name = `patch-tracking-${VERSION}`;
  const stage = join(work, name);
  mkdirSync(join(stage, "bin"), { recursive: true });
  copyFileSync(binary, join(stage, "bin", "patch-tracking"));
  // Man pages and completion from the programs' own command definitions (as build.ts makes
  // them), so a --no-build package of a copied binary has them too.
  const docs = await documentation();
  mkdirSync(join(stage, "man"));
  mkdirSync(join(stage, "completion"));
  for (const page of docs.pages) writeFileSync(join(stage, "man", page.file), page.text);
  writeFileSync(join(stage, "completion", "patch-tracking-cli"), docs.completion);
  for (const file of ["LICENSE", "README.md", "README.zh-CN.md", "settings.conf.example"])
    copyFileSync(join(root, file), join(stage, file));
  cpSync(join(root, "packaging"), join(stage, "packaging"), { recursive: true });
  const top = join(work, "rpmbuild");
  mkdirSync(join(top, "SOURCES"), { recursive: true });
  run(["tar", "-cf", join(top, "SOURCES", `${name}.tar`), "-C", work, name]);

  let spec = readFileSync(SPEC, "utf8");
  for (const [macro, value] of [
    ["%{pt_version}", VERSION],
    ["%{pt_release}", release],
  ] as const) {
    if (!spec.includes(macro)) {
      console.error(`rpm: ${relative(root, SPEC)} no longer uses ${macro}`);
      process.exit(1);
    }
    spec = spec.replaceAll(macro, value);
  }
  const specFile = join(work, "patch-tracking.spec");
  writeFileSync(specFile, spec);

  run([
    "rpmbuild",
    values["binary-only"] ? "-bb" : "-ba",
    "--define",
    `_topdir ${top}`,
    "--define",
    `_binary_payload ${payload}`,
    "--define",
    `_source_payload ${payload}`,
    specFile,
  ]);
  mkdirSync(outdir, { recursive: true });
  const made: string[] = [];
  const walk = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".rpm")) {
        copyFileSync(path, join(outdir, entry.name));
        made.push(join(outdir, entry.name));
      }
    }
  };
  walk(join(top, "RPMS"));
  walk(join(top, "SRPMS"));
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  for (const file of made) {
    const megabytes = (statSync(file).size / 1e6).toFixed(1);
    console.log(`rpm: wrote ${relative(process.cwd(), file) || file} (${megabytes} MB)`);
  }
  console.log(`rpm: packaging took ${seconds} s`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
