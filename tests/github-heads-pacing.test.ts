import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { silentLogger } from "../src/log.ts";
import { createGithubUpstream } from "../src/scan/upstream/github.ts";
import { startGithubEmulator } from "./emulators/github.ts";
import { GitRepo } from "./helpers/git-repo.ts";
import { tempDir } from "./helpers/temp.ts";

const emulator = startGithubEmulator();
afterAll(() => emulator.stop());

test("GraphQL heads queries are not paced like writes (one per second)", async () => {
  const repo = await GitRepo.init(join(tempDir("gh-pacing-"), "repo"));
  const head = await repo.emptyCommit("only");
  const refs = Array.from({ length: 400 }, (_, i) => ({ repo: `pace/r${i}`, branch: "main" }));
  for (const ref of refs) emulator.addRepo(ref.repo, repo.dir);
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
