import { createHash } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readdirSync, readSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { ErrorCode, LinesideError, reasonOf } from '../domain/errors.js';
import type { Logger } from '../observability/logger.js';
import { openDatabaseForAppend, type Db } from '../store/db.js';
import { AuditTrail } from './audit-trail.js';
import { SYSTEM, type Actor, type AuditLog, type AuditRecord } from './audit.js';
import { verifyChain } from './verify-audit.js';
import { runningAppliance } from './run-lock.js';

export interface BackupResult {
  readonly file: string;
  readonly bytes: number;
  readonly auditEntries: number;
}

/**
 * Online backup through SQLite's backup API (better-sqlite3 `db.backup()`): pages are copied while
 * the appliance keeps writing, and the copy is one consistent state. The backup is audited
 * (`backupMade`) in the live database once the copy is complete.
 */
export async function backupDatabase(db: Db, out: string, audit: AuditLog, actor: Actor = SYSTEM, reason = 'on demand'): Promise<BackupResult> {
  if (existsSync(out)) throw new LinesideError(ErrorCode.storage, `backup target ${out} exists: refusing to overwrite it`);
  mkdirSync(dirname(out), { recursive: true });
  try {
    await db.backup(out);
  } catch (cause) {
    rmSync(out, { force: true });
    throw new LinesideError(ErrorCode.storage, `backup to ${out} failed: ${reasonOf(cause)}`, { cause });
  }
  // A backup is one self-contained file: no -wal/-shm beside it.
  const copy = new Database(out);
  copy.pragma('journal_mode = DELETE');
  const auditEntries = (copy.prepare(`SELECT COUNT(*) AS n FROM audit_trail`).get() as { n: number }).n;
  copy.close();
  const bytes = statSync(out).size;
  audit.append({ actor, action: 'backupMade', objectType: 'database', objectId: out, newValue: { file: out, bytes, auditEntries }, reason });
  return { file: out, bytes, auditEntries };
}

/** SHA-256 of a file read in 1 MiB pieces (backups can be larger than memory allows at once). */
function fileSha256(file: string): string {
  const hash = createHash('sha256');
  const buf = Buffer.alloc(1 << 20);
  const fd = openSync(file, 'r');
  try {
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0; ) hash.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

const SCHEDULED = /^lineside-\d{8}T\d{6}Z\.db$/;

/** `records.backup`: a backup every `everyHours` into `dir`, keeping the newest `keep` of its own files. */
export class BackupScheduler {
  readonly #timer: NodeJS.Timeout;
  #running: Promise<void> = Promise.resolve();

  constructor(
    readonly deps: { db: Db; audit: AuditLog; logger: Logger; config: { dir: string; everyHours: number; keep: number }; onFailure?: (reason: string) => void },
  ) {
    this.#timer = setInterval(() => void this.runNow(), deps.config.everyHours * 3_600_000);
    this.#timer.unref();
  }

  /** One scheduled backup now; failures are logged and reported, never thrown into the timer. */
  runNow(): Promise<void> {
    this.#running = this.#running.then(async () => {
      const { dir, keep } = this.deps.config;
      const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
      try {
        const result = await backupDatabase(this.deps.db, join(dir, `lineside-${stamp}.db`), this.deps.audit, SYSTEM, `scheduled (records.backup.everyHours)`);
        this.deps.logger.info({ file: result.file, bytes: result.bytes }, 'database backed up');
        const ours = readdirSync(dir).filter((f) => SCHEDULED.test(f)).sort();
        for (const old of ours.slice(0, Math.max(0, ours.length - keep))) rmSync(join(dir, old));
      } catch (e) {
        this.deps.logger.error({ dir, err: reasonOf(e) }, 'scheduled backup failed');
        this.deps.onFailure?.(reasonOf(e));
      }
    });
    return this.#running;
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
  }
}

/**
 * `lineside restore`: refuses while an appliance runs on the data directory, verifies the backup's
 * audit chain with the directory's audit key, then puts the backup in place with one more entry,
 * `restored` (from where, what it replaced, by whom), appended to the restored database. The copy
 * gets its entry before it is moved into place, so a restored database never lacks it. The
 * database it replaces is kept beside it (`lineside.db.replaced-<time>`), never deleted.
 */
export function restoreDatabase(
  from: string,
  dataDir: string,
  key: Buffer,
  by: { actor?: Actor; reason?: string } = {},
): { replaced: string | null; auditEntries: number; entry: AuditRecord } {
  const pid = runningAppliance(dataDir);
  if (pid !== null) throw new LinesideError(ErrorCode.storage, `an appliance is running on ${dataDir} (pid ${pid}): stop it before restoring`);
  if (!existsSync(from)) throw new LinesideError(ErrorCode.notFound, `backup ${from} does not exist`);
  const backup = new Database(from, { readonly: true, fileMustExist: true });
  let chain;
  try {
    chain = verifyChain(backup, key);
  } finally {
    backup.close();
  }
  if (chain.problem) throw new LinesideError(ErrorCode.tampered, `backup ${from} failed the audit check, not restored: ${chain.problem}`);
  const target = join(dataDir, 'lineside.db');
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const incoming = `${target}.restoring-${stamp}`;
  copyFileSync(from, incoming);
  let entry: AuditRecord;
  try {
    const db = openDatabaseForAppend(incoming);
    try {
      const backupSha256 = fileSha256(from);
      entry = new AuditTrail(db, key).append({
        actor: by.actor ?? SYSTEM,
        action: 'restored',
        objectType: 'database',
        objectId: target,
        newValue: { from, backupSha256, auditEntries: chain.entries, replaced: existsSync(target) ? `${target}.replaced-${stamp}` : null },
        reason: by.reason ?? 'restore from backup',
      });
    } finally {
      db.close();
    }
  } catch (e) {
    rmSync(incoming, { force: true });
    for (const side of ['-wal', '-shm', '-journal']) rmSync(incoming + side, { force: true });
    throw e;
  }
  let replaced: string | null = null;
  if (existsSync(target)) {
    replaced = `${target}.replaced-${stamp}`;
    renameSync(target, replaced);
    for (const side of ['-wal', '-shm']) if (existsSync(target + side)) renameSync(target + side, replaced + side);
  }
  renameSync(incoming, target);
  return { replaced, auditEntries: chain.entries, entry };
}
