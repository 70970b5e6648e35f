/** `/issue`: the Gitee issues the service has opened. */
import type { Database } from "bun:sqlite";
import { Elysia } from "elysia";
import { listIssues } from "../db/issues.ts";
import { success } from "./envelope.ts";
import { IssueQuery } from "./schemas.ts";

export function issueRoutes({ db }: { db: Database }) {
  return new Elysia({ prefix: "/issue" }).get(
    "",
    ({ query }) => success(listIssues(db, { repo: query.repo, branch: query.branch })),
    {
      query: IssueQuery,
      detail: {
        summary: "List the issues the service created",
        description: "Filter by repo and branch.",
      },
    },
  );
}
