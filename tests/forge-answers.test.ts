/**
 * "Absent" on Gitee-shaped forges: gitee.com answers a missing file with `200 []`, compatible
 * servers with a 404 (Gitee-compatible "Not Found File", Gitee Enterprise "404 Not Found", an
 * nginx page) and GitCode with its own error shape (404, some clients also report 400). Each
 * must read as "absent" when the repository and branch exist — and stay an error when they do
 * not. The audit of every other call is at the end.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { AuthFailedError, NotFoundError } from "../src/errors.ts";
import { GiteeForge } from "../src/forge/gitee.ts";
import { FORGE_PROFILES, type ForgeName } from "../src/forge/profiles.ts";
import { silentLogger } from "../src/log.ts";
import { type GiteeEmulatorOptions, startGiteeEmulator } from "./emulators/gitee.ts";

const REPO = { owner: "src-openeuler", name: "pkg" };

interface Variant {
  name: string;
  flavor: ForgeName;
  missingFile?: GiteeEmulatorOptions["missingFile"];
}

/** Every wording of "no such file" the client must survive. */
const VARIANTS: Variant[] = [
  { name: "gitee.com: 200 []", flavor: "gitee" },
  {
    name: 'Gitee-compatible: 404 "Not Found File"',
    flavor: "gitee",
    missingFile: { status: 404, json: { message: "Not Found File" } },
  },
  {
    name: 'Gitee Enterprise: 404 "404 Not Found"',
    flavor: "gitee",
    missingFile: { status: 404, json: { message: "404 Not Found" } },
  },
  {
    name: "Gitee-compatible: 404 with the OAuth-style body",
    flavor: "gitee",
    missingFile: { status: 404, json: { status: "404", error: "Not Found" } },
  },
  { name: "GitCode: 404 error_code/error_message", flavor: "gitcode" },
  {
    name: "GitCode: 400 for a missing file",
    flavor: "gitcode",
    missingFile: { status: 400, json: { message: "file not exist" } },
  },
];

const emulators: { stop(): Promise<void> }[] = [];
afterAll(async () => {
  await Promise.all(emulators.map((emulator) => emulator.stop()));
});

function setUp(variant: Variant) {
  const gitee = startGiteeEmulator({ flavor: variant.flavor, missingFile: variant.missingFile });
  emulators.push(gitee);
  gitee.addRepo("src-openeuler/pkg", { files: { "pkg.spec": "Name: pkg\n" } });
  const forge = new GiteeForge({
    baseUrl: gitee.url,
    token: gitee.token,
    log: silentLogger,
    profile: FORGE_PROFILES[variant.flavor],
    retries: 0,
    timeoutMs: 2000,
  });
  return { gitee, forge };
}

for (const variant of VARIANTS) {
  describe(variant.name, () => {
    const { gitee, forge } = setUp(variant);

    test("a missing file on an existing branch is absent", async () => {
      expect(await forge.readFile(REPO, "master", "nope.patch")).toBeNull();
      const read = gitee.requests.find((request) => request.path.endsWith("/nope.patch"));
      expect(read?.status).toBe(
        variant.missingFile?.status ?? (variant.flavor === "gitcode" ? 404 : 200),
      );
    });

    test("an existing file is read", async () => {
      const file = await forge.readFile(REPO, "master", "pkg.spec");
      expect(new TextDecoder().decode(file?.content)).toBe("Name: pkg\n");
    });

    test("a missing branch stays an error, naming repository and branch", async () => {
      const error = await forge.readFile(REPO, "no-such-branch", "pkg.spec").catch((e) => e);
      expect(error).toBeInstanceOf(NotFoundError);
      expect(String(error.message)).toMatch(/no-such-branch|Branch Not Found/);
    });

    test("a missing repository stays an error", async () => {
      const error = await forge
        .readFile({ owner: "src-openeuler", name: "gone" }, "master", "gone.spec")
        .catch((e) => e);
      expect(error).toBeInstanceOf(NotFoundError);
    });

    test("ensureFile creates a missing file with one write, and finds it afterwards", async () => {
      gitee.resetLog();
      const bytes = new TextEncoder().encode("patch\n");
      expect(await forge.ensureFile(REPO, "master", "a.patch", bytes, "add")).toBe("created");
      expect(gitee.writes().map((request) => `${request.method} ${request.path}`)).toEqual([
        "POST /repos/src-openeuler/pkg/contents/a.patch",
      ]);
      expect(await forge.ensureFile(REPO, "master", "a.patch", bytes, "add")).toBe("existed");
      expect(gitee.repo("src-openeuler/pkg").branches.master?.files["a.patch"]?.text).toBe(
        "patch\n",
      );
    });

    test("a missing folder lists empty; on a missing branch it stays an error", async () => {
      expect(await forge.listFiles(REPO, "master", "no/such/dir")).toEqual([]);
      expect(await forge.listFiles(REPO, "master")).toContainEqual(
        expect.objectContaining({ path: "pkg.spec" }),
      );
      const error = await forge.listFiles(REPO, "nope", "dir").catch((e) => e);
      expect(error).toBeInstanceOf(NotFoundError);
    });

    test("the existence check is cached: a second missing file costs one request", async () => {
      await forge.readFile(REPO, "master", "x1.patch");
      gitee.resetLog();
      expect(await forge.readFile(REPO, "master", "x2.patch")).toBeNull();
      expect(gitee.requests).toHaveLength(1);
    });
  });
}

