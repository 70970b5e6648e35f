import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { startTestServer } from "./helpers/test-server.ts";
import { TRACKING_FIELDS } from "./helpers/tracking-fields.ts";

const server = startTestServer();

const item = {
  version_control: "github",
  scm_repo: "BJMX/testPatch01",
  scm_branch: "test",
  repo: "testPatchTrack/testPatch1",
  branch: "master",
  enabled: true,
};

async function json(response: Response): Promise<any> {
  expect(response.headers.get("content-type")).toStartWith("application/json");
  return response.json();
}

function rows() {
  const db = new Database(server.settings.databasePath, { readonly: true });
  try {
    return db.query("SELECT * FROM tracking ORDER BY id").all();
  } finally {
    db.close();
  }
}

describe("POST /tracking", () => {
  test("creates a tracking and answers 2001 with the posted object", async () => {
    const response = await server.call("/tracking", { method: "POST", auth: true, json: item });
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({
      code: "2001",
      msg: "Successful Operation!",
      data: item,
    });
    const list = await json(await server.call("/tracking"));
    expect(list.data).toEqual([{ ...item, scm_commit: null }]);
    expect(Object.keys(list.data[0]).sort()).toEqual([...TRACKING_FIELDS].sort());
  });

  test("upserts on (repo, branch) and keeps scm_commit when an update omits it", async () => {
    const withCommit = { ...item, branch: "next", scm_commit: "a".repeat(40) };
    await server.call("/tracking", { method: "POST", auth: true, json: withCommit });
    const update = { ...item, branch: "next", scm_branch: "dev", enabled: 0 };
    const response = await json(
      await server.call("/tracking", { method: "POST", auth: true, json: update }),
    );
    expect(response.code).toBe("2001");
    expect(response.data).toEqual(update);
    const stored = (
      await json(await server.call("/tracking?repo=testPatchTrack/testPatch1&branch=next"))
    ).data;
    expect(stored).toEqual([
      { ...item, branch: "next", scm_branch: "dev", enabled: false, scm_commit: "a".repeat(40) },
    ]);
    // The original CLI sends scm_commit: null on every add; that must not forget progress either.
    await server.call("/tracking", {
      method: "POST",
      auth: true,
      json: { ...update, scm_commit: null },
    });
    const again = (
      await json(await server.call("/tracking?repo=testPatchTrack/testPatch1&branch=next"))
    ).data;
    expect(again[0].scm_commit).toBe("a".repeat(40));
    // A given scm_commit replaces the stored one.
    await server.call("/tracking", {
      method: "POST",
      auth: true,
      json: { ...update, scm_commit: "b".repeat(40) },
    });
    const moved = (
      await json(await server.call("/tracking?repo=testPatchTrack/testPatch1&branch=next"))
    ).data;
    expect(moved[0].scm_commit).toBe("b".repeat(40));
  });

  test("every row gets an id", () => {
    const ids = rows().map((row) => (row as { id: number }).id);
    expect(ids.every((id) => Number.isInteger(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  test("accepts enabled as 0/1 and git upstream URLs", async () => {
    const gitItem = {
      ...item,
      version_control: "git",
      scm_repo: "https://git.example.org/x.git",
      branch: "b1",
      enabled: 1,
    };
    const response = await json(
      await server.call("/tracking", { method: "POST", auth: true, json: gitItem }),
    );
    expect(response.code).toBe("2001");
    const stored = (await json(await server.call("/tracking?branch=b1"))).data;
    expect(stored[0].enabled).toBe(true);
  });
});

describe("GET /tracking filters", () => {
  test("filters by repo, branch and enabled in every spelling", async () => {
    await server.call("/tracking", {
      method: "POST",
      auth: true,
      json: { ...item, repo: "other/pkg", branch: "off", enabled: false },
    });
    for (const word of ["true", "True", "1"]) {
      const data = (await json(await server.call(`/tracking?enabled=${word}`))).data;
      expect(data.length).toBeGreaterThan(0);
      expect(data.every((row: { enabled: boolean }) => row.enabled)).toBe(true);
    }
    for (const word of ["false", "False", "0"]) {
      const data = (await json(await server.call(`/tracking?enabled=${word}`))).data;
      expect(data.map((row: { branch: string }) => row.branch)).toContain("off");
      expect(data.every((row: { enabled: boolean }) => !row.enabled)).toBe(true);
    }
    const byRepo = (await json(await server.call("/tracking?repo=other/pkg"))).data;
    expect(byRepo).toHaveLength(1);
    const none = await json(await server.call("/tracking?repo=nothing/here"));
    expect(none).toEqual({ code: "2001", msg: "Successful Operation!", data: [] });
  });

  test("any other query key answers 4001", async () => {
    const response = await json(await server.call("/tracking?scm_repo=x"));
    expect(response.code).toBe("4001");
    expect(response.msg).toBe("Please enter the correct parameters");
    expect(response.data.error).toContain("scm_repo");
    const badEnabled = await json(await server.call("/tracking?enabled=maybe"));
    expect(badEnabled.code).toBe("4001");
    expect(badEnabled.data.field).toBe("enabled");
    const twice = await json(await server.call("/tracking?repo=a&repo=b"));
    expect(twice.code).toBe("4001");
  });
});

describe("DELETE /tracking", () => {
  test("deletes one branch, then all branches of a repo, then answers 6005", async () => {
    await server.call("/tracking", {
      method: "POST",
      auth: true,
      json: { ...item, repo: "del/pkg", branch: "a" },
    });
    await server.call("/tracking", {
      method: "POST",
      auth: true,
      json: { ...item, repo: "del/pkg", branch: "b" },
    });
    await server.call("/tracking", {
      method: "POST",
      auth: true,
      json: { ...item, repo: "del/pkg", branch: "c" },
    });
    const one = await json(
      await server.call("/tracking?repo=del/pkg&branch=a", { method: "DELETE", auth: true }),
    );
    expect(one).toEqual({ code: "2001", msg: "Successful Operation!", data: null });
    expect((await json(await server.call("/tracking?repo=del/pkg"))).data).toHaveLength(2);
    const all = await json(
      await server.call("/tracking?repo=del/pkg", { method: "DELETE", auth: true }),
    );
    expect(all.code).toBe("2001");
    expect((await json(await server.call("/tracking?repo=del/pkg"))).data).toHaveLength(0);
    const missing = await json(
      await server.call("/tracking?repo=del/pkg", { method: "DELETE", auth: true }),
    );
    expect(missing).toEqual({
      code: "6005",
      msg: "The tracking you want to delete does not exist",
      data: null,
    });
  });

  test("needs repo and accepts no other key", async () => {
    for (const query of ["", "?branch=master", "?repo=x&enabled=true"]) {
      const response = await json(
        await server.call(`/tracking${query}`, { method: "DELETE", auth: true }),
      );
      expect(response.code).toBe("4001");
    }
  });
});

describe("GET /issue", () => {
  test("lists issues with filters and rejects other keys", async () => {
    const db = new Database(server.settings.databasePath);
    db.run(
      "INSERT INTO issue (issue, repo, branch) VALUES ('I1ABCD', 'a/b', 'master'), ('I2ABCD', 'a/b', 'next')",
    );
    db.close();
    const all = await json(await server.call("/issue"));
    expect(all.data).toEqual([
      { issue: "I1ABCD", repo: "a/b", branch: "master" },
      { issue: "I2ABCD", repo: "a/b", branch: "next" },
    ]);
    const filtered = await json(await server.call("/issue?repo=a/b&branch=next"));
    expect(filtered.data).toEqual([{ issue: "I2ABCD", repo: "a/b", branch: "next" }]);
    expect((await json(await server.call("/issue?state=open"))).code).toBe("4001");
  });
});

describe("service endpoints", () => {
  test("/health reports the database", async () => {
    const response = await server.call("/health");
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: "ok", database: "ok" });
  });

  test("OpenAPI document lists the compatible routes with their schemas", async () => {
    const response = await server.call("/openapi/json");
    expect(response.status).toBe(200);
    const doc: any = await response.json();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(["/tracking", "/issue", "/health"]),
    );
    const post = doc.paths["/tracking"].post;
    const schema = JSON.stringify(post);
    for (const field of TRACKING_FIELDS) {
      expect(schema).toContain(field);
    }
    const page = await server.call("/openapi");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
  });

  test("HEAD / answers (the original CLI probes it) and connections are kept alive", async () => {
    const response = await server.call("/", { method: "HEAD" });
    expect([200, 404]).toContain(response.status);
    const listing = await server.call("/tracking");
    expect(listing.headers.get("connection") ?? "keep-alive").not.toBe("close");
  });
});
