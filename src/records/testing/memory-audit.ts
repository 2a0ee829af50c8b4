import type { AuditEntry, AuditLog, AuditRecord } from '../audit.js';

/**
 * An in-memory audit log for tests of components that audit what they change. It keeps entries in
 * order with sequence numbers and can be told to fail, so a test can show that a change whose audit
 * entry cannot be written does not happen either.
 */
export class MemoryAuditLog implements AuditLog {
  readonly entries: AuditRecord[] = [];
  failNext: Error | null = null;

  append(entry: AuditEntry): AuditRecord {
    if (this.failNext) {
      const e = this.failNext;
      this.failNext = null;
      throw e;
    }
    const rec: AuditRecord = { ...entry, seq: this.entries.length + 1, at: Date.now(), prevHash: '', hash: '' };
    this.entries.push(rec);
    return rec;
  }

  between(from: number, to: number): AuditRecord[] {
    return this.entries.filter((e) => e.at >= from && e.at < to);
  }

  actions(): string[] {
    return this.entries.map((e) => e.action);
  }
}
