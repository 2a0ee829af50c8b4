import type { Finding } from '../domain/detection.js';
import type { InspectionRecord, StoredInspection } from '../domain/inspection.js';
import { Verdict } from '../domain/verdict.js';
import type { Db } from './db.js';

export interface VerdictCounters {
  pass: number;
  reject: number;
  inconclusive: number;
  notInspected: number;
}

export function emptyCounters(): VerdictCounters {
  return { pass: 0, reject: 0, inconclusive: 0, notInspected: 0 };
}

export function counterKey(v: Verdict): keyof VerdictCounters {
  return v === Verdict.notInspected ? 'notInspected' : v;
}

interface InspectionRow {
  id: number;
  station_id: string;
  kind: InspectionRecord['kind'];
  trigger_count: number | null;
  part_id: string | null;
  batch_id: string | null;
  recipe_index: number | null;
  recipe_name: string | null;
  requested_by: string | null;
  face_blur: string | null;
  verdict: Verdict;
  reason: string | null;
  reject_code: number;
  score: number;
  started_at: number;
  acquire_ms: number | null;
  preprocess_ms: number | null;
  infer_ms: number | null;
  decode_ms: number | null;
  rules_ms: number | null;
  total_ms: number | null;
  model_versions: string;
  frame_origin: string | null;
  evidence_path: string | null;
  evidence_sha256: string | null;
  plc_written_at: number | null;
}

interface FindingRow {
  label: string;
  score: number;
  x: number | null;
  y: number | null;
  w: number | null;
  h: number | null;
  rule: string;
  effect: Finding['effect'];
  reject_code: number;
}

const SELECT = `
  SELECT i.*, e.path AS evidence_path, e.sha256 AS evidence_sha256, p.written_at AS plc_written_at
  FROM inspections i
  LEFT JOIN evidence e ON e.inspection_id = i.id
  LEFT JOIN plc_answers p ON p.inspection_id = i.id`;

/** Inspections, their findings, PLC answers and evidence. Rows are inserted, never updated. */
/** A history search; every filter is optional. Times are ms since the epoch, `to` exclusive. */
export interface InspectionQuery {
  readonly stationId?: string;
  readonly batchId?: string;
  readonly verdict?: Verdict;
  readonly defect?: string;
  readonly from?: number;
  readonly to?: number;
  readonly unreviewed?: boolean;
  /** At most this many (default 50, at most 500). */
  readonly limit?: number;
}

/** What the station page shows beside the live view: counters for the batch and the shift, a trend, a Pareto, latency. */
export interface StationSummary {
  readonly batch: { readonly batchId: string; readonly counters: VerdictCounters } | null;
  readonly since: { readonly from: number; readonly counters: VerdictCounters };
  /** Inspections and rejects per bucket, oldest first (buckets with no inspection left out). */
  readonly trend: ReadonlyArray<{ readonly at: number; readonly total: number; readonly rejects: number }>;
  /** Defect classes by the number of inspections they decided (reject or inconclusive) since `from`. */
  readonly pareto: ReadonlyArray<{ readonly label: string; readonly inspections: number }>;
  /** Median milliseconds per stage over the most recent inspections. */
  readonly latencyMs: Readonly<Record<string, number>>;
  readonly latencySample: number;
}

const STAGES = ['acquire_ms', 'preprocess_ms', 'infer_ms', 'decode_ms', 'rules_ms', 'total_ms'] as const;
const stageName = (c: string): string => c.replace(/_ms$/, 'Ms').replace(/_(\w)/g, (_, l: string) => l.toUpperCase());

export class InspectionRepository {
  readonly #db: Db;
  readonly #insert;
  readonly #insertFinding;
  readonly #insertAnswer;
  readonly #insertEvidence;
  readonly #byId;
  readonly #findings;
  readonly #recent;
  readonly #counts;
  readonly #lastEvidenced;
  readonly #recordTx;

