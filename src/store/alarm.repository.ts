import type { AlarmCategory, AlarmSeverity, AlarmTransition } from '../domain/alarm.js';
import { ErrorCode, LinesideError } from '../domain/errors.js';
import type { Actor } from '../records/audit.js';
import type { Db } from './db.js';

/** One alarm occurrence and its current state (derived from, and kept beside, its history). */
export interface AlarmRow {
  id: number;
  stationId: string;
  category: AlarmCategory;
  severity: AlarmSeverity;
  message: string;
  raisedAt: number;
  clearedAt: number | null;
  ackedAt: number | null;
  ackedBy: string | null;
  ackComment: string | null;
  shelvedUntil: number | null;
  shelvedBy: string | null;
  shelveReason: string | null;
}

export interface AlarmHistoryEvent {
  kind: AlarmTransition;
  at: number;
  actor: string;
  role: string;
  comment: string | null;
  until: number | null;
}

export interface AlarmWithHistory extends AlarmRow {
  events: AlarmHistoryEvent[];
}

export interface AlarmHistoryQuery {
  /** Alarms with any transition at or after this time (ms)… */
  from: number;
  /** …and before this one. */
  to: number;
  stationId?: string;
  /** At most this many alarms, newest first (default 500). */
  limit?: number;
}

const COLUMNS = `id, station_id AS stationId, category, severity, message, raised_at AS raisedAt, cleared_at AS clearedAt,
  acked_at AS ackedAt, acked_by AS ackedBy, ack_comment AS ackComment,
  shelved_until AS shelvedUntil, shelved_by AS shelvedBy, shelve_reason AS shelveReason`;

/** Listed = on the active list: the condition is present, or it has gone but nobody acknowledged it yet. */
const LISTED = `(cleared_at IS NULL OR acked_at IS NULL)`;

/**
 * Alarm records: one row per occurrence with its current state, and `alarm_events`, the append-only
 * history of every transition (who, when, why). At most one listed alarm per station and category:
 * a condition that returns before its alarm was acknowledged re-opens that alarm, not a new one.
 */
export class AlarmRepository {
  readonly #db: Db;
  readonly #listedFor;
  readonly #byId;
  readonly #insert;
  readonly #reopen;
  readonly #clear;
  readonly #ack;
  readonly #shelve;
  readonly #unshelve;
  readonly #event;
  readonly #listed;
  readonly #open;
  readonly #shelved;
  readonly #events;

  constructor(db: Db) {
    this.#db = db;
    this.#listedFor = db.prepare(`SELECT ${COLUMNS} FROM alarms WHERE station_id = ? AND category = ? AND ${LISTED}`);
    this.#byId = db.prepare(`SELECT ${COLUMNS} FROM alarms WHERE id = ?`);
    this.#insert = db.prepare(`INSERT INTO alarms (station_id, category, severity, message, raised_at) VALUES (?, ?, ?, ?, ?)`);
    this.#reopen = db.prepare(`UPDATE alarms SET cleared_at = NULL, severity = ?, message = ? WHERE id = ?`);
    this.#clear = db.prepare(`UPDATE alarms SET cleared_at = ? WHERE id = ?`);
    this.#ack = db.prepare(`UPDATE alarms SET acked_at = ?, acked_by = ?, ack_comment = ? WHERE id = ?`);
    this.#shelve = db.prepare(`UPDATE alarms SET shelved_until = ?, shelved_by = ?, shelve_reason = ? WHERE id = ?`);
    this.#unshelve = db.prepare(`UPDATE alarms SET shelved_until = NULL, shelved_by = NULL, shelve_reason = NULL WHERE id = ?`);
    this.#event = db.prepare(`INSERT INTO alarm_events (alarm_id, kind, at, actor, role, comment, until) VALUES (?, ?, ?, ?, ?, ?, ?)`);
    this.#listed = db.prepare(`SELECT ${COLUMNS} FROM alarms WHERE ${LISTED} ORDER BY raised_at, id`);
    this.#open = db.prepare(`SELECT ${COLUMNS} FROM alarms WHERE cleared_at IS NULL`);
    this.#shelved = db.prepare(`SELECT ${COLUMNS} FROM alarms WHERE shelved_until IS NOT NULL AND ${LISTED}`);
    this.#events = db.prepare(`SELECT kind, at, actor, role, comment, until FROM alarm_events WHERE alarm_id = ? ORDER BY id`);
  }

