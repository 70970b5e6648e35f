import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { startTestServer } from "./helpers/test-server.ts";

const server = startTestServer();

const valid = {
  version_control: "github",
  scm_repo: "owner/upstream",
  scm_branch: "main",
  repo: "src-openeuler/pkg",
  branch: "master",
  enabled: true,
};

function snapshot(): string {
  const db = new Database(server.settings.databasePath, { readonly: true });
  try {
    return JSON.stringify(db.query("SELECT * FROM tracking ORDER BY repo, branch").all());
  } finally {
    db.close();
  }
}

async function post(body: string, contentType = "application/json") {
  const response = await server.call("/tracking", {
    method: "POST",
    auth: true,
    body,
    headers: { "content-type": contentType },
  });
  const answer: any = response.status === 413 ? null : await response.json();
  return { status: response.status, body: answer };
}

describe("bad POST bodies answer 4001 naming the problem and change nothing", () => {
  const cases: [string, string, string | null, RegExp][] = [
    ["malformed JSON", "{not json", null, /not valid JSON/],
    ["a JSON array", "[1, 2]", null, /JSON object/],
    ["a JSON scalar", "42", null, /JSON object/],
    ["a JSON string", '"hello"', null, /JSON object/],
    ["null", "null", null, /JSON object/],
    [
      "enabled as text",
      JSON.stringify({ ...valid, enabled: "yes" }),
      "enabled",
      /true, false, 0 or 1/,
    ],
    ["enabled as 2", JSON.stringify({ ...valid, enabled: 2 }), "enabled", /true, false, 0 or 1/],
    [
      "a number for repo",
      JSON.stringify({ ...valid, repo: 12 }),
      "repo",
      /repo must be a non-empty string/,
    ],
    [
      "an empty branch",
      JSON.stringify({ ...valid, branch: "" }),
      "branch",
      /branch must be a non-empty string/,
    ],
    [
      "an unknown field",
      JSON.stringify({ ...valid, color: "red" }),
      "color",
      /unknown field color/,
    ],
    [
      "a missing field",
      JSON.stringify({ ...valid, scm_branch: undefined }),
      "scm_branch",
      /missing field scm_branch/,
    ],
    [
      "a bad version_control",
      JSON.stringify({ ...valid, version_control: "svn" }),
      "version_control",
      /"github" or "git"/,
    ],
    [
      "an over-long value",
      JSON.stringify({ ...valid, scm_repo: `o/${"x".repeat(2000)}` }),
      "scm_repo",
      /at most 1024/,
    ],
    [
      "a GitHub repo that is not owner/name",
      JSON.stringify({ ...valid, scm_repo: "just-a-name" }),
      "scm_repo",
      /owner\/name/,
    ],
    [
      "a git URL that looks like an option",
      JSON.stringify({ ...valid, version_control: "git", scm_repo: "--upload-pack=evil" }),
      "scm_repo",
      /must not start with '-'/,
    ],
    [
      "a branch with spaces",
      JSON.stringify({ ...valid, branch: "my branch" }),
      "branch",
      /must not contain spaces/,
    ],
    [
      "a work branch",
      JSON.stringify({ ...valid, branch: "patch-tracking/20240101000000000000" }),
      "branch",
      /own work branches/,
    ],
    [
      "a bad scm_commit",
      JSON.stringify({ ...valid, scm_commit: "not-a-sha" }),
      "scm_commit",
      /commit sha/,
    ],
    [
      "a numeric scm_commit",
      JSON.stringify({ ...valid, scm_commit: 123 }),
      "scm_commit",
      /scm_commit/,
    ],
  ];

  for (const [name, body, field, error] of cases) {
    test(name, async () => {
      const before = snapshot();
      const answer = await post(body);
      expect(answer.status).toBe(200);
      expect(answer.body.code).toBe("4001");
      expect(answer.body.msg).toBe("Please enter the correct parameters");
      expect(answer.body.data.field).toBe(field);
      expect(answer.body.data.error).toMatch(error);
      expect(snapshot()).toBe(before);
    });
  }

  test("a body over 64 KiB answers 413 and changes nothing", async () => {
    const before = snapshot();
    const answer = await post(JSON.stringify({ ...valid, scm_repo: `o/${"x".repeat(70 * 1024)}` }));
    expect(answer.status).toBe(413);
    expect(snapshot()).toBe(before);
  });

  test("the valid body is accepted afterwards", async () => {
    const answer = await post(JSON.stringify(valid));
    expect(answer.body.code).toBe("2001");
  });
});
