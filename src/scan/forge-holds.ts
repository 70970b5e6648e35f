/**
 * Whether a forge may be asked now: not while its circuit breaker is open (it is unreachable),
 * nor while its service is parked by a rate limit. A scan asks before every forge it would call,
 * and so do the dry run and the fleet plan, so a plan never sends a forge what a scan would not;
 * the reason is what the tracking's status (or the plan's line) shows.
 */
import type { Tracking } from "../db/trackings.ts";
import type { Service } from "../errors.ts";
import { type CircuitBreakers, upstreamForge } from "./circuit-breaker.ts";

/** The scanner's view of the forges (its breakers and rate-limit parking). */
export interface ForgeHolds {
  breakers?: CircuitBreakers;
  /** The time until which a service refuses requests, if it is parked. */
  parkedUntil: (service: Service) => number | null;
}

export interface Hold {
  /** The scan's outcome for a tracking held back this way. */
  outcome: "waiting" | "parked";
  /** e.g. `github unreachable since 2026-…`, `Gitee is rate limited until 2026-…`. */
  reason: string;
}

/** Why `forge` (of `service`, `name` in messages) may not be asked now; null when it may. */
export function holdOf(
  holds: ForgeHolds,
  forge: string,
  service: Service,
  name: string,
): Hold | null {
  if (holds.breakers?.isOpen(forge)) {
    return { outcome: "waiting", reason: holds.breakers.waitingReason(forge) };
  }
  const until = holds.parkedUntil(service);
  if (until === null) return null;
  return {
    outcome: "parked",
    reason: `${name} is rate limited until ${new Date(until).toISOString()}`,
  };
}

/** The hold on a tracking's upstream: GitHub, or the host of its git URL. */
export function upstreamHold(holds: ForgeHolds, tracking: Tracking): Hold | null {
  const forge = upstreamForge(tracking.version_control, tracking.scm_repo);
  return holdOf(holds, forge, tracking.version_control, tracking.version_control);
}
