/**
 * `doctor [--config FILE]`: checks this machine's settings.conf and everything it points at —
 * one ok/warn/fail line per check, exit 1 when one failed. Tokens are never printed.
 */
import { hasFailure, renderDoctor, runDoctor } from "../../src/doctor/checks.ts";
import { resolveSettingsPath } from "../../src/settings.ts";
import type { CliIo } from "../io.ts";

export interface DoctorOptions {
  config?: string;
}

export async function runDoctorCommand(options: DoctorOptions, io: CliIo): Promise<number> {
  const lines = await runDoctor({ path: resolveSettingsPath(options.config, io.env) });
  io.out(renderDoctor(lines));
  return hasFailure(lines) ? 1 : 0;
}
