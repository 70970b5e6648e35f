/**
 * The downstream forges the publish tests run against: gitee.com (a missing file is `200 []`),
 * a Gitee-compatible server answering missing files with 404, and GitCode (forge-apis §10.3).
 * A test file imported as `./x.test.ts?forge=gitcode` runs its whole suite in that mode.
 */
import type { ForgeName } from "../../src/forge/profiles.ts";
import type { GiteeEmulatorOptions } from "../emulators/gitee.ts";
import type { TokenCarrier } from "../emulators/gitee-log.ts";

export interface ForgeMode {
  name: string;
  /** The client's profile (DOWNSTREAM_FORGE). */
  profile: ForgeName;
  emulator: Pick<GiteeEmulatorOptions, "flavor" | "missingFile">;
  /** Where the client's token is expected to travel. */
  tokenVia: TokenCarrier;
}

export const FORGE_MODES: Readonly<Record<string, ForgeMode>> = {
  gitee: { name: "gitee", profile: "gitee", emulator: { flavor: "gitee" }, tokenVia: "header" },
  "gitee-404": {
    name: "gitee, missing files 404",
    profile: "gitee",
    emulator: {
      flavor: "gitee",
      missingFile: { status: 404, json: { message: "Not Found File" } },
    },
    tokenVia: "header",
  },
  gitcode: {
    name: "gitcode",
    profile: "gitcode",
    emulator: { flavor: "gitcode" },
    tokenVia: "private-token",
  },
};

/** The mode named by `?forge=` in a module's URL; gitee when there is none. */
export function forgeModeOf(moduleUrl: string): ForgeMode {
  const name = new URL(moduleUrl).searchParams.get("forge") ?? "gitee";
  const mode = FORGE_MODES[name];
  if (!mode) throw new Error(`unknown forge mode ${name}`);
  return mode;
}
