import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { ErrorCode, LinesideError } from '../domain/errors.js';
import { MIGRATIONS } from './migrations.js';

export type Db = Database.Database;

/**
 * Open (or create) the appliance database. WAL for concurrent readers, and `synchronous=FULL` on
 * every open: better-sqlite3 re-opens WAL databases at NORMAL, which can lose the last commits on
 * power loss (DESIGN.md).
 */
export function openDatabase(file: string): Db {
  mkdirSync(dirname(file), { recursive: true });
  let db: Db;
  try {
    db = new Database(file);
  } catch (cause) {
    throw new LinesideError(ErrorCode.storage, `cannot open database ${file}`, { cause });
  }
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  const sync = db.pragma('synchronous', { simple: true });
  if (sync !== 2) {
    db.close();
    throw new LinesideError(ErrorCode.storage, `database ${file}: synchronous is ${String(sync)}, expected FULL (2)`);
  }
  migrate(db);
  return db;
}

/**
 * Open an existing database for reading only (reports, verification): never migrates, never
 * creates. Works beside a running appliance (WAL readers do not block its writes).
 */
export function openDatabaseReadOnly(file: string): Db {
  try {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 5000');
    return db;
  } catch (cause) {
    throw new LinesideError(ErrorCode.storage, `cannot open database ${file} for reading: ${(cause as Error).message}`, { cause });
  }
}

/**
 * Open an existing database to append to it without preparing it for the appliance: no migration,
 * no change of journal mode (a backup stays one self-contained file), `synchronous=FULL` as always.
 */
export function openDatabaseForAppend(file: string): Db {
  try {
    const db = new Database(file, { fileMustExist: true });
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 5000');
    return db;
  } catch (cause) {
    throw new LinesideError(ErrorCode.storage, `cannot open database ${file} for writing: ${(cause as Error).message}`, { cause });
  }
}

/** Apply pending migrations in one transaction each; `user_version` holds the schema version. */
export function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new LinesideError(
      ErrorCode.storage,
      `database schema version ${current} is newer than this software understands (${MIGRATIONS.length}); refusing to run an older release on it`,
    );
  }
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
