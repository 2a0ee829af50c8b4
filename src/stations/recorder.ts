import type { StationConfig } from '../config/schema.js';
import { reasonOf } from '../domain/errors.js';
import type { LinesideEvents } from '../domain/events.js';
import { HealthCell, HealthState } from '../domain/health.js';
import type { StoredInspection } from '../domain/inspection.js';
import type { TypedEmitter } from '../domain/typed-emitter.js';
import { plcResultFor, PlcResultCode, Verdict } from '../domain/verdict.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { PlcLink } from '../plc/plc-link.js';
import type { Box } from '../domain/geometry.js';
import type { EvidenceWriter } from '../store/evidence.js';
import { counterKey, emptyCounters, type InspectionRepository, type VerdictCounters } from '../store/inspection.repository.js';
import type { Inspected } from './inspect.js';

/** Evidence images being encoded at once; beyond this an image is skipped (and counted), never queued without bound. */
const MAX_EVIDENCE_IN_FLIGHT = 8;

export interface RecorderDeps {
  readonly inspections: Pick<InspectionRepository, 'record' | 'recordPlcAnswer' | 'recordEvidence' | 'countsByStation' | 'recent' | 'lastWithEvidence'>;
  readonly evidence: EvidenceWriter;
  readonly plc: Pick<PlcLink, 'writeResult'> | null;
  readonly bus: TypedEmitter<LinesideEvents>;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** Keep 1 in N pass images at all (retention.evidence.passSampling); 1 keeps every one. */
  readonly passSampling?: number;
}

/**
 * The sinks of every inspection, in the order that keeps nothing lost: the record first (SQLite),
 * then the PLC answer, then the evidence image in the background, then the live bus.
 */
export class Recorder {
  /** Storage health: down after a failed write, ok after the next good one. */
  readonly storage = new HealthCell(HealthState.ok);
  readonly #deps: RecorderDeps;
  readonly #counters = new Map<string, VerdictCounters>();
  readonly #last = new Map<string, StoredInspection>();
  readonly #lastEvidenced = new Map<string, StoredInspection>();
  readonly #evidence = new Set<Promise<void>>();
  readonly #passesSeen = new Map<string, number>();

  constructor(deps: RecorderDeps, stations: readonly StationConfig[]) {
    this.#deps = deps;
    const counts = deps.inspections.countsByStation();
    for (const s of stations) {
      this.#counters.set(s.id, counts.get(s.id) ?? emptyCounters());
      const last = deps.inspections.recent(s.id, 1)[0];
      if (last) this.#last.set(s.id, last);
      const evidenced = deps.inspections.lastWithEvidence(s.id);
      if (evidenced) this.#lastEvidenced.set(s.id, evidenced);
    }
  }

