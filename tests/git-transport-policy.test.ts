import { describe, expect, test } from "bun:test";
import { transportOf, transportProblem } from "../src/scan/upstream/git-url.ts";
import { startTestServer } from "./helpers/test-server.ts";

const strict = startTestServer();
const permissive = startTestServer({ GIT_ALLOW_PROTOCOL: '"https:file"' });

function tracking(scm_repo: string) {
  return {
    version_control: "git",
    scm_repo,
    scm_branch: "main",
    repo: "src-openeuler/pkg",
    branch: "master",
    enabled: true,
  };
}

describe("the transport of a git URL, in GIT_ALLOW_PROTOCOL words", () => {
  const cases: [string, string][] = [
    ["https://example.org/x.git", "https"],
    ["HTTP://example.org/x.git", "http"],
    ["git://example.org/x.git", "git"],
    ["ssh://git@example.org/x.git", "ssh"],
    ["git+ssh://example.org/x.git", "ssh"],
    ["git@example.org:owner/x.git", "ssh"],
    ["file:///srv/git/x.git", "file"],
    ["/srv/git/x.git", "file"],
    ["ftp://example.org/x.git", "ftp"],
    ["ext::sh -c id", "ext"],
    ["fd::3", "fd"],
  ];
  for (const [url, transport] of cases) {
    test(`${url} → ${transport}`, () => expect(transportOf(url)).toBe(transport));
  }

  test("a refusal names the transport and the setting", () => {
    expect(transportProblem("https://example.org/x.git", "https:ssh")).toBeNull();
    expect(transportProblem("file:///x", "https:ssh")).toBe(
      `uses the 'file' transport, which GIT_ALLOW_PROTOCOL ("https:ssh") does not allow; the scanner could never read it`,
    );
  });
});

describe("POST /tracking refuses an upstream the scanner could never read", () => {
  for (const url of ["file:///srv/git/x.git", "/srv/git/x.git", "ftp://example.org/x.git"]) {
    test(`${url} under the default policy: 4001 naming GIT_ALLOW_PROTOCOL, nothing stored`, async () => {
      const response = await strict.call("/tracking", {
        method: "POST",
        auth: true,
        json: tracking(url),
      });
      const answer: any = await response.json();
      expect(answer.code).toBe("4001");
      expect(answer.data.field).toBe("scm_repo");
      expect(answer.data.error).toContain(`the '${transportOf(url)}' transport`);
      expect(answer.data.error).toContain('GIT_ALLOW_PROTOCOL ("https:http:git:ssh")');
      const list: any = await (await strict.call("/tracking")).json();
      expect(list.data).toEqual([]);
    });
  }

  test("the default transports are accepted", async () => {
    for (const url of ["https://example.org/x.git", "git@example.org:o/x.git", "git://h/x"]) {
      const answer: any = await (
        await strict.call("/tracking", { method: "POST", auth: true, json: tracking(url) })
      ).json();
      expect(answer.code).toBe("2001");
    }
  });

  test("a service that allows file accepts it, and refuses what it no longer allows", async () => {
    const file: any = await (
      await permissive.call("/tracking", {
        method: "POST",
        auth: true,
        json: tracking("file:///srv/git/x.git"),
      })
    ).json();
    expect(file.code).toBe("2001");
    const ssh: any = await (
      await permissive.call("/tracking", {
        method: "POST",
        auth: true,
        json: tracking("git@example.org:o/x.git"),
      })
    ).json();
    expect(ssh.code).toBe("4001");
    expect(ssh.data.error).toContain(`'ssh' transport, which GIT_ALLOW_PROTOCOL ("https:file")`);
  });
});
