import type { AlarmCategory, AlarmSeverity } from '../domain/alarm.js';
import type { Db } from './db.js';

export interface AlarmRow {
  id: number;
  stationId: string;
  category: AlarmCategory;
  severity: AlarmSeverity;
  message: string;
  raisedAt: number;
  clearedAt: number | null;
}

/** Alarm history: one row per raise, closed when cleared. At most one open row per station and category. */
export class AlarmRepository {
  readonly #open;
  readonly #insert;
  readonly #clear;
  readonly #active;
  readonly #clearAll;

  constructor(db: Db) {
    this.#open = db.prepare(`SELECT id FROM alarms WHERE station_id = ? AND category = ? AND cleared_at IS NULL`);
    this.#insert = db.prepare(`INSERT INTO alarms (station_id, category, severity, message, raised_at) VALUES (?, ?, ?, ?, ?)`);
    this.#clear = db.prepare(`UPDATE alarms SET cleared_at = ? WHERE station_id = ? AND category = ? AND cleared_at IS NULL`);
    this.#active = db.prepare(`
      SELECT id, station_id AS stationId, category, severity, message, raised_at AS raisedAt, cleared_at AS clearedAt
      FROM alarms WHERE cleared_at IS NULL ORDER BY raised_at`);
    this.#clearAll = db.prepare(`UPDATE alarms SET cleared_at = ? WHERE cleared_at IS NULL`);
  }

  /** Returns false if the alarm was already active (no flood of duplicate rows). */
  raise(stationId: string, category: AlarmCategory, severity: AlarmSeverity, message: string, at: number): boolean {
    if (this.#open.get(stationId, category)) return false;
    this.#insert.run(stationId, category, severity, message, at);
    return true;
  }

  clear(stationId: string, category: AlarmCategory, at: number): boolean {
    return this.#clear.run(at, stationId, category).changes > 0;
  }

  active(): AlarmRow[] {
    return this.#active.all() as AlarmRow[];
  }

  /**
   * At start-up, conditions from the previous run are unknown: close them; components raise again
   * what is still true.
   */
  closeStale(at: number): number {
    return this.#clearAll.run(at).changes;
  }
}
