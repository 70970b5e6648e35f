/** Preloaded by `bun test` (bunfig.toml): run-wide hooks. */
import { afterAll } from "bun:test";
import { serverLogs } from "./helpers/server-process.ts";
import { TEST_GITEE_TOKEN, TEST_GITHUB_TOKEN, TEST_PASSWORD } from "./helpers/settings.ts";
import { removeTempDirs } from "./helpers/temp.ts";

// Top-level hooks in a preload run once, after every test file.

// The logs of the whole run, every server process started through the helpers, must never hold
// the test tokens or the admin password, whatever the test did to the service.
afterAll(() => {
  const secrets = {
    "GitHub token": TEST_GITHUB_TOKEN,
    "Gitee token": TEST_GITEE_TOKEN,
    password: TEST_PASSWORD,
  };
  const leaks: string[] = [];
  for (const log of serverLogs) {
    const output = log.output();
    for (const [name, value] of Object.entries(secrets)) {
      if (output.includes(value)) leaks.push(`the ${name} is in the log of: ${log.command}`);
    }
  }
  if (leaks.length > 0) throw new Error(`secrets in server logs:\n${leaks.join("\n")}`);
  console.error(
    `secrets check: ${serverLogs.length} server logs of this run hold no token or password`,
  );
});

afterAll(removeTempDirs);
