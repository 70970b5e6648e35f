/** The bulk "unchanged" record of a scan slice: only trackings that truly stand at their head. */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { openDatabase } from "../src/db/database.ts";
import { getStatus } from "../src/db/status.ts";
import {
  deleteTrackings,
  listTrackings,
  setScmCommit,
  upsertTracking,
} from "../src/db/trackings.ts";
import { NotFoundError } from "../src/errors.ts";
import { recordUnchanged } from "../src/scan/unchanged.ts";
import type { HeadResult } from "../src/scan/upstream/types.ts";
import { tempDir } from "./helpers/temp.ts";

const HEAD = "a".repeat(40);

describe("recordUnchanged", () => {
  test("records those at their head; re-reads each row and skips open runs and errors", () => {
    const db = openDatabase(join(tempDir(), "db.sqlite"));
    for (const name of ["at-head", "moved", "open-run", "error", "disabled", "deleted", "behind"]) {
      upsertTracking(db, {
        version_control: "github",
        scm_repo: `up/${name}`,
        scm_branch: "main",
        scm_commit: name === "behind" ? "b".repeat(40) : HEAD,
        repo: `src-openeuler/${name}`,
        branch: "master",
        enabled: true,
      });
    }
    const read = listTrackings(db);
    // Changes after the slice was read: the bulk record must see them.
    setScmCommit(db, "src-openeuler/moved", "master", "c".repeat(40));
    db.run("UPDATE tracking SET enabled = 0 WHERE repo = 'src-openeuler/disabled'");
    deleteTrackings(db, "src-openeuler/deleted");
    const stamp = new Date().toISOString();
    db.query(
      `INSERT INTO publish_run (repo, branch, version_control, scm_repo, scm_branch, base_commit,
         head_commit, timestamp, work_branch, state, step, created_at, updated_at)
       VALUES ('src-openeuler/open-run', 'master', 'github', 'up/open-run', 'main', 'x', 'y', '0',
               'w', 'open', 'issue', ?, ?)`,
    ).run(stamp, stamp);
    const heads = (repo: string): HeadResult =>
      repo.endsWith("/error") ? { error: new NotFoundError("github", "gone") } : { sha: HEAD };
    const recorded = recordUnchanged(db, read, (tracking) => heads(tracking.repo));
    expect([...recorded].map((tracking) => tracking.repo)).toEqual(["src-openeuler/at-head"]);
    expect(getStatus(db, "src-openeuler/at-head", "master")).toMatchObject({
      lastOutcome: "unchanged",
      upstreamHead: HEAD,
      lastError: null,
    });
    for (const name of ["moved", "open-run", "error", "disabled", "behind"]) {
      expect(getStatus(db, `src-openeuler/${name}`, "master")).toBeNull();
    }
    db.close();
  });
});
