/**
 * The tracked branch's spec, read once per attempt of a run and shared by the steps that need it:
 * the already-carried check reads it, the new proposal's spec is edited from it, and an extension
 * checks the proposal's base against it. One read instead of three; a read older than the run's
 * view trusts its reads (a long apply check ran in between) is made again, so an edit never starts
 * from a stale copy. Through a run's view (plan-reads.ts) the read is the root listing's entry and
 * its blob from the source cache, so the content is always the blob whose sha is recorded.
 */
import type { Forge, ForgeFile, RepoPath } from "../../forge/types.ts";
import { RUN_READS_FRESH_MS as FRESH_MS } from "../plan-reads.ts";

export class TrackedSpec {
  private last: { at: number; file: Promise<ForgeFile | null> } | null = null;

  constructor(
    private readonly forge: Forge,
    private readonly repo: RepoPath,
    readonly branch: string,
    private readonly clock: () => number = Date.now,
  ) {}

  get path(): string {
    return `${this.repo.name}.spec`;
  }

  /** The spec on the tracked branch, or null when the package has none. */
  read(): Promise<ForgeFile | null> {
    const now = this.clock();
    if (!this.last || now - this.last.at > FRESH_MS) {
      const file = this.forge.readFile(this.repo, this.branch, this.path);
      // A failed read is not kept: the next step (or attempt) asks again.
      file.catch(() => {
        if (this.last?.file === file) this.last = null;
      });
      this.last = { at: now, file };
    }
    return this.last.file;
  }
}
