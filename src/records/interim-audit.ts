import type { Logger } from '../observability/logger.js';
import type { AuditEntry, AuditLog, AuditRecord } from './audit.js';

/**
 * Stand-in until the database audit trail (hash-chained table, part A of the records work) is wired
 * in `main.ts`: every entry goes to the structured log at info with `audit: true`, so nothing an
 * operator does is silently unrecorded meanwhile. It keeps no chain; `between` sees this run only.
 * MERGE: replace with the store's audit trail in `Appliance.#start` and delete this file.
 */
export class InterimAuditLog implements AuditLog {
  readonly #log: Logger;
  readonly #entries: AuditRecord[] = [];

  constructor(log: Logger) {
    this.#log = log;
  }

  append(entry: AuditEntry): AuditRecord {
    const rec: AuditRecord = { ...entry, seq: this.#entries.length + 1, at: Date.now(), prevHash: '', hash: '' };
    this.#log.info({ audit: true, ...rec }, `audit: ${entry.action} ${entry.objectType} ${entry.objectId}`);
    if (this.#entries.length < 10_000) this.#entries.push(rec);
    return rec;
  }

  between(from: number, to: number): AuditRecord[] {
    return this.#entries.filter((e) => e.at >= from && e.at < to);
  }
}
