/**
 * The status page's words in each language it speaks. The page picks one from the browser's
 * `Accept-Language`; data, layout and element ids are the same in every language, so a key added
 * here must be added to every language (the types insist).
 */
import type { ScanOutcome } from "../db/status.ts";

export type StatusLanguage = "en" | "zh-CN";

type Phrase = (...values: (string | number)[]) => string;

const en = {
  htmlLang: "en",
  title: "patch-tracking status",
  tracked: "Tracked",
  enabled: "Enabled",
  failing: "Failing",
  proposedLastWeek: "Patches proposed, 7 days",
  chartLabel: ((days) => `Patches proposed per day, last ${days} days`) as Phrase,
  chartMax: ((max) => `max ${max}/day`) as Phrase,
  repository: "Repository",
  state: "State",
  filter: "Filter",
  shown: ((range, total) => `${range} of ${total}`) as Phrase,
  previous: "« previous",
  next: "next »",
  pageOf: ((page, pages) => `page ${page} of ${pages}`) as Phrase,
  upstream: "Upstream",
  downstream: "Downstream",
  lastScan: "Last scan (UTC)",
  outcome: "Outcome",
  lastError: "Last error",
  newest: "Newest issue / PR",
  openProposal: "Open proposal",
  passedOver: "Passed over",
  commits: ((count) => (count === 1 ? "1 commit" : `${count} commits`)) as Phrase,
  yes: "yes",
  no: "no",
  never: "never",
  openRun: ((step, attempts) => `run at ${step}, ${attempts} failed attempts`) as Phrase,
  nextTry: ((at) => `, next try ${at} UTC`) as Phrase,
  states: {
    all: "all",
    failing: "failing",
    open: "open",
    waiting: "waiting",
    pending: "pending",
    ok: "ok",
    disabled: "disabled",
  },
  noProposals: ((days) =>
    `no proposals in the last 7 days — none in the last ${days} either`) as Phrase,
  unreachable: ((forge) => `${forge} unreachable`) as Phrase,
  outage: ((since, probe, failed) =>
    `since ${since} UTC · its trackings wait · next probe ${probe} UTC${Number(failed) > 0 ? ` (${failed} failed)` : ""}`) as Phrase,
  lastErrorIs: ((error) => `last error: ${error}`) as Phrase,
  outcomes: {
    started: "started",
    unchanged: "unchanged",
    proposed: "proposed",
    "skipped-empty": "skipped-empty",
    "passed-over": "passed-over",
    diverged: "diverged",
    failed: "failed",
    parked: "parked",
    waiting: "waiting",
  } as Record<ScanOutcome, string>,
};

export type StatusText = typeof en;

const zhCN: StatusText = {
  htmlLang: "zh-CN",
  title: "patch-tracking 状态",
  tracked: "跟踪项",
  enabled: "已启用",
  failing: "失败",
  proposedLastWeek: "近 7 天提交的补丁",
  chartLabel: (days) => `最近 ${days} 天每天提交的补丁数`,
  chartMax: (max) => `最多 ${max} 个/天`,
  repository: "仓库",
  state: "状态",
  filter: "筛选",
  shown: (range, total) => `${range}，共 ${total} 项`,
  previous: "« 上一页",
  next: "下一页 »",
  pageOf: (page, pages) => `第 ${page} 页，共 ${pages} 页`,
  upstream: "上游仓库",
  downstream: "软件包仓库",
  lastScan: "最近扫描 (UTC)",
  outcome: "结果",
  lastError: "最近错误",
  newest: "最新 issue / PR",
  openProposal: "未合入的 PR",
  passedOver: "已跳过的提交",
  commits: (count) => `${count} 个提交`,
  yes: "是",
  no: "否",
  never: "从未",
  openRun: (step, attempts) => `停在 ${step} 步骤，已失败 ${attempts} 次`,
  nextTry: (at) => `，下次重试 ${at} UTC`,
  states: {
    all: "全部",
    failing: "失败",
    open: "进行中",
    waiting: "等待中",
    pending: "待扫描",
    ok: "正常",
    disabled: "已停用",
  },
  noProposals: (days) => `近 7 天没有提交补丁（近 ${days} 天也没有）`,
  unreachable: (forge) => `${forge} 无法访问`,
  outage: (since, probe, failed) =>
    `自 ${since} UTC 起 · 相关跟踪项暂停扫描 · 下次探测 ${probe} UTC${Number(failed) > 0 ? `（已失败 ${failed} 次）` : ""}`,
  lastErrorIs: (error) => `最近错误：${error}`,
  outcomes: {
    started: "已开始跟踪",
    unchanged: "无变化",
    proposed: "已提交",
    "skipped-empty": "仅空提交，已跳过",
    "passed-over": "新提交均为空、已有或被筛选掉，已跳过",
    diverged: "上游历史被改写",
    failed: "失败",
    parked: "限流，等待中",
    waiting: "等待中",
  },
};

const TEXTS: Record<StatusLanguage, StatusText> = { en, "zh-CN": zhCN };

export function statusText(language: StatusLanguage): StatusText {
  return TEXTS[language];
}

/**
 * The language for an `Accept-Language` header: Chinese when the browser prefers any `zh` tag
 * (zh, zh-CN, zh-Hans, … — simplified Chinese is the one translation) over English, English
 * otherwise, including for a missing or malformed header. Ties keep the header's order.
 */
export function pickLanguage(acceptLanguage: string | null | undefined): StatusLanguage {
  let best: { language: StatusLanguage; q: number } | null = null;
  for (const part of (acceptLanguage ?? "").split(",")) {
    const [rawTag = "", ...params] = part.trim().split(";");
    const tag = rawTag.trim().toLowerCase();
    let q = 1;
    for (const param of params) {
      const [key, value] = param.trim().split("=");
      if (key?.trim().toLowerCase() === "q") q = Number(value);
    }
    if (!Number.isFinite(q) || q <= 0 || q > 1) continue;
    const language: StatusLanguage | null =
      tag === "zh" || tag.startsWith("zh-")
        ? "zh-CN"
        : tag === "en" || tag.startsWith("en-")
          ? "en"
          : null;
    if (language && (best === null || q > best.q)) best = { language, q };
  }
  return best?.language ?? "en";
}
