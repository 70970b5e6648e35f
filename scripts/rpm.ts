/**
 * `npm run rpm`: builds the binaries, packs them with the packaging files into a source tarball,
 * and runs `rpmbuild -ba` on packaging/rpm/patch-tracking.spec. The RPM and SRPM land in dist/.
 */

import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "bun";
import { VERSION } from "../src/version.ts";

const root = join(import.meta.dir, "..");
const dist = join(root, "dist");

function run(command: string[], cwd = root): void {
  const result = spawnSync(command, { cwd, stdout: "inherit", stderr: "inherit" });
  if (result.exitCode !== 0) {
    console.error(`rpm: ${command.join(" ")} failed with exit code ${result.exitCode}`);
    process.exit(1);
  }
}

if (!process.argv.includes("--no-build")) run([process.execPath, "scripts/build.ts"]);
const binary = join(dist, "patch-tracking");
if (!existsSync(binary)) {
  console.error(`rpm: ${binary} is missing; run npm run build first`);
  process.exit(1);
}

const work = mkdtempSync(join(tmpdir(), "pt-rpm-"));
try {
  const name = `patch-tracking-${VERSION}`;
  const stage = join(work, name);
  mkdirSync(join(stage, "bin"), { recursive: true });
  copyFileSync(binary, join(stage, "bin", "patch-tracking"));
  for (const file of ["LICENSE", "README.md", "settings.conf.example"])
    copyFileSync(join(root, file), join(stage, file));
  cpSync(join(root, "packaging"), join(stage, "packaging"), { recursive: true });
  const top = join(work, "rpmbuild");
  mkdirSync(join(top, "SOURCES"), { recursive: true });
  run(["tar", "-czf", join(top, "SOURCES", `${name}.tar.gz`), "-C", work, name]);
  run([
    "rpmbuild",
    "-ba",
    "--define",
    `_topdir ${top}`,
    "--define",
    `pt_version ${VERSION}`,
    join(root, "packaging", "rpm", "patch-tracking.spec"),
  ]);
  mkdirSync(dist, { recursive: true });
  const made: string[] = [];
  for (const folder of ["RPMS", "SRPMS"]) {
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (entry.name.endsWith(".rpm")) {
          copyFileSync(path, join(dist, entry.name));
          made.push(join("dist", entry.name));
        }
      }
    };
    walk(join(top, folder));
  }
  for (const file of made) console.log(`rpm: wrote ${file}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
