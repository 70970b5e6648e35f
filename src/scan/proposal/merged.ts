/**
 * A proposal whose pull request a maintainer merged: its issue is closed too, with a short comment
 * naming the merged pull request, as a replaced proposal's issue is (publish.ts). Whether Gitee
 * closes the issue by itself depends on how the pull request was merged (its `close_related_issue`
 * merge option; forge-apis §1.10), so the issue's state is read first and an issue that is closed
 * already — by Gitee or by a maintainer — is left as it is, without a comment.
 *
 * One journaled step ("merged") of the extend run that noticed the merge, before the proposal is
 * recorded as ended: a retry or a crash repeats the step, and every part of it is safe to repeat
 * (the state is read again, the comment is looked for, closing a closed issue changes nothing).
 */
import type { Proposal } from "../../db/proposals.ts";
import type { RepoPath } from "../../forge/types.ts";
import type { PublishDeps } from "../publish.ts";
import { createOnce } from "../unanswered-creates.ts";
import { mergedIssueComment } from "./render.ts";

/** Closes the merged proposal's issue if it is still open. `mayExist`: the comment may be there. */
export async function closeMergedIssue(
  deps: PublishDeps,
  repo: RepoPath,
  runId: number,
  proposal: Proposal,
  mayExist: boolean,
): Promise<"closed" | "was closed"> {
  const { forge } = deps;
  const issue = proposal.issueNumber;
  const state = await forge.issueState(repo, issue);
  if (state === "closed" || state === "rejected") return "was closed";
  const comment = mergedIssueComment(proposal.pullNumber, proposal.pullUrl ?? "");
  await createOnce(deps, runId, `comment on #${issue}`, mayExist, (look, beforeSend) =>
    forge.ensureIssueComment(repo, issue, comment, look, beforeSend),
  );
  await forge.closeIssue(repo, issue);
  return "closed";
}
