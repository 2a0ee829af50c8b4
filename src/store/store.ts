import { join } from 'node:path';
import { openDatabase, type Db } from './db.js';
import { AlarmRepository } from './alarm.repository.js';
import { EvidenceRetentionRepository } from './evidence-retention.repository.js';
import { InspectionRepository } from './inspection.repository.js';
import { readBatchReport, type BatchReport } from '../records/batch-report.js';
import type { Actor } from '../records/audit.js';

/** The appliance's records: one SQLite file under the data directory. */
export class Store {
  readonly inspections: InspectionRepository;
  readonly alarms: AlarmRepository;
  readonly retention: EvidenceRetentionRepository;
  readonly file: string;
  readonly #db: Db;

  private constructor(db: Db, file: string) {
    this.#db = db;
    this.file = file;
    this.inspections = new InspectionRepository(db);
    this.alarms = new AlarmRepository(db);
    this.retention = new EvidenceRetentionRepository(db);
  }

  static open(dataDir: string): Store {
    const file = join(dataDir, 'lineside.db');
    return new Store(openDatabase(file), file);
  }

  /** The connection, for the records layer to share (its audit entries commit with the rows they describe). */
  get db(): Db {
    return this.#db;
  }

  /** Cheap liveness probe for health: a read that touches the file. */
  ping(): void {
    this.#db.prepare('SELECT 1').get();
  }

  /** The connection's durability settings, as the page and tests report them. */
  durability(): { journalMode: string; synchronous: 'OFF' | 'NORMAL' | 'FULL' | 'EXTRA' } {
    const names = ['OFF', 'NORMAL', 'FULL', 'EXTRA'] as const;
    return {
      journalMode: String(this.#db.pragma('journal_mode', { simple: true })),
      synchronous: names[this.#db.pragma('synchronous', { simple: true }) as number] ?? 'OFF',
    };
  }

  /** A batch's report from these records (`lineside report batch`, the page's download). */
  batchReport(batchId: string, opts: { generatedBy: Actor; line?: string | null; now?: number }): BatchReport {
    return readBatchReport(this.#db, batchId, opts);
  }

  /** The most recent batches, newest first, with their period and size (for the page's report list). */
  batches(limit: number): Array<{ batchId: string; from: number; to: number; inspections: number }> {
    return this.#db
      .prepare(
        `SELECT batch_id AS batchId, MIN(started_at) AS "from", MAX(started_at) AS "to", COUNT(*) AS inspections
         FROM inspections WHERE batch_id IS NOT NULL GROUP BY batch_id ORDER BY "to" DESC LIMIT ?`,
      )
      .all(limit) as Array<{ batchId: string; from: number; to: number; inspections: number }>;
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }
}