  /**
   * The condition is present. Returns the alarm (new, or re-opened while still unacknowledged), or
   * null when it was already active: no flood of duplicates.
   */
  raise(stationId: string, category: AlarmCategory, severity: AlarmSeverity, message: string, at: number): AlarmRow | null {
    return this.#db.transaction(() => {
      const listed = this.#listedFor.get(stationId, category) as AlarmRow | undefined;
      if (listed && listed.clearedAt === null) return null;
      let id: number;
      if (listed) {
        id = listed.id;
        this.#reopen.run(severity, message, id);
      } else {
        id = Number(this.#insert.run(stationId, category, severity, message, at).lastInsertRowid);
      }
      this.#event.run(id, 'raised', at, 'system', 'system', message, null);
      return this.#get(id);
    })();
  }

  /** The condition has gone. Returns the alarm, or null if none was active. */
  clear(stationId: string, category: AlarmCategory, at: number, comment: string | null = null): AlarmRow | null {
    return this.#db.transaction(() => {
      const listed = this.#listedFor.get(stationId, category) as AlarmRow | undefined;
      if (!listed || listed.clearedAt !== null) return null;
      this.#clear.run(at, listed.id);
      this.#event.run(listed.id, 'cleared', at, 'system', 'system', comment, null);
      return this.#get(listed.id);
    })();
  }

  /**
   * Acknowledge a listed alarm. `inSameTransaction` runs inside the transaction (the audit entry):
   * if it throws, the acknowledgement is not stored either.
   */
  acknowledge(id: number, by: Actor, comment: string, at: number, inSameTransaction: (before: AlarmRow) => void): AlarmRow {
    return this.#db.transaction(() => {
      const before = this.#listedOrThrow(id);
      if (before.ackedAt !== null) {
        throw new LinesideError(ErrorCode.badRequest, `alarm ${id} was already acknowledged by ${before.ackedBy} at ${new Date(before.ackedAt).toISOString()}`);
      }
      this.#ack.run(at, by.user, comment, id);
      this.#event.run(id, 'acknowledged', at, by.user, by.role, comment, null);
      inSameTransaction(before);
      return this.#get(id);
    })();
  }

  shelve(id: number, by: Actor, reason: string, until: number, at: number, inSameTransaction: (before: AlarmRow) => void): AlarmRow {
    return this.#db.transaction(() => {
      const before = this.#listedOrThrow(id);
      this.#shelve.run(until, by.user, reason, id);
      this.#event.run(id, 'shelved', at, by.user, by.role, reason, until);
      inSameTransaction(before);
      return this.#get(id);
    })();
  }

  /** Returns null when the alarm is not shelved (nothing to do). */
  unshelve(id: number, by: Actor, comment: string, at: number, inSameTransaction: (before: AlarmRow) => void): AlarmRow | null {
    return this.#db.transaction(() => {
      const before = this.#get(id);
      if (before.shelvedUntil === null) return null;
      this.#unshelve.run(id);
      this.#event.run(id, 'unshelved', at, by.user, by.role, comment, null);
      inSameTransaction(before);
      return this.#get(id);
    })();
  }

  get(id: number): AlarmRow | undefined {
    return this.#byId.get(id) as AlarmRow | undefined;
  }

  /** Alarms on the active list (active, or cleared but not acknowledged), oldest first. */
  listed(): AlarmRow[] {
    return this.#listed.all() as AlarmRow[];
  }

  /** Alarms whose condition is present (cleared_at is null): these set PLC bits. */
  open(): AlarmRow[] {
    return this.#open.all() as AlarmRow[];
  }

  /** Listed alarms currently shelved. */
  shelved(): AlarmRow[] {
    return this.#shelved.all() as AlarmRow[];
  }

  events(id: number): AlarmHistoryEvent[] {
    return this.#events.all(id) as AlarmHistoryEvent[];
  }

  /** Every alarm with a transition in [from, to), newest first, each with its whole history. */
  history(q: AlarmHistoryQuery): AlarmWithHistory[] {
    const params: unknown[] = [q.from, q.to];
    let sql = `SELECT ${COLUMNS} FROM alarms WHERE id IN (SELECT alarm_id FROM alarm_events WHERE at >= ? AND at < ?)`;
    if (q.stationId !== undefined) {
      // A station's per-subject alarms (`gowning/person-7`) are its own.
      sql += ` AND (station_id = ? OR substr(station_id, 1, ?) = ?)`;
      params.push(q.stationId, q.stationId.length + 1, `${q.stationId}/`);
    }
    sql += ` ORDER BY raised_at DESC, id DESC LIMIT ?`;
    params.push(q.limit ?? 500);
    const rows = this.#db.prepare(sql).all(...params) as AlarmRow[];
    return rows.map((r) => ({ ...r, events: this.events(r.id) }));
  }

  /**
   * At start-up, conditions from the previous run are unknown: clear them (history says why);
   * components raise again what is still true. Unacknowledged alarms stay listed.
   */
  closeStale(at: number): number {
    return this.#db.transaction(() => {
      const open = this.open();
      for (const a of open) {
        this.#clear.run(at, a.id);
        this.#event.run(a.id, 'cleared', at, 'system', 'system', 'appliance restarted: condition re-checked from scratch', null);
      }
      return open.length;
    })();
  }

  #get(id: number): AlarmRow {
    return this.#byId.get(id) as AlarmRow;
  }

  #listedOrThrow(id: number): AlarmRow {
    const row = this.get(id);
    if (!row) throw new LinesideError(ErrorCode.notFound, `alarm ${id} does not exist`);
    if (row.clearedAt !== null && row.ackedAt !== null) throw new LinesideError(ErrorCode.badRequest, `alarm ${id} is over (cleared and acknowledged)`);
    return row;
  }
}
