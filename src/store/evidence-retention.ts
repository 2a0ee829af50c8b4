import { createHash } from 'node:crypto';
import { stat, statfs, unlink } from 'node:fs/promises';
import { isAbsolute, join, normalize } from 'node:path';
import { z } from 'zod';
import { ErrorCode, LinesideError, reasonOf } from '../domain/errors.js';
import { Verdict } from '../domain/verdict.js';
import type { Logger } from '../observability/logger.js';
import { SYSTEM, type Actor, type AuditLog } from '../records/audit.js';
import type { EvidenceCandidate, EvidenceRetentionRepository, HeldBatch } from './evidence-retention.repository.js';

const days = (d: number) => z.number().int().min(1).max(36_500).default(d);

/** `retention.evidence` in the config (README: Evidence retention). */
export const evidenceRetentionSchema = z
  .strictObject({
    /** Days an image is kept after it was written, per verdict. Rejects and inconclusive at least as long as passes. */
    keepDays: z
      .strictObject({ pass: days(30), reject: days(730), inconclusive: days(730), not_inspected: days(90) })
      .prefault({})
      .refine((k) => k.reject >= k.pass && k.inconclusive >= k.pass, { message: 'reject and inconclusive images must be kept at least as long as pass images' }),
    /** Keep 1 in N pass images at all (1 = every one the station's `evidence` list asks for). */
    passSampling: z.number().int().min(1).max(100_000).default(1),
    /** Most bytes the evidence images may take; over it, the oldest passes go first, then others by age. Omit for no budget. */
    budgetBytes: z.number().int().min(1_000_000).optional(),
    /** `storageLow` at this share of the budget; a budget run brings usage back under it. */
    warnAtPercent: z.number().min(10).max(99).default(90),
    /** `storageLow` when the data directory's filesystem has less free space than this. */
    minFreeBytes: z.number().int().min(0).default(2_000_000_000),
    /** How often retention runs (it also runs at start). */
    everyMinutes: z.number().min(1).max(24 * 60).default(60),
    /** How often free space and the budget are checked for the storageLow alarm. */
    checkEverySeconds: z.number().int().min(5).max(3600).default(60),
  })
  .prefault({});
export type EvidenceRetentionConfig = z.output<typeof evidenceRetentionSchema>;

const DAY_MS = 86_400_000;
const CHUNK = 2000;

export interface RetentionRun {
  deleted: number;
  bytes: number;
  /** Images the records list but that were not on disk: not marked deleted, so verify-audit reports them. */
  missing: number[];
  /** Images whose file could not be removed (marked deleted; the file is left over). */
  failed: number;
}

export interface StorageStatus {
  evidenceBytes: number;
  freeBytes: number;
  /** Why storage is low, or null. */
  warning: string | null;
}

export interface EvidenceRetentionDeps {
  readonly repo: EvidenceRetentionRepository;
  readonly audit: Pick<AuditLog, 'append'>;
  readonly dataDir: string;
  readonly config: EvidenceRetentionConfig;
  readonly logger: Logger;
}

/**
 * Deletes evidence images by age (per verdict) and by disk budget, never those of a held batch,
 * never a record: each deleted image gets an `evidence_deletions` row, and each batch of deletions
 * one audit entry (`evidenceDeleted`, SYSTEM) with the id range, counts and a digest of the ids.
 * Watches free space and the budget for the storageLow alarm.
 */
export class EvidenceRetention {
  readonly #d: EvidenceRetentionDeps;
  #timers: NodeJS.Timeout[] = [];
  #running: Promise<RetentionRun> | null = null;
  #status: StorageStatus = { evidenceBytes: 0, freeBytes: Number.POSITIVE_INFINITY, warning: null };
  #keptAt = 0;
  #keptBytes = 0;

  constructor(deps: EvidenceRetentionDeps) {
    this.#d = deps;
  }

