/**
 * A complete little world for engine tests: an upstream git repository served by the GitHub
 * emulator, a Gitee emulator holding downstream package repositories, a real SQLite database, and
 * the service's own forge and upstream clients pointed at them.
 */

import type { Database } from "bun:sqlite";
import { afterAll } from "bun:test";
import { join } from "node:path";
import { openDatabase } from "../../src/db/database.ts";
import { getTracking, upsertTracking } from "../../src/db/trackings.ts";
import type { RateLimitedError, Service } from "../../src/errors.ts";
import { GiteeForge } from "../../src/forge/gitee.ts";
import { FORGE_PROFILES } from "../../src/forge/profiles.ts";
import { silentLogger } from "../../src/log.ts";
import { KeyedMutex } from "../../src/scan/concurrency.ts";
import { type ScanTrackingDeps, scanTracking } from "../../src/scan/scan-tracking.ts";
import { createGithubUpstream } from "../../src/scan/upstream/github.ts";
import type { Upstream } from "../../src/scan/upstream/types.ts";
import { startGiteeEmulator } from "../emulators/gitee.ts";
import { startGithubEmulator } from "../emulators/github.ts";
import { FORGE_MODES, type ForgeMode } from "./forge-modes.ts";
import { GitRepo } from "./git-repo.ts";
import { TEST_GITHUB_TOKEN } from "./settings.ts";
import { tempDir } from "./temp.ts";

export const UPSTREAM = "up/stream";

/** A small spec in openEuler style, applied with %autosetup. */
export function packageSpec(name: string, release = "1"): string {
  return `Name:           ${name}
Version:        1.2.3
Release:        ${release}
Summary:        Test package
License:        MIT
Source0:        %{name}-%{version}.tar.gz

%description
A package for tests.

%prep
%autosetup -n %{name}-%{version} -p1

%build

%install

%files

%changelog
* Mon Jan 01 2024 Tester <tester@example.com> - 1.2.3-1
- Initial package
`;
}

/** Tracks `src-openeuler/<name>` (branch master) from the upstream's `main`, from `scmCommit`. */
export function trackPackage(
  db: Database,
  name: string,
  scmCommit: string | null,
  enabled = true,
): void {
  upsertTracking(db, {
    version_control: "github",
    scm_repo: UPSTREAM,
    scm_branch: "main",
    scm_commit: scmCommit,
    repo: `src-openeuler/${name}`,
    branch: "master",
    enabled,
  });
}

export interface WorldOptions {
  /** Client timeout for Gitee requests in milliseconds. */
  giteeTimeoutMs?: number;
  /** Which downstream forge the emulator imitates and the client expects; default gitee. */
  forge?: ForgeMode;
}

export async function makeWorld(options: WorldOptions = {}) {
  const dir = tempDir();
  const upstream = await GitRepo.init(join(dir, "upstream"));
  const base = await upstream.commit("initial import", {
    "src/a.c": "int a;\n",
    README: "hello\n",
  });
  const github = startGithubEmulator({
    repos: { [UPSTREAM]: upstream.dir },
    token: TEST_GITHUB_TOKEN,
  });
  const forgeMode = options.forge ?? FORGE_MODES.gitee;
  const gitee = startGiteeEmulator(forgeMode?.emulator);
  const db: Database = openDatabase(join(dir, "db.sqlite"));
  const forge = new GiteeForge({
    baseUrl: gitee.url,
    token: gitee.token,
    log: silentLogger,
    timeoutMs: options.giteeTimeoutMs ?? 2000,
    profile: FORGE_PROFILES[forgeMode?.profile ?? "gitee"],
    backoffMs: 5,
    retries: 2,
    maxRetryAfterMs: 5000,
  });
  const githubUpstream = createGithubUpstream({
    baseUrl: github.url,
    token: github.token,
    log: silentLogger,
    timeoutMs: 5000,
    retryAfterBaseValue: 1,
  });
  const parked = new Map<Service, number>();
  const deps: ScanTrackingDeps = {
    db,
    forge,
    log: silentLogger,
    repoLocks: new KeyedMutex(),
    // The git upstream is not used by these worlds; GitHub answers for both kinds.
    upstreams: { github: githubUpstream, git: githubUpstream as unknown as Upstream },
    parkedUntil: (service) => {
      const until = parked.get(service);
      return until && until > Date.now() ? until : null;
    },
    park: (error: RateLimitedError) => {
      parked.set(error.service, error.resetAt);
    },
    // Each scan resumes a failed run at once here; run-backoff.test.ts tests the real schedule.
    runBackoff: () => 0,
    // Likewise a create that got no answer may be sent again at once; unanswered-create.test.ts
    // and the fault matrix's "lands late" scenarios give it a settle period.
    settleMs: 0,
  };
  afterAll(async () => {
    await github.stop();
    await gitee.stop();
    db.close();
  });

  /** A downstream repository `src-openeuler/<name>` with a spec, tracked from `scm_commit`. */
  function addPackage(name: string, scmCommit: string | null = base, spec = packageSpec(name)) {
    gitee.addRepo(`src-openeuler/${name}`, { files: { [`${name}.spec`]: spec } });
    trackPackage(db, name, scmCommit);
  }

  return {
    dir,
    upstream,
    base,
    github,
    gitee,
    db,
    forge,
    deps,
    parked,
    addPackage,
    scan: (name: string) => scanTracking(deps, `src-openeuler/${name}`, "master"),
    tracking: (name: string) => getTracking(db, `src-openeuler/${name}`, "master"),
  };
}

export type World = Awaited<ReturnType<typeof makeWorld>>;
