/**
 * `query` output: an aligned text table numbered from 1, as the original printed it with pandas
 * (None for null, True/False for booleans), but never truncating or wrapping a value. Also the
 * cell text and tracking names the other commands print.
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

/** How a tracking is named in every command's output: `repo@branch`. */
export function trackingName(repo: string, branch: string): string {
  return `${repo}@${branch}`;
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** Terminal columns `text` takes; the common all-ASCII case skips the Unicode width tables. */
function displayWidth(text: string): number {
  return PRINTABLE_ASCII.test(text) ? text.length : Bun.stringWidth(text);
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
  const header = { texts: columns, widths: columns.map(displayWidth) };
  const body = rows.map((row) => {
    const texts = columns.map((column) => cellText(row[column]));
    return { texts, widths: texts.map(displayWidth) };
  });
  const numberWidth = String(rows.length).length;
  const widths = columns.map((_, i) => {
    let widest = header.widths[i] ?? 0;
    for (const cells of body) widest = Math.max(widest, cells.widths[i] ?? 0);
    return widest;
  });
  const line = (first: string, cells: { texts: string[]; widths: number[] }) => {
    let text = first.padStart(numberWidth);
    cells.texts.forEach((value, i) => {
      text += `  ${value}${" ".repeat(Math.max(0, (widths[i] ?? 0) - (cells.widths[i] ?? 0)))}`;
    });
    return text.trimEnd();
  };
  const lines = [line("", header), ...body.map((cells, i) => line(String(i + 1), cells))];
  return `${lines.join("\n")}\n`;
}
