/**
 * `%changelog` dates as rpm reads them (build/parseChangelog.cc): `* Www Mmm D YYYY ...`, English
 * abbreviations, interpreted as noon UTC, newest entry first. The editor's new entry must be
 * valid and never older than the entry below it, or rpmbuild refuses the spec.
 */
import type { SpecModel } from "./spec-lines.ts";

const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** Midnight UTC of the calendar day `date` falls on (UTC). */
export function utcDay(date: Date): Date {
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
}

/**
 * `Www Mmm DD YYYY` of the UTC day. The day is zero-padded as the original wrote it
 * (Python `%d`); rpm reads both padded and unpadded days.
 */
export function formatChangelogDate(date: Date): string {
  const weekday = WEEKDAYS[date.getUTCDay()];
  const month = MONTHS[date.getUTCMonth()];
  const day = String(date.getUTCDate()).padStart(2, "0");
  return `${weekday} ${month} ${day} ${date.getUTCFullYear()}`;
}

/**
 * The UTC day of a changelog header line (`* Www Mmm D YYYY ...` or the long form
 * `* Www Mmm D HH:MM:SS ZONE YYYY ...`), or null when it is not a date rpm would accept.
 * Month names are matched regardless of case so a sloppy entry still counts for ordering.
 */
export function parseChangelogDate(header: string): Date | null {
  const words = header.replace(/^\s*\*\s*/, "").split(/\s+/);
  const month = MONTHS.findIndex((name) => name.toLowerCase() === words[1]?.toLowerCase());
  const day = Number(words[2]);
  const yearWord = words[3]?.includes(":") ? words[5] : words[3];
  const year = Number(yearWord);
  if (month < 0 || !/^\d{1,2}$/.test(words[2] ?? "") || !/^\d{4}$/.test(yearWord ?? "")) {
    return null;
  }
  const date = new Date(Date.UTC(year, month, day));
  if (date.getUTCMonth() !== month || date.getUTCDate() !== day) return null;
  return date;
}

export interface ChangelogInfo {
  /** Logical index of the `%changelog` line, or -1 when the spec has none. */
  header: number;
  /** Date of the newest (top) entry, when it has a readable date. */
  top: Date | null;
  /** The first pair of entries out of order (newer below older), when there is one. */
  disorder: { above: string; below: string } | null;
  /** True when the physical line after the `%changelog` line is blank or missing. */
  blankAfterHeader: boolean;
}

/** Reads the first `%changelog` section: its place, its top date and whether it is in order. */
export function readChangelog(model: SpecModel): ChangelogInfo {
  const section = model.sections.find((candidate) => candidate.kind === "changelog");
  if (!section) return { header: -1, top: null, disorder: null, blankAfterHeader: true };
  const headerLine = model.logical[section.header];
  const next = headerLine ? model.lines[headerLine.end + 1] : undefined;
  let top: Date | null = null;
  let seenTop = false;
  let previous: { date: Date; text: string } | null = null;
  let disorder: ChangelogInfo["disorder"] = null;
  for (let i = section.header + 1; i <= section.to; i++) {
    const logical = model.logical[i];
    if (!logical?.text.startsWith("*")) continue;
    const date = parseChangelogDate(logical.text);
    if (!seenTop) {
      seenTop = true;
      top = date;
    }
    if (!date) continue;
    if (previous && !disorder && date.getTime() > previous.date.getTime()) {
      disorder = { above: previous.text.trim(), below: logical.text.trim() };
    }
    previous = { date, text: logical.text };
  }
  return {
    header: section.header,
    top,
    disorder,
    blankAfterHeader: next === undefined || next.text.trim() === "",
  };
}

/** Makes generated text literal for rpm, which expands macros inside %changelog. */
export function escapePercent(text: string): string {
  return text.replaceAll("%", "%%");
}
