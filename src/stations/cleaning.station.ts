import type { CleaningStationConfig } from '../config/schema.js';
import type { Finding } from '../domain/detection.js';
import type { StoredInspection } from '../domain/inspection.js';
import { Verdict } from '../domain/verdict.js';
import type { PlcTrigger } from '../plc/plc-link.js';
import { cleaningMontage } from './cleaning-montage.js';
import { readFile } from 'node:fs/promises';
import { residueMap } from '../vision/residue-map.js';
import { inspectFrame, type Inspected } from './inspect.js';
import type { Station, StationDeps, StationHealth } from './station.js';

const SEVERITY: Record<Verdict, number> = { pass: 0, inconclusive: 1, reject: 2, not_inspected: 3 };
/** `requestedBy` of a check the PLC's CleanCheckRequest started. */
export const PLC_REQUESTER = 'PLC';

/**
 * Cleaning verification on demand (operator or PLC request): capture the configured views, judge
 * each, and record one verification whose verdict is the worst view's. Requests are handled one
 * at a time, in order.
 */
export class CleaningStation implements Station {
  readonly config: CleaningStationConfig;
  readonly #d: StationDeps;
  #chain: Promise<unknown> = Promise.resolve();
  #unsubscribe: (() => void) | null = null;
  /** Why Ready is held (holdReadyUntilPass after a failed check), or null. */
  #hold: string | null = null;

  constructor(config: CleaningStationConfig, deps: StationDeps) {
    this.config = config;
    this.#d = deps;
  }

  async start(): Promise<void> {
    await this.#d.source.start();
    this.#unsubscribe = this.#d.plc?.onTrigger(this.config.id, (t) => void this.#enqueue(t, PLC_REQUESTER)) ?? null;
  }

  async stop(): Promise<void> {
    this.#unsubscribe?.();
    await this.#chain;
    await this.#d.source.stop();
  }

  health(): StationHealth {
    return { camera: this.#d.source.health(), model: this.#d.model.health.value, ...(this.#hold ? { readyHold: this.#hold } : {}) };
  }

  /**
   * `by`: who asks (the user name; recorded as the check's `requestedBy`). `batchId`: the batch the
   * equipment is cleaned for (changeover), when the requester gives it.
   */
  requestCheck(by: string, equipmentId: string, batchId?: string): Promise<StoredInspection | null> {
    return this.#enqueue(null, by, equipmentId, batchId);
  }

  #enqueue(trigger: PlcTrigger | null, by: string, equipmentId?: string, batchId?: string): Promise<StoredInspection | null> {
    const run = this.#chain.then(() => this.#verify(trigger, by, equipmentId, batchId));
    this.#chain = run.catch(() => undefined);
    return run;
  }

