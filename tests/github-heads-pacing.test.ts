import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { git } from "../src/git.ts";
import { silentLogger } from "../src/log.ts";
import { createGithubUpstream } from "../src/scan/upstream/github.ts";
import { startGithubEmulator } from "./emulators/github.ts";
import { tempDir } from "./helpers/temp.ts";

const emulator = startGithubEmulator();
afterAll(() => emulator.stop());

test("GraphQL heads queries are not paced like writes (one per second)", async () => {
  const dir = join(tempDir("gh-pacing-"), "repo");
  await git(["init", "-q", "-b", "main", "--", dir]);
  await git(["commit", "-q", "--allow-empty", "-m", "only"], {
    cwd: dir,
    env: {
      GIT_AUTHOR_NAME: "A",
      GIT_AUTHOR_EMAIL: "a@example.com",
      GIT_COMMITTER_NAME: "A",
      GIT_COMMITTER_EMAIL: "a@example.com",
    },
  });
  const head = (await git(["rev-parse", "HEAD"], { cwd: dir })).trim();
  const refs = Array.from({ length: 400 }, (_, i) => ({ repo: `pace/r${i}`, branch: "main" }));
  for (const ref of refs) emulator.addRepo(ref.repo, dir);
  const upstream = createGithubUpstream({
    baseUrl: emulator.url,
    token: emulator.token,
    log: silentLogger,
    timeoutMs: 5000,
  });
  const started = performance.now();
  const heads = await upstream.heads(refs);
  const elapsed = performance.now() - started;
  expect(heads.every((result) => "sha" in result && result.sha === head)).toBe(true);
  const queries = emulator.requests.filter((request) => request.resource === "graphql");
  expect(queries).toHaveLength(4);
  // The throttling plugin's write pacing would hold the 2nd, 3rd and 4th query 1 s each (≥ 3 s).
  expect(elapsed).toBeLessThan(2500);
});
