/**
 * Opening the SQLite database: WAL journal and a busy timeout so the API and the scanner can
 * write concurrently without "database is locked", then migrations.
 */
import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { migrate } from "./migrations.ts";

export const BUSY_TIMEOUT_MS = 5000;

export function openDatabase(path: string): Database {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, { create: true, strict: true });
  db.run(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
  db.run("PRAGMA journal_mode = WAL");
  db.run("PRAGMA synchronous = NORMAL");
  db.run("PRAGMA foreign_keys = ON");
  migrate(db);
  return db;
}

/** True when the database answers a trivial query (used by /health). */
export function isDatabaseReachable(db: Database): boolean {
  try {
    return db.query<{ ok: number }, []>("SELECT 1 AS ok").get()?.ok === 1;
  } catch {
    return false;
  }
}
