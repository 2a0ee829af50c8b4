import { createHmac } from 'node:crypto';
import type { Db } from '../store/db.js';
import { AuditAction, type AuditEntry, type AuditLog, type AuditRecord, type Role } from './audit.js';
import { canonicalJson } from './canonical.js';

/** prev_hash of the first row. */
export const GENESIS_HASH = '0'.repeat(64);

/** A row exactly as stored: the JSON columns are text, so the hash is recomputed from what is on disk. */
export interface AuditRow {
  seq: number;
  at: number;
  user: string;
  role: string;
  action: string;
  object_type: string;
  object_id: string;
  old_value: string | null;
  new_value: string | null;
  reason: string | null;
  client: string | null;
  prev_hash: string;
  hash: string;
}

/** HMAC-SHA256 over the canonical serialisation of every field of the row except `hash` itself. */
export function rowHash(key: Buffer, row: Omit<AuditRow, 'hash'>): string {
  const fields = {
    seq: row.seq,
    at: row.at,
    user: row.user,
    role: row.role,
    action: row.action,
    objectType: row.object_type,
    objectId: row.object_id,
    oldValue: row.old_value,
    newValue: row.new_value,
    reason: row.reason,
    client: row.client,
    prevHash: row.prev_hash,
  };
  return createHmac('sha256', key).update(canonicalJson(fields)).digest('hex');
}

function toRecord(r: AuditRow): AuditRecord {
  return {
    seq: r.seq,
    at: r.at,
    actor: { user: r.user, role: r.role as Role | 'system' },
    action: r.action as AuditAction,
    objectType: r.object_type,
    objectId: r.object_id,
    oldValue: r.old_value === null ? undefined : (JSON.parse(r.old_value) as unknown),
    newValue: r.new_value === null ? undefined : (JSON.parse(r.new_value) as unknown),
    reason: r.reason ?? undefined,
    client: r.client ?? undefined,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

/**
 * The audit trail: table `audit_trail`, append-only (triggers refuse UPDATE and DELETE), each row
 * chained to the one before by a keyed hash. Appends take SQLite's write lock before reading the
 * chain's head, so the appliance and a `lineside` command on the same file never fork the chain.
 */
export class AuditTrail implements AuditLog {
  readonly #db: Db;
  readonly #key: Buffer;
  readonly #now: () => number;
  readonly #append;
  readonly #between;
  readonly #recent;

  constructor(db: Db, key: Buffer, now: () => number = Date.now) {
    this.#db = db;
    this.#key = key;
    this.#now = now;
    const head = db.prepare(`SELECT seq, hash FROM audit_trail ORDER BY seq DESC LIMIT 1`);
    const insert = db.prepare(`
      INSERT INTO audit_trail (seq, at, user, role, action, object_type, object_id, old_value, new_value, reason, client, prev_hash, hash)
      VALUES (@seq, @at, @user, @role, @action, @object_type, @object_id, @old_value, @new_value, @reason, @client, @prev_hash, @hash)`);
    const tx = db.transaction((entry: AuditEntry): AuditRow => {
      const last = head.get() as { seq: number; hash: string } | undefined;
      const row: Omit<AuditRow, 'hash'> = {
        seq: (last?.seq ?? 0) + 1,
        at: this.#now(),
        user: entry.actor.user,
        role: entry.actor.role,
        action: entry.action,
        object_type: entry.objectType,
        object_id: entry.objectId,
        old_value: entry.oldValue === undefined ? null : canonicalJson(entry.oldValue),
        new_value: entry.newValue === undefined ? null : canonicalJson(entry.newValue),
        reason: entry.reason ?? null,
        client: entry.client ?? null,
        prev_hash: last?.hash ?? GENESIS_HASH,
      };
      const stored = { ...row, hash: rowHash(this.#key, row) };
      insert.run(stored);
      return stored;
    });
    this.#append = (entry: AuditEntry): AuditRow => (db.inTransaction ? tx(entry) : tx.immediate(entry));
    this.#between = db.prepare(`SELECT * FROM audit_trail WHERE at >= ? AND at < ? ORDER BY seq`);
    this.#recent = db.prepare(`SELECT * FROM audit_trail ORDER BY seq DESC LIMIT ?`);
  }

  append(entry: AuditEntry): AuditRecord {
    if (!AuditAction.includes(entry.action)) throw new Error(`unknown audit action "${String(entry.action)}"`);
    return toRecord(this.#append(entry));
  }

  between(from: number, to: number): AuditRecord[] {
    return (this.#between.all(from, to) as AuditRow[]).map(toRecord);
  }

  /** Entries matching every given filter, newest first (the page's audit view and its export). */
  query(q: { from?: number; to?: number; action?: string; user?: string; objectType?: string; objectId?: string; limit?: number }): AuditRecord[] {
    const where: string[] = [];
    const args: Array<string | number> = [];
    if (q.from !== undefined) (where.push('at >= ?'), args.push(q.from));
    if (q.to !== undefined) (where.push('at < ?'), args.push(q.to));
    if (q.action) (where.push('action = ?'), args.push(q.action));
    if (q.user) (where.push('user = ?'), args.push(q.user));
    if (q.objectType) (where.push('object_type = ?'), args.push(q.objectType));
    if (q.objectId) (where.push('object_id = ?'), args.push(q.objectId));
    args.push(Math.min(Math.max(1, q.limit ?? 200), 10_000));
    const sql = `SELECT * FROM audit_trail${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT ?`;
    return (this.#db.prepare(sql).all(...args) as AuditRow[]).map(toRecord);
  }

  /** The newest `limit` entries, newest first (for the page). */
  recent(limit: number): AuditRecord[] {
    return (this.#recent.all(limit) as AuditRow[]).map(toRecord);
  }
}
