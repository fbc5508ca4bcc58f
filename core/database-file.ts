/**
 * How the gateway and the scorer open their SQLite database files: readable by their own user only. The file is
 * created 0600 before SQLite opens it (and an existing one is set to 0600), so SQLite, which
 * gives the -wal and -shm files the main file's mode, makes them 0600 too (they are set again
 * once open, in case they were left by an older run); a data directory that does not exist yet
 * is created 0700. An existing directory is left as it is (it may be shared, like /tmp): put the
 * database in a directory of its own. ":memory:" opens an in-memory database.
 */
import Database from "better-sqlite3";
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from "node:fs";
import path from "node:path";

export const DATABASE_FILE_MODE = 0o600;
export const DATA_DIRECTORY_MODE = 0o700;

/** The files SQLite keeps beside the database in WAL mode. */
export const walFilesOf = (file: string): string[] => [`${file}-wal`, `${file}-shm`];

export function openDatabaseFile(file: string): Database.Database {
  if (file === ":memory:") return new Database(file);
  const dir = path.dirname(path.resolve(file));
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true, mode: DATA_DIRECTORY_MODE });
    chmodSync(dir, DATA_DIRECTORY_MODE); // mkdir's mode is filtered by the umask
  }
  if (!existsSync(file)) closeSync(openSync(file, "a", DATABASE_FILE_MODE));
  chmodSync(file, DATABASE_FILE_MODE);
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  for (const side of walFilesOf(file)) if (existsSync(side)) chmodSync(side, DATABASE_FILE_MODE);
  return db;
}
