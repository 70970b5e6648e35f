/**
 * Limits of one apply check, and the reason a check stops early. Archives and specs are untrusted
 * input, so every step that reads them works under these caps and a shared deadline.
 */

export interface SourceLimits {
  /** Largest archive (compressed bytes) that is downloaded and unpacked. */
  maxArchiveBytes: number;
  /** Largest total of unpacked file bytes. */
  maxUnpackedBytes: number;
  /** Most entries (files, folders, links) an archive may hold. */
  maxFiles: number;
  /** Milliseconds one check of one tracking may take, downloads included. */
  timeoutMs: number;
}

const MB = 1024 * 1024;

/** The limits settings.conf asks for (APPLY_CHECK_* keys). */
export function sourceLimits(settings: {
  applyCheckMaxArchiveMb: number;
  applyCheckMaxUnpackedMb: number;
  applyCheckMaxFiles: number;
  applyCheckTimeout: number;
}): SourceLimits {
  return {
    maxArchiveBytes: settings.applyCheckMaxArchiveMb * MB,
    maxUnpackedBytes: settings.applyCheckMaxUnpackedMb * MB,
    maxFiles: settings.applyCheckMaxFiles,
    timeoutMs: settings.applyCheckTimeout * 1000,
  };
}

/**
 * Defaults for src-openeuler: its largest archives are a few hundred MB (the kernel's is about
 * 200 MB and unpacks to about 1.4 GB in some 90,000 files), so 500 MB in, 4 GB and 300,000
 * entries out, and five minutes, pass every ordinary package while a bomb stops early.
 */
export const DEFAULT_SOURCE_LIMITS: SourceLimits = {
  maxArchiveBytes: 500 * MB,
  maxUnpackedBytes: 4096 * MB,
  maxFiles: 300_000,
  timeoutMs: 300_000,
};

/**
 * Why the sources could not be reproduced or a patch not checked. `reason` is a short phrase that
 * follows "not checked: " in the issue (e.g. "archive too large (612 MB, limit 500 MB)").
 */
export class NotCheckedError extends Error {
  constructor(readonly reason: string) {
    super(`not checked: ${reason}`);
    this.name = "NotCheckedError";
  }
}

/** A point in time after which every step gives up with "time limit". */
export class Deadline {
  private readonly at: number;

  constructor(
    readonly ms: number,
    now = Date.now(),
  ) {
    this.at = now + ms;
  }

  remainingMs(): number {
    return Math.max(0, this.at - Date.now());
  }

  check(): void {
    if (Date.now() >= this.at) throw this.error();
  }

  error(): NotCheckedError {
    return new NotCheckedError(`time limit (${Math.round(this.ms / 1000)} s) reached`);
  }
}

export function megabytes(bytes: number): string {
  const mb = bytes / (1024 * 1024);
  return `${mb >= 10 ? Math.round(mb) : mb.toFixed(1)} MB`;
}
