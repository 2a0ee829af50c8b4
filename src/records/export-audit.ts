import { ErrorCode, LinesideError } from '../domain/errors.js';
import { openDatabaseForAppend, type Db } from '../store/db.js';
import { auditKeyFor } from './audit-key.js';
import { AuditTrail } from './audit-trail.js';
import type { Actor, AuditRecord, Role } from './audit.js';

/**
 * Who exports from the console: the operating-system account, or a user of the records named with
 * `--user` (who must exist and be enabled; no password is asked on the box, so the OS account is
 * kept beside the name as the entry's client).
 */
export function consoleExporter(db: Db, osUser: string, named?: string): { actor: Actor; client?: string } {
  if (named === undefined) return { actor: { user: `console:${osUser}`, role: 'system' } };
  const u = db.prepare(`SELECT role, disabled_at FROM users WHERE username = ?`).get(named) as { role: Role; disabled_at: number | null } | undefined;
  if (!u) throw new LinesideError(ErrorCode.notFound, `--user ${named}: no such user in this database (lineside users list)`);
  if (u.disabled_at !== null) throw new LinesideError(ErrorCode.forbidden, `--user ${named}: the user is disabled`);
  return { actor: { user: named, role: u.role }, client: `console:${osUser}` };
}

export interface ExportAudit {
  /** The database the report was read from. */
  readonly file: string;
  /** Holds `audit.key`. */
  readonly dataDir: string;
  readonly actor: Actor;
  readonly client?: string;
  /** What was exported, for the entry's new value. */
  readonly batchId: string;
  readonly format: string;
  readonly out: string;
  readonly bytes: number;
  readonly contentSha256: string;
}

/**
 * Append `exported` (object `batch <id>`) to the trail of the database the report was read from,
 * committed before this returns: on a backup, the backup records that it was exported from.
 */
export function auditExport(e: ExportAudit): AuditRecord {
  const db = openDatabaseForAppend(e.file);
  try {
    return new AuditTrail(db, auditKeyFor(db, e.dataDir)).append({
      actor: e.actor,
      action: 'exported',
      objectType: 'batch',
      objectId: e.batchId,
      newValue: { report: 'batch', format: e.format, file: e.out, bytes: e.bytes, contentSha256: e.contentSha256 },
      reason: 'lineside report batch',
      ...(e.client === undefined ? {} : { client: e.client }),
    });
  } finally {
    db.close();
  }
}
