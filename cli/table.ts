/**
 * `query` output: an aligned text table numbered from 1, as the original printed it with pandas
 * (None for null, True/False for booleans), but never truncating or wrapping a value.
 */

/** A cell as pandas showed it. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) return "None";
  if (typeof value === "boolean") return value ? "True" : "False";
  if (typeof value === "object") return JSON.stringify(value);
  // Control characters would break the alignment (and could drive the terminal).
  // biome-ignore lint/suspicious/noControlCharactersInRegex: replacing control characters is the point
  return String(value).replace(/[\u0000-\u001f\u007f]/g, " ");
}

function pad(text: string, width: number): string {
  return text + " ".repeat(Math.max(0, width - Bun.stringWidth(text)));
}

/** Columns in the order they first appear across `rows`. */
export function columnsOf(rows: readonly Record<string, unknown>[]): string[] {
  const seen = new Set<string>();
  for (const row of rows) for (const key of Object.keys(row)) seen.add(key);
  return [...seen];
}

/** The table as lines of text (header first), with a trailing newline; "" for no rows. */
export function renderTable(rows: readonly Record<string, unknown>[], columns = columnsOf(rows)) {
  if (rows.length === 0) return "";
  const numbers = rows.map((_, index) => String(index + 1));
  const cells = rows.map((row) => columns.map((column) => cellText(row[column])));
  const numberWidth = Math.max(...numbers.map((text) => text.length));
  const widths = columns.map((column, i) =>
    Math.max(Bun.stringWidth(column), ...cells.map((row) => Bun.stringWidth(row[i] ?? ""))),
  );
  const line = (first: string, values: string[]) =>
    [first.padStart(numberWidth), ...values.map((value, i) => pad(value, widths[i] ?? 0))]
      .join("  ")
      .trimEnd();
  return `${[line("", columns), ...cells.map((row, i) => line(numbers[i] ?? "", row))].join("\n")}\n`;
}
