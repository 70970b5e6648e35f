/**
 * How the CLI trusts the server: the user guide's self-signed certificate (no subject alternative
 * name) is pinned and works with `--server 127.0.0.1:PORT`; any other certificate is rejected with
 * a message saying which certificate was presented; a CA-issued certificate still needs the right
 * host name; `--insecure` is the explicit way out.
 */
import { describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CliError } from "../cli/errors.ts";
import { resolveTrust } from "../cli/tls-trust.ts";
import { cli, guideAddArgs, startHttpsServer } from "./helpers/cli.ts";
import { tempDir } from "./helpers/temp.ts";
import { startTestServer } from "./helpers/test-server.ts";
import { makeSelfSignedCert } from "./helpers/tls.ts";

function fingerprint(path: string): string {
  return new X509Certificate(readFileSync(path)).fingerprint256;
}

function openssl(args: string[], cwd: string) {
  execFileSync("openssl", args, { cwd, stdio: "ignore" });
}

/** A throwaway CA and a certificate it issued with `san` (e.g. `IP:127.0.0.1`). */
function caIssued(san: string) {
  const dir = tempDir("pt-ca-");
  openssl(
    ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt"].concat(
      ["-subj", "/CN=test CA", "-days", "2"],
    ),
    dir,
  );
  openssl(
    [
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      "leaf.key",
      "-out",
      "leaf.csr",
      "-subj",
      "/CN=leaf",
    ],
    dir,
  );
  writeFileSync(join(dir, "ext.cnf"), `subjectAltName=${san}\n`);
  openssl(
    [
      "x509",
      "-req",
      "-in",
      "leaf.csr",
      "-CA",
      "ca.crt",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
    ].concat(["-out", "leaf.crt", "-days", "2", "-extfile", "ext.cnf"]),
    dir,
  );
  return { ca: join(dir, "ca.crt"), cert: join(dir, "leaf.crt"), key: join(dir, "leaf.key") };
}

function httpsServerWith(cert: string, key: string) {
  const server = startTestServer({
    PLAIN_HTTP: "False",
    CERT_FILE: `"${cert}"`,
    KEY_FILE: `"${key}"`,
  });
  return { ...server, hostPort: `127.0.0.1:${server.port}` };
}

describe("the user guide's certificate", () => {
  // Exactly as the guide makes it: rsa:4096, CN=self-signed, no subject alternative name.
  const server = startHttpsServer(4096);

  test("is pinned: --server 127.0.0.1:PORT works although no host name matches it", async () => {
    const result = await cli([
      "query",
      "--server",
      server.hostPort,
      "--table",
      "tracking",
      "--ca",
      server.cert.cert,
    ]);
    expect(result.err).toBe("");
    expect(result.code).toBe(0);
    expect(result.out).toBe("no rows: table tracking is empty\n");
  });

  test("add works over it, end to end", async () => {
    const result = await cli([...guideAddArgs(server.hostPort, server.cert.cert), "--no-check"]);
    expect(result.code).toBe(0);
    expect(server.trackings()).toHaveLength(1);
  });
});

describe("a certificate that is not the trusted one", () => {
  const server = startHttpsServer();
  const other = makeSelfSignedCert(tempDir(), 2048, "other");
  const addArgs = (trust: string[]) => [
    "add",
    "--server",
    server.hostPort,
    ...trust,
    "--user",
    "admin",
    "--password",
    "Test@123",
    "--version_control",
    "github",
    "--repo",
    "a/b",
    "--branch",
    "master",
    "--scm_repo",
    "c/d",
    "--scm_branch",
    "main",
    "--enabled",
    "true",
    "--no-check",
  ];

  test("another self-signed certificate with the same name is rejected, nothing sent", async () => {
    const result = await cli(addArgs(["--ca", other.cert]));
    expect(result.code).toBe(1);
    expect(result.err).toContain(
      `the TLS certificate of https://${server.hostPort} is not trusted (`,
    );
    expect(result.err).toContain(
      `the server presents: CN=self-signed, SHA-256 ${fingerprint(server.cert.cert)}`,
    );
    expect(result.err).toContain(
      `checked against: ${other.cert} (SHA-256 ${fingerprint(other.cert)})`,
    );
    expect(result.err).toContain("--insecure to skip the check");
    expect(server.trackings()).toEqual([]);
  });

  test("without --ca the system store (or the /etc file) does not trust it either", async () => {
    const result = await cli(["query", "--server", server.hostPort, "--table", "tracking"]);
    expect(result.code).toBe(1);
    expect(result.err).toContain("is not trusted");
  });

  test("--insecure opts out explicitly", async () => {
    const result = await cli(addArgs(["--insecure"]));
    expect(result.code).toBe(0);
    expect(server.trackings()).toHaveLength(1);
  });

  test("--ca and --insecure together, an unreadable --ca, a --ca without a certificate", async () => {
    let result = await cli(addArgs(["--ca", other.cert, "--insecure"]));
    expect(result.err).toContain("--ca and --insecure contradict each other");
    result = await cli(addArgs(["--ca", "/nonexistent.crt"]));
    expect(result.err).toContain("--ca /nonexistent.crt cannot be read (ENOENT)");
    result = await cli(addArgs(["--ca", other.key]));
    expect(result.err).toContain(`${other.key} holds no PEM certificate`);
    expect(result.code).toBe(1);
  });
});

describe("a certificate issued by a trusted CA", () => {
  test("is accepted for the host name it names", async () => {
    const issued = caIssued("IP:127.0.0.1");
    const server = httpsServerWith(issued.cert, issued.key);
    const result = await cli([
      "query",
      "--server",
      server.hostPort,
      "--ca",
      issued.ca,
      "--table",
      "issue",
    ]);
    expect(result.err).toBe("");
    expect(result.code).toBe(0);
  });

  test("is rejected for another host name: pinning never replaces the name check for CAs", async () => {
    const issued = caIssued("DNS:example.org");
    const server = httpsServerWith(issued.cert, issued.key);
    const result = await cli([
      "query",
      "--server",
      server.hostPort,
      "--ca",
      issued.ca,
      "--table",
      "issue",
    ]);
    expect(result.code).toBe(1);
    expect(result.err).toContain("is not trusted");
    expect(result.err).toContain("the server presents: CN=leaf");
  });
});

describe("resolveTrust", () => {
  test("--ca, else the default file when readable, else the system store", () => {
    const cert = makeSelfSignedCert(tempDir());
    expect(resolveTrust({ ca: cert.cert }, "/nonexistent")).toMatchObject({
      kind: "file",
      path: cert.cert,
      fingerprints: [fingerprint(cert.cert)],
    });
    expect(resolveTrust({}, cert.cert)).toMatchObject({ kind: "file", path: cert.cert });
    expect(resolveTrust({}, "/nonexistent/self-signed.crt")).toEqual({ kind: "system" });
    expect(resolveTrust({ insecure: true }, cert.cert)).toEqual({ kind: "insecure" });
    expect(() => resolveTrust({ ca: "/nonexistent" })).toThrow(CliError);
  });
});
