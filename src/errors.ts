/**
 * The few typed errors every adapter (GitHub, git, Gitee) translates its failures into, at its
 * edge. The scheduler decides retry / park / fail from the class, never from message text.
 */

export type Service = "github" | "git" | "gitee";

export class ServiceError extends Error {
  constructor(
    readonly service: Service,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The service refuses more requests until `resetAt` (epoch milliseconds). Park, then retry. */
export class RateLimitedError extends ServiceError {
  constructor(
    service: Service,
    message: string,
    readonly resetAt: number,
    status?: number,
  ) {
    super(service, message, status);
  }
}

/** The repository, branch, file or commit does not exist (or is invisible to the token). */
export class NotFoundError extends ServiceError {}

/** A write collided with another (file exists, stale blob sha). Re-read and decide again. */
export class ConflictError extends ServiceError {}

/** The token was refused. Retrying will not help. */
export class AuthFailedError extends ServiceError {}

/**
 * How a request failed to reach a working forge: no connection (`refused`, `dns`, `tls`,
 * `proxy`), no answer (`timeout`, `reset`), or an answer from a failing server (`server`, 5xx).
 * These are the failures that count towards opening a forge's circuit breaker.
 */
export type TransportFailure = "refused" | "dns" | "tls" | "proxy" | "timeout" | "reset" | "server";

/** Network failure, timeout, 5xx: worth retrying later. */
export class TransientError extends ServiceError {
  constructor(
    service: Service,
    message: string,
    status?: number,
    /** Set when the forge itself could not be reached or is failing (see TransportFailure). */
    readonly transport: TransportFailure | null = null,
  ) {
    super(service, message, status);
  }
}

/** The forge rejected the request as invalid (a 4xx other than the above). */
export class RejectedError extends ServiceError {}

/**
 * The upstream branch no longer contains the last processed commit (force-push or rewrite).
 * Nothing may be proposed until an operator decides where to resume.
 */
export class DivergedError extends ServiceError {
  constructor(
    service: Service,
    message: string,
    readonly base: string,
    readonly head: string,
  ) {
    super(service, message);
  }
}