  constructor(db: Db) {
    this.#db = db;
    this.#insert = db.prepare(`
      INSERT INTO inspections (station_id, kind, trigger_count, part_id, batch_id, recipe_index, recipe_name, requested_by, verdict, reason,
        reject_code, score, started_at, acquire_ms, preprocess_ms, infer_ms, decode_ms, rules_ms, total_ms,
        model_versions, frame_origin, face_blur, recorded_at)
      VALUES (@stationId, @kind, @triggerCount, @partId, @batchId, @recipeIndex, @recipeName, @requestedBy, @verdict, @reason,
        @rejectCode, @score, @startedAt, @acquireMs, @preprocessMs, @inferMs, @decodeMs, @rulesMs, @totalMs,
        @modelVersions, @frameOrigin, @faceBlur, @recordedAt)`);
    this.#insertFinding = db.prepare(`
      INSERT INTO findings (inspection_id, label, score, x, y, w, h, rule, effect, reject_code)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.#insertAnswer = db.prepare(`
      INSERT INTO plc_answers (inspection_id, result, result_count, written_at, latency_ms, error) VALUES (?, ?, ?, ?, ?, ?)`);
    this.#insertEvidence = db.prepare(`
      INSERT INTO evidence (inspection_id, path, sha256, bytes, created_at) VALUES (?, ?, ?, ?, ?)`);
    this.#byId = db.prepare(`${SELECT} WHERE i.id = ?`);
    this.#findings = db.prepare(`SELECT * FROM findings WHERE inspection_id = ? ORDER BY id`);
    this.#recent = db.prepare(`${SELECT} WHERE i.station_id = ? ORDER BY i.id DESC LIMIT ?`);
    this.#lastEvidenced = db.prepare(`${SELECT} WHERE i.station_id = ? AND e.path IS NOT NULL ORDER BY i.id DESC LIMIT 1`);
    this.#counts = db.prepare(`SELECT station_id, verdict, COUNT(*) AS n FROM inspections GROUP BY station_id, verdict`);
    this.#recordTx = db.transaction((rec: InspectionRecord): number => {
      const t = rec.timings;
      const id = Number(
        this.#insert.run({
          stationId: rec.stationId,
          kind: rec.kind,
          triggerCount: rec.triggerCount,
          partId: rec.partId,
          batchId: rec.batchId,
          recipeIndex: rec.recipeIndex,
          recipeName: rec.recipeName ?? null,
          requestedBy: rec.requestedBy ?? null,
          verdict: rec.verdict,
          reason: rec.reason,
          rejectCode: rec.rejectCode,
          score: rec.score,
          startedAt: rec.startedAt,
          acquireMs: t.acquireMs ?? null,
          preprocessMs: t.preprocessMs ?? null,
          inferMs: t.inferMs ?? null,
          decodeMs: t.decodeMs ?? null,
          rulesMs: t.rulesMs ?? null,
          totalMs: t.totalMs ?? null,
          modelVersions: JSON.stringify(rec.modelVersions),
          frameOrigin: rec.frameOrigin,
          faceBlur: rec.faceBlur ?? null,
          recordedAt: Date.now(),
        }).lastInsertRowid,
      );
      for (const f of rec.findings) {
        this.#insertFinding.run(id, f.label, f.score, f.box?.x ?? null, f.box?.y ?? null, f.box?.w ?? null, f.box?.h ?? null, f.rule, f.effect, f.rejectCode);
      }
      return id;
    });
  }

  /** Insert the inspection and its findings in one transaction; returns the stored record. */
  record(rec: InspectionRecord): StoredInspection {
    const id = this.#recordTx(rec);
    return { ...rec, id, evidencePath: null, evidenceSha256: null, plcWrittenAt: null };
  }

  recordPlcAnswer(inspectionId: number, a: { result: number; resultCount: number; writtenAt: number | null; latencyMs: number | null; error: string | null }): void {
    this.#insertAnswer.run(inspectionId, a.result, a.resultCount, a.writtenAt, a.latencyMs, a.error);
  }

  recordEvidence(inspectionId: number, e: { path: string; sha256: string; bytes: number }): void {
    this.#insertEvidence.run(inspectionId, e.path, e.sha256, e.bytes, Date.now());
  }

  get(id: number): StoredInspection | undefined {
    const row = this.#byId.get(id) as InspectionRow | undefined;
    return row ? this.#toStored(row) : undefined;
  }

  recent(stationId: string, limit: number): StoredInspection[] {
    return (this.#recent.all(stationId, limit) as InspectionRow[]).map((r) => this.#toStored(r));
  }

  /** The station's newest inspection that has an evidence image. */
  lastWithEvidence(stationId: string): StoredInspection | undefined {
    const row = this.#lastEvidenced.get(stationId) as InspectionRow | undefined;
    return row ? this.#toStored(row) : undefined;
  }

  /**
   * Inspections matching every given filter, newest first (the page's history search). `defect`
   * matches a finding's label; `unreviewed` keeps only those with no review row yet.
   */
  search(q: InspectionQuery): StoredInspection[] {
    const where: string[] = [];
    const args: Array<string | number> = [];
    if (q.stationId) (where.push('i.station_id = ?'), args.push(q.stationId));
    if (q.batchId) (where.push('i.batch_id = ?'), args.push(q.batchId));
    if (q.verdict) (where.push('i.verdict = ?'), args.push(q.verdict));
    if (q.from !== undefined) (where.push('i.started_at >= ?'), args.push(q.from));
    if (q.to !== undefined) (where.push('i.started_at < ?'), args.push(q.to));
    if (q.defect) (where.push('EXISTS (SELECT 1 FROM findings f WHERE f.inspection_id = i.id AND f.label = ?)'), args.push(q.defect));
    if (q.unreviewed) where.push('NOT EXISTS (SELECT 1 FROM reviews r WHERE r.inspection_id = i.id)');
    const sql = `${SELECT}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY i.id DESC LIMIT ?`;
    args.push(Math.min(Math.max(1, q.limit ?? 50), 500));
    return (this.#db.prepare(sql).all(...args) as InspectionRow[]).map((r) => this.#toStored(r));
  }

  /** Counters, trend, Pareto and stage latency of one station (the station page). */
  summary(stationId: string, opts: { shiftFrom: number; trendFrom: number; bucketMs: number; latencySample?: number }): StationSummary {
    const db = this.#db;
    const counted = (rows: Array<{ verdict: Verdict; n: number }>): VerdictCounters => {
      const c = emptyCounters();
      for (const r of rows) c[counterKey(r.verdict)] += r.n;
      return c;
    };
    const lastBatch = db.prepare(`SELECT batch_id FROM inspections WHERE station_id = ? AND batch_id IS NOT NULL ORDER BY id DESC LIMIT 1`).get(stationId) as { batch_id: string } | undefined;
    const batch = lastBatch
      ? { batchId: lastBatch.batch_id, counters: counted(db.prepare(`SELECT verdict, COUNT(*) AS n FROM inspections WHERE station_id = ? AND batch_id = ? GROUP BY verdict`).all(stationId, lastBatch.batch_id) as Array<{ verdict: Verdict; n: number }>) }
      : null;
    const since = counted(db.prepare(`SELECT verdict, COUNT(*) AS n FROM inspections WHERE station_id = ? AND started_at >= ? GROUP BY verdict`).all(stationId, opts.shiftFrom) as Array<{ verdict: Verdict; n: number }>);
    const trend = (
      db
        .prepare(
          `SELECT (started_at - @from) / @bucket AS b, COUNT(*) AS total, SUM(verdict = 'reject') AS rejects
           FROM inspections WHERE station_id = @station AND started_at >= @from GROUP BY b ORDER BY b`,
        )
        .all({ station: stationId, from: opts.trendFrom, bucket: opts.bucketMs }) as Array<{ b: number; total: number; rejects: number }>
    ).map((r) => ({ at: opts.trendFrom + Math.floor(r.b) * opts.bucketMs, total: r.total, rejects: r.rejects }));
    const pareto = db
      .prepare(
        `SELECT f.label AS label, COUNT(DISTINCT f.inspection_id) AS inspections FROM findings f JOIN inspections i ON i.id = f.inspection_id
         WHERE i.station_id = ? AND i.started_at >= ? AND f.effect IN ('reject','inconclusive') GROUP BY f.label ORDER BY inspections DESC, label LIMIT 10`,
      )
      .all(stationId, opts.shiftFrom) as Array<{ label: string; inspections: number }>;
    const sample = opts.latencySample ?? 200;
    const recent = db.prepare(`SELECT ${STAGES.join(', ')} FROM inspections WHERE station_id = ? ORDER BY id DESC LIMIT ?`).all(stationId, sample) as Array<Record<string, number | null>>;
    const latencyMs: Record<string, number> = {};
    for (const col of STAGES) {
      const v = recent.map((r) => r[col]).filter((x): x is number => typeof x === 'number').sort((a, b) => a - b);
      if (v.length) latencyMs[stageName(col)] = v[Math.floor((v.length - 1) / 2)]!;
    }
    return { batch, since: { from: opts.shiftFrom, counters: since }, trend, pareto, latencyMs, latencySample: recent.length };
  }

  /** Verdict counts per station over the whole database (for counters after a restart). */
  countsByStation(): Map<string, VerdictCounters> {
    const out = new Map<string, VerdictCounters>();
    for (const r of this.#counts.all() as Array<{ station_id: string; verdict: Verdict; n: number }>) {
      const c = out.get(r.station_id) ?? emptyCounters();
      c[counterKey(r.verdict)] += r.n;
      out.set(r.station_id, c);
    }
    return out;
  }

  #toStored(r: InspectionRow): StoredInspection {
    const findings = (this.#findings.all(r.id) as FindingRow[]).map(
      (f): Finding => ({
        label: f.label,
        score: f.score,
        box: f.x === null || f.y === null || f.w === null || f.h === null ? undefined : { x: f.x, y: f.y, w: f.w, h: f.h },
        rule: f.rule,
        effect: f.effect,
        rejectCode: f.reject_code,
      }),
    );
    const timing = (v: number | null): number | undefined => v ?? undefined;
    return {
      id: r.id,
      stationId: r.station_id,
      kind: r.kind,
      triggerCount: r.trigger_count,
      partId: r.part_id,
      batchId: r.batch_id,
      recipeIndex: r.recipe_index,
      recipeName: r.recipe_name,
      requestedBy: r.requested_by,
      verdict: r.verdict,
      reason: r.reason,
      rejectCode: r.reject_code,
      score: r.score,
      startedAt: r.started_at,
      timings: {
        acquireMs: timing(r.acquire_ms),
        preprocessMs: timing(r.preprocess_ms),
        inferMs: timing(r.infer_ms),
        decodeMs: timing(r.decode_ms),
        rulesMs: timing(r.rules_ms),
        totalMs: timing(r.total_ms),
      },
      modelVersions: JSON.parse(r.model_versions) as Record<string, string>,
      frameOrigin: r.frame_origin,
      faceBlur: r.face_blur,
      findings,
      evidencePath: r.evidence_path,
      evidenceSha256: r.evidence_sha256,
      plcWrittenAt: r.plc_written_at,
    };
  }
}
