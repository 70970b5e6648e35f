/**
 * Tracking yaml files for `add --file` / `--dir`: the same keys as the API body, one tracking per
 * file. Every scalar is read as text (the failsafe schema), so a branch `2020` or a commit sha of
 * digits stays exactly as written. Problems name the file and line.
 */
import { readFileSync } from "node:fs";
import { extname } from "node:path";
import { isMap, isScalar, LineCounter, parseDocument } from "yaml";
import { CliError } from "./errors.ts";
import {
  checkTracking,
  TRACKING_FIELDS,
  type TrackingField,
  type TrackingRequest,
  type TrackingValues,
} from "./tracking-input.ts";

export const YAML_EXTENSION = ".yaml";

/** True for the files `--dir` processes. */
export function isYamlFile(path: string): boolean {
  return extname(path) === YAML_EXTENSION;
}

/** Reads and checks one tracking file; throws `CliError` naming the file (and line). */
export function readTrackingFile(path: string): TrackingRequest {
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
  return parseTrackingYaml(text, path);
}

/** Parses the text of a tracking file; `file` is only used in messages. */
export function parseTrackingYaml(text: string, file: string): TrackingRequest {
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
      `${file}: expected "key: value" lines (${TRACKING_FIELDS.join(", ")}), found ${doc.contents === null ? "an empty file" : "something else"}`,
    );
  }
  const values: TrackingValues = {};
  const lineOf: Partial<Record<TrackingField, number>> = {};
  const problems: string[] = [];
  for (const pair of doc.contents.items) {
    const keyNode = pair.key;
    const line = isScalar(keyNode) && keyNode.range ? lines.linePos(keyNode.range[0]).line : 0;
    const where = `${file}:${line}`;
    const key = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
    if (!(TRACKING_FIELDS as readonly string[]).includes(key)) {
      problems.push(
        `${where}: unknown key ${JSON.stringify(key)} (allowed: ${TRACKING_FIELDS.join(", ")})`,
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
  if (check.ok && problems.length === 0) return check.tracking;
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
