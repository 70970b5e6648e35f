/** A database's whole content, to show that something wrote nothing. */
import type { Database } from "bun:sqlite";

/**
 * Every row of every table, and the count of rows the connection has ever written (it counts a
 * write of identical values too, which the rows alone would not show).
 */
export function databaseSnapshot(db: Database): string {
  const changes = db
    .query<{ changes: number }, []>("SELECT total_changes() AS changes")
    .get()?.changes;
  const tables = db
    .query<{ name: string }, []>(
      "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
    )
    .all()
    .map((row) => row.name);
  return JSON.stringify([
    changes,
    tables.map((table) => [table, db.query(`SELECT * FROM "${table}"`).all()]),
  ]);
}
