import type { Verdict } from '../domain/verdict.js';
import type { Actor } from '../records/audit.js';
import type { Db } from './db.js';

/** An evidence image that retention may delete. */
export interface EvidenceCandidate {
  inspectionId: number;
  path: string;
  bytes: number;
  verdict: Verdict;
  createdAt: number;
}

export interface HeldBatch {
  batchId: string;
  at: number;
  actor: string;
  reason: string;
}

const NOT_DELETED_NOT_HELD = `
  NOT EXISTS (SELECT 1 FROM evidence_deletions d WHERE d.inspection_id = e.inspection_id)
  AND (i.batch_id IS NULL OR i.batch_id NOT IN (SELECT batch_id FROM held_batches))`;

/** The SQL of evidence retention and batch holds. Nothing here deletes a row. */
export class EvidenceRetentionRepository {
  readonly #db: Db;
  readonly #olderThan;
  readonly #byAge;
  readonly #bytesKept;
  readonly #bytesSince;
  readonly #insertDeletion;
  readonly #isDeleted;
  readonly #held;
  readonly #heldOne;
  readonly #holdEvent;

  constructor(db: Db) {
    this.#db = db;
    const select = `SELECT e.inspection_id AS inspectionId, e.path, e.bytes, i.verdict, e.created_at AS createdAt
      FROM evidence e JOIN inspections i ON i.id = e.inspection_id`;
    this.#olderThan = db.prepare(`${select} WHERE i.verdict = ? AND e.created_at < ? AND e.inspection_id > ? AND ${NOT_DELETED_NOT_HELD}
      ORDER BY e.inspection_id LIMIT ?`);
    this.#byAge = db.prepare(`${select} WHERE (i.verdict = 'pass') = ? AND e.inspection_id > ? AND ${NOT_DELETED_NOT_HELD}
      ORDER BY e.inspection_id LIMIT ?`);
    this.#bytesKept = db.prepare(`SELECT COALESCE(SUM(e.bytes), 0) AS n FROM evidence e
      WHERE NOT EXISTS (SELECT 1 FROM evidence_deletions d WHERE d.inspection_id = e.inspection_id)`);
    this.#bytesSince = db.prepare(`SELECT COALESCE(SUM(bytes), 0) AS n FROM evidence WHERE created_at >= ?`);
    this.#insertDeletion = db.prepare(`INSERT INTO evidence_deletions (inspection_id, deleted_at, reason) VALUES (?, ?, ?)`);
    this.#isDeleted = db.prepare(`SELECT deleted_at AS deletedAt, reason FROM evidence_deletions WHERE inspection_id = ?`);
    this.#held = db.prepare(`SELECT batch_id AS batchId, at, actor, reason FROM held_batches ORDER BY at`);
    this.#heldOne = db.prepare(`SELECT batch_id AS batchId, at, actor, reason FROM held_batches WHERE batch_id = ?`);
    this.#holdEvent = db.prepare(`INSERT INTO batch_holds (batch_id, kind, at, actor, role, reason) VALUES (?, ?, ?, ?, ?, ?)`);
  }

  /** Images of this verdict created before `before`, not deleted, not in a held batch; by id after `afterId`. */
  olderThan(verdict: Verdict, before: number, afterId: number, limit: number): EvidenceCandidate[] {
    return this.#olderThan.all(verdict, before, afterId, limit) as EvidenceCandidate[];
  }

  /** Images kept and deletable, oldest first: passes (`passes` true) or every other verdict. */
  oldest(passes: boolean, afterId: number, limit: number): EvidenceCandidate[] {
    return this.#byAge.all(passes ? 1 : 0, afterId, limit) as EvidenceCandidate[];
  }

  /** Bytes of every image not deleted (held or not). */
  bytesKept(): number {
    return (this.#bytesKept.get() as { n: number }).n;
  }

  /** Bytes of images recorded since `at`. */
  bytesSince(at: number): number {
    return (this.#bytesSince.get(at) as { n: number }).n;
  }

  /** Mark images deleted, in one transaction with `inSameTransaction` (the audit entry). */
  recordDeletions(ids: readonly number[], reason: string, at: number, inSameTransaction: () => void): void {
    this.#db.transaction(() => {
      for (const id of ids) this.#insertDeletion.run(id, at, reason);
      inSameTransaction();
    })();
  }

  deletion(inspectionId: number): { deletedAt: number; reason: string } | undefined {
    return this.#isDeleted.get(inspectionId) as { deletedAt: number; reason: string } | undefined;
  }

  held(): HeldBatch[] {
    return this.#held.all() as HeldBatch[];
  }

  heldBatch(batchId: string): HeldBatch | undefined {
    return this.#heldOne.get(batchId) as HeldBatch | undefined;
  }

  /** Append a hold or release; `inSameTransaction` (the audit entry) commits with it or not at all. */
  holdEvent(batchId: string, kind: 'hold' | 'release', by: Actor, reason: string, at: number, inSameTransaction: () => void): void {
    this.#db.transaction(() => {
      this.#holdEvent.run(batchId, kind, at, by.user, by.role, reason);
      inSameTransaction();
    })();
  }
}