  async #verify(trigger: PlcTrigger | null, by: string, equipmentId?: string, batchId?: string): Promise<StoredInspection | null> {
    const startedAt = Date.now();
    const ctx = {
      triggerCount: trigger?.count ?? null,
      // The equipment verified: from the page's request, or the PLC's PartId when the PLC asks.
      partId: equipmentId ?? (trigger?.partId || null),
      batchId: batchId ?? (trigger?.batchId || null),
      recipeIndex: trigger?.recipeIndex ?? null,
      startedAt,
    };
    const views: Inspected[] = [];
    for (let i = 0; i < this.config.views; i++) {
      // Every view is a distinct frame taken after the request.
      const v = await inspectFrame(this.config, this.#d.model, ctx, () => this.#d.source.grab({ after: startedAt }));
      views.push(await this.#withResidue(v, ctx.partId));
    }
    const worst = views.reduce((a, b) => (SEVERITY[b.record.verdict] > SEVERITY[a.record.verdict] ? b : a));
    const findings: Finding[] = views.flatMap((v, i) => v.record.findings.map((f) => ({ ...f, rule: `view${i + 1}:${f.rule}` })));
    const sum = (k: 'acquireMs' | 'preprocessMs' | 'inferMs' | 'decodeMs' | 'rulesMs' | 'totalMs'): number =>
      views.reduce((a, v) => a + (v.record.timings[k] ?? 0), 0);
    const worstIndex = views.indexOf(worst) + 1;
    // Evidence of every view, side by side; the worst view's frame alone if one was not acquired.
    const montage = views.every((v) => v.frame)
      ? await cleaningMontage(views.map((v, i) => ({ frame: v.frame!, findings: findings.filter((f) => f.rule.startsWith(`view${i + 1}:`)) }))).catch(() => null)
      : null;
    const combined: Inspected = {
      frame: montage?.frame ?? worst.frame,
      record: {
        ...worst.record,
        requestedBy: by,
        findings: montage?.findings ?? findings,
        reason: worst.record.reason ? `view ${worstIndex}/${views.length}: ${worst.record.reason}` : null,
        frameOrigin: views.map((v) => v.record.frameOrigin ?? '?').join(' '),
        timings: { acquireMs: sum('acquireMs'), preprocessMs: sum('preprocessMs'), inferMs: sum('inferMs'), decodeMs: sum('decodeMs'), rulesMs: sum('rulesMs'), totalMs: sum('totalMs') },
      },
    };
    this.#d.logger.info({ stationId: this.config.id, requestedBy: by, verdict: worst.record.verdict }, 'cleaning verification');
    const stored = await this.#d.recorder.commit(this.config, combined, trigger?.count ?? null);
    for (const v of views) if (v.frame) await this.#d.source.release?.(v.frame);
    if (worst.record.verdict === Verdict.reject) {
      if (this.config.holdReadyUntilPass) this.#hold = `cleaning check ${stored?.id ?? ''} failed: Ready held until a check passes`;
      this.#d.alarms.raise(this.config.id, 'cleaningFailed', 'warning', `cleaning verification failed: ${combined.record.reason ?? 'residue found'}`);
    } else if (worst.record.verdict === Verdict.pass) {
      this.#hold = null;
      this.#d.alarms.clear(this.config.id, 'cleaningFailed');
    }
    return stored;
  }

  /** Adds the residue regions found against the equipment's clean reference; a view with enough residue fails. */
  async #withResidue(v: Inspected, equipmentId: string | null): Promise<Inspected> {
    const r = this.config.residue;
    const refPath = r ? ((equipmentId ? r.references[equipmentId] : undefined) ?? r.reference) : undefined;
    if (!r || !v.frame || v.record.verdict === Verdict.notInspected) return v;
    if (!refPath) return { ...v, record: { ...v.record, verdict: Verdict.notInspected, reason: `no clean reference image for equipment ${equipmentId ?? '(none)'}` } };
    try {
      const map = await residueMap(v.frame, await readFile(refPath), r);
      const pct = map.fraction * 100;
      const fails = map.areaPx > 0 && pct >= r.rejectAreaPercent;
      const findings: Finding[] = map.regions.map((g) => ({
        label: `residue ${g.areaPx} px (${((g.areaPx / (map.width * map.height)) * 100).toFixed(2)}%) at ${g.box.x},${g.box.y} ${g.box.w}x${g.box.h}`,
        score: Math.min(1, g.score),
        box: g.box,
        rule: 'residue:reference',
        effect: fails ? 'reject' : 'info',
        rejectCode: fails ? r.code : 0,
      }));
      if (!fails) return { ...v, record: { ...v.record, findings: [...v.record.findings, ...findings] } };
      return {
        ...v,
        record: { ...v.record, verdict: Verdict.reject, rejectCode: r.code, score: Math.min(1, map.fraction * 20), reason: `residue ${map.areaPx} px (${pct.toFixed(2)}% of the view) in ${map.regions.length} region(s)`, findings: [...v.record.findings, ...findings] },
      };
    } catch (e) {
      return { ...v, record: { ...v.record, verdict: Verdict.notInspected, reason: `residue comparison failed: ${(e as Error).message}` } };
    }
  }
}