  counters(stationId: string): VerdictCounters {
    return { ...(this.#counters.get(stationId) ?? emptyCounters()) };
  }

  last(stationId: string): StoredInspection | undefined {
    return this.#last.get(stationId);
  }

  /** The newest inspection of the station whose evidence image is on disk. */
  lastWithEvidence(stationId: string): StoredInspection | undefined {
    return this.#lastEvidenced.get(stationId);
  }

  /**
   * Record one inspection; answer the PLC when `resultCount` is given. Resolves after the PLC
   * write (or its failure), so callers can keep answers in trigger order. Evidence is kept for the
   * station's configured verdicts unless `keepEvidence` decides.
   */
  async commit(
    station: StationConfig,
    insp: Inspected,
    resultCount: number | null,
    opts: { keepEvidence?: boolean; blur?: readonly Box[] } = {},
  ): Promise<StoredInspection | null> {
    const { logger: log, metrics } = this.#deps;
    let stored: StoredInspection | null = null;
    try {
      stored = this.#deps.inspections.record(insp.record);
      this.storage.set(HealthState.ok);
    } catch (e) {
      this.storage.set(HealthState.down, `cannot write records: ${reasonOf(e)}`);
      log.error({ err: e, stationId: station.id }, 'inspection could not be recorded');
    }
    // An unrecorded inspection is answered "not inspected": no verdict without its record.
    const verdict = stored ? insp.record.verdict : Verdict.notInspected;
    if (resultCount !== null && this.#deps.plc) await this.#answer(station, stored, verdict, insp, resultCount);
    if (!stored) return null;

    const c = this.#counters.get(station.id) ?? emptyCounters();
    c[counterKey(verdict)]++;
    this.#counters.set(station.id, c);
    metrics.inspections.inc({ station: station.id, verdict });
    const t = insp.record.timings;
    if (t.totalMs !== undefined) metrics.inspectionDuration.observe({ station: station.id }, t.totalMs / 1000);
    for (const stage of ['acquire', 'preprocess', 'infer', 'decode', 'rules'] as const) {
      const v = t[`${stage}Ms`];
      if (v !== undefined) metrics.stageDuration.observe({ station: station.id, stage }, v / 1000);
    }
    this.#last.set(station.id, stored);
    const keep = opts.keepEvidence ?? ((station.evidence as readonly string[]).includes(verdict) && this.#sampled(station.id, verdict));
    if (insp.frame && keep) this.#writeEvidence(station, stored, insp, opts.blur ?? []);
    this.#deps.bus.emit('inspection', stored);
    return stored;
  }

  /** Pass images are kept 1 in N per station (the first, then every Nth); other verdicts always. */
  #sampled(stationId: string, verdict: Verdict): boolean {
    const n = this.#deps.passSampling ?? 1;
    if (verdict !== Verdict.pass || n <= 1) return true;
    const seen = this.#passesSeen.get(stationId) ?? 0;
    this.#passesSeen.set(stationId, seen + 1);
    return seen % n === 0;
  }

  /** Wait for evidence images still being written (on stop: nothing lost). */
  async flush(): Promise<void> {
    await Promise.all([...this.#evidence]);
  }

  async #answer(station: StationConfig, stored: StoredInspection | null, verdict: Verdict, insp: Inspected, resultCount: number): Promise<void> {
    const { plc, metrics, logger: log } = this.#deps;
    const result = plcResultFor(verdict);
    const answer = {
      result,
      rejectCode: result === PlcResultCode.pass ? 0 : insp.record.rejectCode,
      partIdEcho: insp.record.partId ?? '',
      score: insp.record.score,
      resultCount,
    };
    let latencyMs: number | null = null;
    let error: string | null = null;
    try {
      latencyMs = await plc!.writeResult(station.id, answer);
      metrics.plcWriteDuration.observe({ station: station.id }, latencyMs / 1000);
    } catch (e) {
      error = reasonOf(e);
      metrics.plcWriteErrors.inc({ station: station.id });
      log.warn({ stationId: station.id, resultCount, err: error }, 'result not delivered to the PLC (the PLC rejects the part by timeout)');
    }
    if (!stored) return;
    try {
      this.#deps.inspections.recordPlcAnswer(stored.id, { result, resultCount, writtenAt: error ? null : Date.now(), latencyMs, error });
    } catch (e) {
      this.storage.set(HealthState.down, `cannot write records: ${reasonOf(e)}`);
      log.error({ err: e, stationId: station.id }, 'PLC answer could not be recorded');
    }
  }

  #writeEvidence(station: StationConfig, stored: StoredInspection, insp: Inspected, blur: readonly Box[]): void {
    if (this.#evidence.size >= MAX_EVIDENCE_IN_FLIGHT) {
      this.#deps.metrics.drops.inc({ station: station.id, reason: 'evidence_backlog' });
      this.#deps.logger.warn({ stationId: station.id, inspectionId: stored.id }, 'evidence image skipped: writer backlog full');
      return;
    }
    const job = this.#deps.evidence
      .write(insp.frame!, { stationId: station.id, inspectionId: stored.id, at: stored.startedAt, verdict: stored.verdict }, stored.findings, station.rules.roi, blur)
      .then((file) => {
        this.#deps.inspections.recordEvidence(stored.id, file);
        const prev = this.#lastEvidenced.get(station.id);
        if (!prev || prev.id < stored.id) this.#lastEvidenced.set(station.id, { ...stored, evidencePath: file.path, evidenceSha256: file.sha256 });
      })
      .catch((e: unknown) => this.#deps.logger.warn({ stationId: station.id, inspectionId: stored.id, err: reasonOf(e) }, 'evidence image not written'))
      .finally(() => this.#evidence.delete(job));
    this.#evidence.add(job);
  }
}