describe("the audit of the other calls", () => {
  const { gitee, forge } = setUp({ name: "gitee", flavor: "gitee" });

  test("issue and pull lists answering 404 for an existing repository are empty", async () => {
    gitee.fault(
      { method: "GET", path: /\/(issues|pulls)$/, times: 2 },
      { answer: { status: 404, json: { message: "404 Not Found" } } },
    );
    expect(await forge.findIssue(REPO, "[patch tracking] x")).toBeNull();
    expect(await forge.findPull(REPO, "patch-tracking/1", "master")).toBeNull();
  });

  test("a pull request's comment list answering 404 is empty; a comment is then added once", async () => {
    gitee.addBranch("src-openeuler/pkg", "patch-tracking/c");
    gitee.setFile("src-openeuler/pkg", "patch-tracking/c", "c.patch", "c\n");
    const pull = await forge.ensurePull(REPO, {
      head: "patch-tracking/c",
      base: "master",
      title: "t",
      body: "b",
    });
    gitee.fault(
      { method: "GET", path: /\/comments$/, times: 1 },
      { answer: { status: 404, json: { message: "404 Not Found" } } },
    );
    expect(await forge.ensurePullComment(REPO, pull.number, "added", true)).toBe("created");
    expect(await forge.ensurePullComment(REPO, pull.number, "added", true)).toBe("existed");
  });

  test("lists of a repository that does not exist stay errors", async () => {
    const gone = { owner: "src-openeuler", name: "gone" };
    expect(await forge.findIssue(gone, "t").catch((e) => e)).toBeInstanceOf(NotFoundError);
    expect(await forge.findPull(gone, "h", "master").catch((e) => e)).toBeInstanceOf(NotFoundError);
  });

  test("a branch created from a start point that does not exist is an error, not absent", async () => {
    const error = await forge.ensureBranch(REPO, "patch-tracking/2", "nope").catch((e) => e);
    expect(error).toBeInstanceOf(NotFoundError);
  });

  test("writing a file to a missing branch is an error (404 Branch Not Found)", async () => {
    const error = await forge
      .writeFile(REPO, "nope", "b.patch", new Uint8Array([1]), "m", null)
      .catch((e) => e);
    expect(error).toBeInstanceOf(NotFoundError);
  });
});

describe("GitCode's other differences", () => {
  const { gitee, forge } = setUp({ name: "gitcode", flavor: "gitcode" });

  test("the token travels in PRIVATE-TOKEN", async () => {
    await forge.whoami();
    expect(gitee.requests.at(-1)?.tokenVia).toBe("private-token");
  });

  test("a missing token (400 on GitCode) is an authentication failure", async () => {
    const anonymous = new GiteeForge({
      baseUrl: gitee.url,
      token: "",
      log: silentLogger,
      profile: FORGE_PROFILES.gitcode,
      retries: 0,
    });
    const error = await anonymous.whoami().catch((e) => e);
    expect(error).toBeInstanceOf(AuthFailedError);
    expect(error.status).toBe(400);
    expect(error.message).toContain("access_token is required");
  });

  test("an issue is edited with POST (Gitee: PATCH)", async () => {
    const issue = await forge.ensureIssue(REPO, "[patch tracking] t", "body");
    await forge.updateIssue(REPO, issue.number, "new body");
    expect(gitee.requests.at(-1)?.method).toBe("POST");
    expect(gitee.repo("src-openeuler/pkg").issues[0]?.body).toBe("new body");

    const { gitee: giteeMode, forge: giteeForge } = setUp({ name: "gitee", flavor: "gitee" });
    const other = await giteeForge.ensureIssue(REPO, "[patch tracking] t", "body");
    await giteeForge.updateIssue(REPO, other.number, "edited");
    expect(giteeMode.requests.at(-1)?.method).toBe("PATCH");
    expect(giteeMode.repo("src-openeuler/pkg").issues[0]?.body).toBe("edited");
  });

  test("links point at the web site, not the api host", () => {
    const web = new GiteeForge({
      baseUrl: "https://api.gitcode.com/api/v5",
      token: "t",
      log: silentLogger,
      profile: FORGE_PROFILES.gitcode,
    });
    expect(web.webUrl(REPO)).toBe("https://gitcode.com/src-openeuler/pkg");
  });
});
