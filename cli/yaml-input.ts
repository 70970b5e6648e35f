/**
 * Tracking yaml files for `add --file` / `--dir`: the same keys as the API body, one tracking per
 * file. Every scalar is read as text (the failsafe schema), so a branch `2020` or a commit sha of
 * digits stays exactly as written. Problems name the file and line.
 */
import { readFileSync } from "node:fs";
import { extname } from "node:path";
import { isMap, isScalar, LineCounter, parseDocument } from "yaml";
import { parseFilters, type TrackingFilters } from "../src/scan/filters.ts";
import { CliError } from "./errors.ts";
import {
  checkTracking,
  TRACKING_FIELDS,
  type TrackingField,
  type TrackingRequest,
  type TrackingValues,
} from "./tracking-input.ts";

export const YAML_EXTENSION = ".yaml";
/** The key holding the tracking's backport filters (the fields of PUT /tracking/filters). */
export const FILTERS_KEY = "filters";

/** One tracking file: the tracking, and its filters when the file has a `filters:` key. */
export interface TrackingFile {
  tracking: TrackingRequest;
  /** Absent: the file says nothing about filters (the stored ones stay). `{}` removes them. */
  filters?: TrackingFilters;
}

/** True for the files `--dir` processes. */
export function isYamlFile(path: string): boolean {
  return extname(path) === YAML_EXTENSION;
}

/** Reads and checks one tracking file; throws `CliError` naming the file (and line). */
export function readTrackingFile(path: string): TrackingFile {
  if (!isYamlFile(path)) {
    throw new CliError(`${path} is not a ${YAML_EXTENSION} file: tracking files end in .yaml`);
  }
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new CliError(`${path} cannot be read (${code})`);
  }
  return parseTrackingFile(text, path);
}

/** The tracking of a tracking file's text; `file` is only used in messages. */
export function parseTrackingYaml(text: string, file: string): TrackingRequest {
  return parseTrackingFile(text, file).tracking;
}

/** Parses the text of a tracking file; `file` is only used in messages. */
export function parseTrackingFile(text: string, file: string): TrackingFile {
  const lines = new LineCounter();
  const doc = parseDocument(text, { schema: "failsafe", lineCounter: lines });
  const syntax = doc.errors[0];
  if (syntax) {
    const at = syntax.linePos?.[0];
    const [headline = syntax.message, ...frame] = syntax.message.split("\n");
    const reason = headline.replace(/ at line \d+, column \d+:?$/, "");
    throw new CliError(
      `${file}${at ? `:${at.line}:${at.col}` : ""}: yaml syntax error: ${reason}`,
      frame.filter((line) => line.trim() !== "").map((line) => `  ${line}`),
    );
  }
  if (!isMap(doc.contents)) {
    throw new CliError(
      `${file}: expected "key: value" lines (${[...TRACKING_FIELDS, FILTERS_KEY].join(", ")}), found ${doc.contents === null ? "an empty file" : "something else"}`,
    );
  }
  const values: TrackingValues = {};
  const lineOf: Partial<Record<TrackingField, number>> = {};
  const problems: string[] = [];
  let filters: TrackingFilters | undefined;
  for (const pair of doc.contents.items) {
    const keyNode = pair.key;
    const line = isScalar(keyNode) && keyNode.range ? lines.linePos(keyNode.range[0]).line : 0;
    const where = `${file}:${line}`;
    const key = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
    if (key === FILTERS_KEY) {
      // Read as plain data (strings and lists under the failsafe schema), checked like the API.
      const value = pair.value === null ? {} : (pair.value as { toJSON(): unknown }).toJSON();
      const parsed = parseFilters(value ?? {});
      if ("problem" in parsed) problems.push(`${where}: filters: ${parsed.problem.error}`);
      else filters = parsed.filters;
      continue;
    }
    if (!(TRACKING_FIELDS as readonly string[]).includes(key)) {
      problems.push(
        `${where}: unknown key ${JSON.stringify(key)} (allowed: ${[...TRACKING_FIELDS, FILTERS_KEY].join(", ")})`,
      );
      continue;
    }
    const field = key as TrackingField;
    if (pair.value !== null && !isScalar(pair.value)) {
      problems.push(`${where}: ${field} must be a single value, not a list or mapping`);
      continue;
    }
    values[field] = pair.value === null ? "" : String(pair.value.value).trim();
    lineOf[field] = line;
  }
  const check = checkTracking(values, true);
  if (check.ok && problems.length === 0) {
    return filters === undefined
      ? { tracking: check.tracking }
      : { tracking: check.tracking, filters };
  }
  if (!check.ok) {
    if (check.missing.length > 0) {
      problems.push(`${file}: missing or empty keys: ${check.missing.join(", ")}`);
    }
    for (const problem of check.problems) {
      const line = lineOf[problem.field as TrackingField];
      problems.push(`${file}${line ? `:${line}` : ""}: ${problem.error}`);
    }
  }
  const [first = file, ...rest] = problems;
  throw new CliError(first, rest);
}
