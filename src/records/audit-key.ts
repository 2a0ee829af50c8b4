import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, linkSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, LinesideError } from '../domain/errors.js';
import type { Db } from '../store/db.js';

/** The audit trail's HMAC key: 32 random bytes, hex, in `<dataDir>/audit.key`, mode 0600. */
export const AUDIT_KEY_FILE = 'audit.key';

export function auditKeyPath(dataDir: string): string {
  return join(dataDir, AUDIT_KEY_FILE);
}

/**
 * Read the key, creating it on first start. A key others can read is refused, not silently used.
 * The key is written whole and synced under a temporary name, then linked into place: a kill or
 * power loss during the first start never leaves an empty `audit.key` that would refuse every later
 * start, and two processes starting at once agree on one key (link fails if the name exists).
 */
export function loadOrCreateAuditKey(dataDir: string): Buffer {
  const file = auditKeyPath(dataDir);
  if (!existsSync(file)) {
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      const fd = openSync(tmp, 'w', 0o600);
      try {
        writeSync(fd, randomBytes(32).toString('hex') + '\n');
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      linkSync(tmp, file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new LinesideError(ErrorCode.storage, `cannot create the audit key ${file}: ${(e as Error).message}`, { cause: e });
    } finally {
      rmSync(tmp, { force: true });
    }
  }
  return readAuditKey(file);
}

/** Read an existing key (verify-audit, restore); never creates one. */
export function readAuditKey(file: string): Buffer {
  let text: string;
  try {
    const mode = statSync(file).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new LinesideError(ErrorCode.storage, `audit key ${file} is readable by others (mode ${mode.toString(8)}); chmod 600 it`);
    }
    text = readFileSync(file, 'utf8').trim();
  } catch (e) {
    if (e instanceof LinesideError) throw e;
    throw new LinesideError(ErrorCode.storage, `cannot read the audit key ${file}: ${(e as Error).message}`, { cause: e });
  }
  if (!/^[0-9a-f]{64}$/.test(text)) throw new LinesideError(ErrorCode.storage, `audit key ${file} is not 64 hex digits`);
  return Buffer.from(text, 'hex');
}

/**
 * The key for the trail in `db`: created only while the trail is still empty (a database nothing
 * has written to yet). A trail with entries and no key is refused: a new key would chain rows that
 * `verify-audit` could never check together with the old ones, so the key must come back from
 * the backup of the data directory instead.
 */
export function auditKeyFor(db: Db, dataDir: string): Buffer {
  const file = auditKeyPath(dataDir);
  if (existsSync(file)) return readAuditKey(file);
  const entries = (db.prepare(`SELECT COUNT(*) AS n FROM audit_trail`).get() as { n: number }).n;
  if (entries > 0) {
    throw new LinesideError(
      ErrorCode.storage,
      `the audit key ${file} is missing but the audit trail holds ${entries} entries: restore audit.key from the backup of this data directory (a new key would break the chain)`,
    );
  }
  return loadOrCreateAuditKey(dataDir);
}
