/**
 * The status page at `/` (and `/status`): every tracking with its last scan, outcome, error,
 * newest issue/pull request, open proposal and the commits passed over as already carried,
 * failing ones first, a summary and a 30-day chart of proposed patches. Server-rendered HTML and
 * CSS with no script, read-only, and nothing secret on it; its Content-Security-Policy admits
 * only its own style block (by hash), so no `style=` attributes.
 */
import type { Database } from "bun:sqlite";
import { Elysia, t } from "elysia";
import {
  OVERVIEW_STATES,
  type OverviewState,
  overviewPage,
  overviewStateOf,
} from "../db/overview-pages.ts";
import {
  outcomeText,
  proposedPerDay,
  type TrackingOverview,
  trackingCounts,
} from "../db/status.ts";
import type { BreakerView } from "../scan/circuit-breaker.ts";
import { MAX_FIELD_LENGTH } from "../tracking-rules.ts";
import { VERSION } from "../version.ts";
import { htmlPage } from "./page-security.ts";
import {
  pickLanguage,
  type StatusLanguage,
  type StatusText,
  statusText,
} from "./status-page-text.ts";

const STATES = OVERVIEW_STATES;
/** Rows per page: a browser lays out a few hundred rows instantly, ten thousand take seconds. */
export const PAGE_SIZE = 100;
type StateFilter = OverviewState;

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/** Only http(s) links are rendered as links; anything else is shown as text. */
function link(url: string | null, text: string): string {
  if (!url || !/^https?:\/\//i.test(url)) return escapeHtml(text);
  return `<a href="${escapeHtml(url)}">${escapeHtml(text)}</a>`;
}

function shortTime(iso: string | null, text: StatusText): string {
  return iso ? iso.replace("T", " ").slice(0, 19) : text.never;
}

function chart(days: { day: string; patches: number }[], text: StatusText): string {
  // Nothing to draw: say so, instead of an empty box that looks like a rendering fault.
  if (days.every((day) => day.patches === 0)) {
    return `<div class="chart empty" id="chart-empty">${escapeHtml(text.noProposals(days.length))}</div>`;
  }
  const width = 600;
  const height = 80;
  const max = Math.max(1, ...days.map((day) => day.patches));
  const barWidth = width / days.length;
  const bars = days
    .map((day, index) => {
      const barHeight = Math.round((day.patches / max) * (height - 14));
      const x = (index * barWidth).toFixed(1);
      return `<rect x="${x}" y="${height - barHeight}" width="${(barWidth - 2).toFixed(1)}" height="${barHeight}"><title>${day.day}: ${day.patches}</title></rect>`;
    })
    .join("");
  return `<svg class="chart" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(text.chartLabel(days.length))}">${bars}<text x="0" y="10">${escapeHtml(text.chartMax(max))}</text></svg>`;
}

function row(item: TrackingOverview, text: StatusText): string {
  const { tracking, status, openRun, lastRun } = item;
  const state = overviewStateOf(item);
  const upstream =
    tracking.version_control === "github"
      ? link(`https://github.com/${tracking.scm_repo}`, tracking.scm_repo)
      : escapeHtml(tracking.scm_repo);
  // A waiting tracking's reason is in its outcome; its last error stays the last real failure.
  const error =
    openRun?.lastError ?? (status.lastOutcome === "waiting" ? "" : status.lastError) ?? "";
  const said = tracking.enabled || status.lastScanAt ? outcomeLabel(status, text) : "—";
  // A failed run backing off says when it is tried again.
  const retry =
    openRun?.nextAttemptAt && Date.parse(openRun.nextAttemptAt) > Date.now()
      ? text.nextTry(shortTime(openRun.nextAttemptAt, text))
      : "";
  const outcome = openRun
    ? `${said} (${text.openRun(openRun.step, openRun.attempts)}${retry})`
    : said;
  const latest = lastRun
    ? `${link(lastRun.issueUrl, `#${lastRun.issueNumber ?? "?"}`)} ${link(lastRun.pullUrl, `!${lastRun.pullNumber ?? "?"}`)}`
    : "—";
  const proposal = item.proposal
    ? `${link(item.proposal.pullUrl, `!${item.proposal.pullNumber}`)} <small>${escapeHtml(text.commits(item.proposal.commits.length))}</small>`
    : "—";
  const passed =
    item.passedOver.count === 0
      ? "—"
      : `${item.passedOver.count}: ${item.passedOver.latest
          .map(
            (commit) =>
              `<small>${escapeHtml(commit.sha.slice(0, 7))} ${escapeHtml(commit.reason)}</small>`,
          )
          .join("<br>")}`;
  return `<tr class="${state}"><td>${upstream}<br><small>${escapeHtml(tracking.scm_branch)}</small></td><td>${escapeHtml(tracking.repo)}<br><small>${escapeHtml(tracking.branch)}</small></td><td>${tracking.enabled ? text.yes : text.no}</td><td>${shortTime(status.lastScanAt, text)}</td><td><span class="badge">${escapeHtml(text.states[state])}</span> ${escapeHtml(outcome)}</td><td class="error">${escapeHtml(error)}</td><td>${latest}</td><td>${proposal}</td><td>${passed}</td></tr>`;
}

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem;color:#1d2330;background:#fafbfc}
h1{font-size:1.3rem;margin:0 0 1rem}
.summary{display:flex;gap:1rem;flex-wrap:wrap;align-items:flex-end;margin-bottom:1rem}
.card{background:#fff;border:1px solid #d9dee7;border-radius:6px;padding:.5rem .9rem;min-width:8rem}
.card b{display:block;font-size:1.4rem}
.chart{width:600px;height:80px;background:#fff;border:1px solid #d9dee7;border-radius:6px}
.chart rect{fill:#3b82f6}.chart text{font-size:9px;fill:#667}
form{margin:1rem 0;display:flex;gap:.5rem;align-items:center}
table{border-collapse:collapse;width:100%;table-layout:fixed;background:#fff}
th,td{border-bottom:1px solid #e5e8ee;padding:.35rem .5rem;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{background:#eef1f6;position:sticky;top:0}
.pager{margin:.5rem 0}
.w5{width:5rem}.w9{width:9rem}.w10{width:10rem}
small{color:#667}.error{color:#b42318}
.badge{display:inline-block;border-radius:3px;padding:0 .35rem;font-size:.8rem;background:#e5e8ee}
tr.failing .badge{background:#fde2e1;color:#b42318}tr.open .badge{background:#fff3cd}
tr.ok .badge{background:#dcfce7;color:#166534}tr.disabled{color:#889}
tr.waiting .badge{background:#fff3cd;color:#8a5a00}tr.pending .badge{background:#e0e7ff;color:#3730a3}
.chart.empty{display:flex;align-items:center;justify-content:center;color:#667;font-style:italic}
.outage{background:#fff4e5;border:1px solid #f5a524;border-left:6px solid #d97706;border-radius:6px;padding:.6rem .9rem;margin:0 0 .6rem}
.outage b{color:#92400e}
`;

function pageLink(
  filter: { repo?: string; state?: StateFilter },
  page: number,
  text: string,
): string {
  const params = new URLSearchParams();
  if (filter.repo) params.set("repo", filter.repo);
  if (filter.state && filter.state !== "all") params.set("state", filter.state);
  params.set("page", String(page));
  return `<a href="/status?${escapeHtml(params.toString())}">${text}</a>`;
}

/** One banner per unreachable forge: since when, the next probe, and the last error. */
function outageBanners(outages: BreakerView[], text: StatusText): string {
  return outages
    .map((outage) => {
      const since = shortTime(outage.since, text);
      const probe = shortTime(outage.nextProbeAt, text);
      return `<div class="outage" role="alert" data-forge="${escapeHtml(outage.forge)}"><b>${escapeHtml(text.unreachable(outage.forge))}</b> ${escapeHtml(text.outage(since, probe, outage.failedProbes))}<br><small>${escapeHtml(text.lastErrorIs(outage.lastError ?? "—"))}</small></div>`;
    })
    .join("\n");
}

/** The outcome column: `pending` when never scanned, `waiting: <reason>`, else the outcome. */
function outcomeLabel(status: TrackingOverview["status"], text: StatusText): string {
  const plain = outcomeText(status);
  if (status.lastScanAt === null || status.lastOutcome === null) return text.states.pending;
  if (status.lastOutcome === "waiting")
    return `${text.outcomes.waiting}: ${status.lastError ?? ""}`;
  return text.outcomes[status.lastOutcome] ?? plain;
}

export function renderStatusPage(
  db: Database,
  filter: { repo?: string; state?: StateFilter; page?: number },
  language: StatusLanguage = "en",
  outages: BreakerView[] = [],
): string {
  const text = statusText(language);
  const counts = trackingCounts(db);
  const days = proposedPerDay(db, 30);
  const lastWeek = days.slice(-7).reduce((sum, day) => sum + day.patches, 0);
  const state = filter.state ?? "all";
  // Filtered and cut to one page in SQL: 200,000 trackings cost the same as a hundred.
  const pageOf = (page: number) =>
    overviewPage(db, {
      search: filter.repo,
      state,
      offset: (page - 1) * PAGE_SIZE,
      limit: PAGE_SIZE,
    });
  let page = Math.max(1, Math.floor(filter.page ?? 1));
  let result = pageOf(page);
  const pages = Math.max(1, Math.ceil(result.total / PAGE_SIZE));
  if (page > pages) {
    page = pages;
    result = pageOf(page);
  }
  const total = result.total;
  const first = (page - 1) * PAGE_SIZE;
  const shown = result.items;
  const range = total === 0 ? "0" : `${first + 1}–${first + shown.length}`;
  const pager = [
    page > 1 ? pageLink(filter, page - 1, escapeHtml(text.previous)) : "",
    `<span id="page">${escapeHtml(text.pageOf(page, pages))}</span>`,
    page < pages ? pageLink(filter, page + 1, escapeHtml(text.next)) : "",
  ].join(" ");
  const options = STATES.map(
    (name) =>
      `<option value="${name}"${name === state ? " selected" : ""}>${escapeHtml(text.states[name])}</option>`,
  ).join("");
  return `<!doctype html>
<html lang="${text.htmlLang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(text.title)}</title><style>${STYLE}</style></head>
<body>
<h1>${escapeHtml(text.title)} <small>v${escapeHtml(VERSION)}</small></h1>
${outageBanners(outages, text)}
<div class="summary">
<div class="card">${escapeHtml(text.tracked)}<b id="tracked">${counts.total}</b></div>
<div class="card">${escapeHtml(text.enabled)}<b id="enabled">${counts.enabled}</b></div>
<div class="card">${escapeHtml(text.failing)}<b id="failing">${counts.failing}</b></div>
<div class="card">${escapeHtml(text.proposedLastWeek)}<b id="proposed">${lastWeek}</b></div>
${chart(days, text)}
</div>
<form method="get" action="/status">
<label>${escapeHtml(text.repository)} <input name="repo" value="${escapeHtml(filter.repo ?? "")}" placeholder="owner/name"></label>
<label>${escapeHtml(text.state)} <select name="state">${options}</select></label>
<button type="submit">${escapeHtml(text.filter)}</button>
<span id="shown">${escapeHtml(text.shown(range, total))}</span>
</form>
<nav class="pager">${pager}</nav>
<table>
<thead><tr><th>${escapeHtml(text.upstream)}</th><th>${escapeHtml(text.downstream)}</th><th class="w5">${escapeHtml(text.enabled)}</th><th class="w10">${escapeHtml(text.lastScan)}</th><th>${escapeHtml(text.outcome)}</th><th>${escapeHtml(text.lastError)}</th><th class="w9">${escapeHtml(text.newest)}</th><th class="w9">${escapeHtml(text.openProposal)}</th><th>${escapeHtml(text.passedOver)}</th></tr></thead>
<tbody>
${shown.map((item) => row(item, text)).join("\n")}
</tbody>
</table>
</body></html>`;
}

export function statusPageRoutes({ db, outages }: { db: Database; outages?: () => BreakerView[] }) {
  const query = t.Object(
    {
      repo: t.Optional(t.String({ maxLength: MAX_FIELD_LENGTH, error: "repo must be text" })),
      page: t.Optional(t.Numeric({ minimum: 1, error: "page must be a number from 1" })),
      state: t.Optional(
        t.Union(
          STATES.map((name) => t.Literal(name)),
          { error: `state must be one of ${STATES.join(", ")}` },
        ),
      ),
    },
    { additionalProperties: false },
  );
  const page = ({
    query,
    request,
  }: {
    query: { repo?: string; state?: StateFilter; page?: number };
    request: Request;
  }) => {
    const language = pickLanguage(request.headers.get("accept-language"));
    // The answer depends on Accept-Language: say so to any cache in between.
    const answer = htmlPage(renderStatusPage(db, query, language, outages?.() ?? []));
    answer.headers.set("vary", "Accept-Language");
    return answer;
  };
  const detail = {
    summary: "Status page",
    description:
      "Human-readable overview of every tracking, in Chinese when Accept-Language prefers zh, else in English.",
  };
  return new Elysia().get("/", page, { query, detail }).get("/status", page, { query, detail });
}