  /** Run now, then on the configured periods. Resolves after the first run and check. */
  async start(): Promise<void> {
    await this.runOnce();
    const c = this.#d.config;
    const every = (ms: number, job: () => Promise<unknown>) => {
      const t = setInterval(() => void job().catch((e: unknown) => this.#d.logger.error({ err: reasonOf(e) }, 'evidence retention failed')), ms);
      t.unref();
      this.#timers.push(t);
    };
    every(c.everyMinutes * 60_000, () => this.runOnce());
    every(c.checkEverySeconds * 1000, () => this.checkSpace());
  }

  /** Stops the timers and waits for a run in progress (its deletions are recorded before it ends). */
  async stop(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    await this.#running?.catch(() => undefined);
  }

  /** The storageLow condition as last checked. */
  status(): StorageStatus {
    return this.#status;
  }

  /** One retention run (runs never overlap), then a space check. */
  async runOnce(now = Date.now()): Promise<RetentionRun> {
    if (this.#running) return this.#running;
    this.#running = this.#run(now).finally(() => (this.#running = null));
    const result = await this.#running;
    await this.checkSpace();
    return result;
  }

  async checkSpace(): Promise<StorageStatus> {
    const { config: c, repo, dataDir } = this.#d;
    const evidenceBytes = this.#keptBytes + repo.bytesSince(this.#keptAt);
    let freeBytes = Number.POSITIVE_INFINITY;
    let warning: string | null = null;
    try {
      const fs = await statfs(dataDir);
      freeBytes = fs.bavail * fs.bsize;
    } catch (e) {
      warning = `cannot read free space of ${dataDir}: ${reasonOf(e)}`;
    }
    if (freeBytes < c.minFreeBytes) warning = `${gb(freeBytes)} free on the data directory's filesystem, below retention.evidence.minFreeBytes (${gb(c.minFreeBytes)})`;
    else if (c.budgetBytes !== undefined && evidenceBytes >= (c.budgetBytes * c.warnAtPercent) / 100) {
      warning = `evidence images take ${gb(evidenceBytes)}, ${Math.round((evidenceBytes / c.budgetBytes) * 100)}% of retention.evidence.budgetBytes (${gb(c.budgetBytes)})`;
    }
    this.#status = { evidenceBytes, freeBytes, warning };
    return this.#status;
  }

  /** Put a batch on hold: none of its images is deleted until it is released. Audited `batchHeld`. */
  hold(batchId: string, actor: Actor, reason: string, client?: string): HeldBatch {
    const text = required(`holding batch "${batchId}"`, reason);
    const held = this.#d.repo.heldBatch(batchId);
    if (held) throw new LinesideError(ErrorCode.badRequest, `batch "${batchId}" is already on hold (by ${held.actor} since ${new Date(held.at).toISOString()})`);
    this.#holdEvent(batchId, 'hold', actor, text, client);
    this.#d.logger.info({ batchId, by: actor.user, reason: text }, 'batch put on hold: its evidence images are kept');
    return this.#d.repo.heldBatch(batchId)!;
  }

  /** Release a held batch; its images follow the normal retention again. Audited `batchReleased`. */
  release(batchId: string, actor: Actor, reason: string, client?: string): void {
    const text = required(`releasing batch "${batchId}"`, reason);
    const held = this.#d.repo.heldBatch(batchId);
    if (!held) throw new LinesideError(ErrorCode.badRequest, `batch "${batchId}" is not on hold`);
    this.#holdEvent(batchId, 'release', actor, text, client, held);
    this.#d.logger.info({ batchId, by: actor.user, reason: text }, 'batch released from hold');
  }

  held(): HeldBatch[] {
    return this.#d.repo.held();
  }

  #holdEvent(batchId: string, kind: 'hold' | 'release', actor: Actor, reason: string, client: string | undefined, before?: HeldBatch): void {
    const at = Date.now();
    this.#d.repo.holdEvent(batchId, kind, actor, reason, at, () =>
      this.#d.audit.append({
        actor,
        action: kind === 'hold' ? 'batchHeld' : 'batchReleased',
        objectType: 'batch',
        objectId: batchId,
        oldValue: before ? { held: true, since: new Date(before.at).toISOString(), by: before.actor } : { held: false },
        newValue: { held: kind === 'hold' },
        reason,
        ...(client === undefined ? {} : { client }),
      }),
    );
  }

  async #run(now: number): Promise<RetentionRun> {
    const { config: c, repo } = this.#d;
    const total: RetentionRun = { deleted: 0, bytes: 0, missing: [], failed: 0 };
    for (const verdict of Object.values(Verdict)) {
      const before = now - c.keepDays[verdict] * DAY_MS;
      await this.#sweep((after) => repo.olderThan(verdict, before, after, CHUNK), `${verdict} older than ${c.keepDays[verdict]} days (retention.evidence.keepDays.${verdict})`, total, () => true);
    }
    if (c.budgetBytes !== undefined) {
      let kept = repo.bytesKept();
      if (kept > c.budgetBytes) {
        const target = (c.budgetBytes * c.warnAtPercent) / 100;
        const overTarget = (x: EvidenceCandidate) => {
          if (kept <= target) return false;
          kept -= x.bytes;
          return true;
        };
        const reason = `over the evidence budget of ${c.budgetBytes} bytes (retention.evidence.budgetBytes), oldest first`;
        for (const passes of [true, false]) await this.#sweep((after) => repo.oldest(passes, after, CHUNK), reason, total, overTarget);
        if (kept > c.budgetBytes) this.#d.logger.warn({ keptBytes: kept, budgetBytes: c.budgetBytes }, 'evidence still over budget: the rest belongs to held batches');
      }
    }
    this.#keptAt = now;
    this.#keptBytes = repo.bytesKept() - repo.bytesSince(now);
    if (total.deleted > 0 || total.missing.length > 0) this.#d.logger.info({ ...total, missing: total.missing.length }, 'evidence retention run');
    return total;
  }

  /** Page through candidates (by id), taking each that `take` accepts until it refuses one. */
  async #sweep(page: (afterId: number) => EvidenceCandidate[], reason: string, total: RetentionRun, take: (c: EvidenceCandidate) => boolean): Promise<void> {
    let after = 0;
    for (;;) {
      const rows = page(after);
      if (rows.length === 0) return;
      after = rows.at(-1)!.inspectionId;
      const chosen: EvidenceCandidate[] = [];
      let stopped = false;
      for (const r of rows) {
        if (!take(r)) {
          stopped = true;
          break;
        }
        chosen.push(r);
      }
      await this.#delete(chosen, reason, total);
      if (stopped) return;
      // Let triggers and PLC traffic through between chunks.
      await new Promise((r) => setImmediate(r));
    }
  }

  async #delete(rows: EvidenceCandidate[], reason: string, total: RetentionRun): Promise<void> {
    const present: EvidenceCandidate[] = [];
    for (const r of rows) {
      const file = this.#file(r.path);
      if (file && (await stat(file).then(() => true, () => false))) present.push(r);
      else total.missing.push(r.inspectionId);
    }
    if (rows.length > present.length) {
      this.#d.logger.error({ inspectionIds: rows.filter((r) => !present.includes(r)).map((r) => r.inspectionId).slice(0, 50) }, 'evidence images missing from disk before retention reached them (not marked deleted)');
    }
    if (present.length === 0) return;
    const ids = present.map((r) => r.inspectionId);
    const bytes = present.reduce((n, r) => n + r.bytes, 0);
    const byVerdict: Record<string, number> = {};
    for (const r of present) byVerdict[r.verdict] = (byVerdict[r.verdict] ?? 0) + 1;
    // Marked deleted (with its audit entry) before the files go: a crash in between leaves files
    // that are over-kept, never a missing file the records cannot explain.
    this.#d.repo.recordDeletions(ids, reason, Date.now(), () =>
      this.#d.audit.append({
        actor: SYSTEM,
        action: 'evidenceDeleted',
        objectType: 'evidence',
        objectId: `${ids[0]}..${ids.at(-1)}`,
        newValue: { count: ids.length, bytes, byVerdict, firstInspectionId: ids[0], lastInspectionId: ids.at(-1), idsSha256: createHash('sha256').update(ids.join(',')).digest('hex') },
        reason,
      }),
    );
    for (const r of present) {
      try {
        await unlink(this.#file(r.path)!);
      } catch (e) {
        total.failed++;
        this.#d.logger.error({ inspectionId: r.inspectionId, err: reasonOf(e) }, 'evidence image marked deleted but the file could not be removed');
      }
    }
    total.deleted += ids.length;
    total.bytes += bytes;
  }

  /** The image's absolute path, or null for a path that would leave the evidence folder. */
  #file(path: string): string | null {
    const p = normalize(path);
    if (isAbsolute(p) || !p.startsWith(`evidence/`) || p.split('/').includes('..')) return null;
    return join(this.#d.dataDir, p);
  }
}

function required(what: string, text: string): string {
  const t = text.trim();
  if (t.length === 0) throw new LinesideError(ErrorCode.badRequest, `${what}: a reason is required`);
  if (t.length > 500) throw new LinesideError(ErrorCode.badRequest, `${what}: the reason is longer than 500 characters`);
  return t;
}

function gb(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(2)} GB` : `${(bytes / 1e6).toFixed(1)} MB`;
}
