/** Builds `WHERE a = $a AND …` clauses from optional equality filters (values bound, never inlined). */

export type FilterValue = string | number | undefined;

export interface WhereClause {
  /** `""` when nothing filters, else ` WHERE …` (with a leading space). */
  sql: string;
  params: Record<string, string | number>;
}

/**
 * One equality condition per defined value. `columns` maps filter names to column expressions
 * (e.g. `{ repo: "t.repo" }`); `extra` conditions are added as they are.
 */
export function whereEquals(
  filter: Record<string, FilterValue>,
  columns: Record<string, string> = {},
  extra: string[] = [],
): WhereClause {
  const conditions: string[] = [];
  const params: Record<string, string | number> = {};
  for (const [name, value] of Object.entries(filter)) {
    if (value === undefined) continue;
    conditions.push(`${columns[name] ?? name} = $${name}`);
    params[name] = value;
  }
  conditions.push(...extra);
  return { sql: conditions.length ? ` WHERE ${conditions.join(" AND ")}` : "", params };
}
