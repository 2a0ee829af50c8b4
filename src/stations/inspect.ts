import type { StationConfig } from '../config/schema.js';
import type { Finding } from '../domain/detection.js';
import { reasonOf } from '../domain/errors.js';
import type { Frame } from '../domain/frame.js';
import type { InspectionRecord, StageTimings } from '../domain/inspection.js';
import { Verdict } from '../domain/verdict.js';
import { evaluate, type RuleOutcome } from '../rules/evaluate.js';
import type { Inspector } from '../vision/inspector.js';

/** The part context a PLC trigger (or the station itself) supplies. */
export interface InspectionContext {
  readonly triggerCount: number | null;
  readonly partId: string | null;
  readonly batchId: string | null;
  readonly recipeIndex: number | null;
  readonly recipeName?: string | null;
  /** When the trigger arrived or the loop started this inspection (epoch ms). */
  readonly startedAt: number;
}

export interface Inspected {
  readonly record: InspectionRecord;
  /** The frame, kept for the evidence image; absent when no frame was acquired. */
  readonly frame: Frame | null;
}

/** frame → model → rules. Never throws: any failure is a not-inspected record with its reason. */
export async function inspectFrame(
  station: StationConfig,
  model: Inspector,
  ctx: InspectionContext,
  acquire: () => Promise<Frame>,
  opts: { maxFrameAgeMs?: number } = {},
): Promise<Inspected> {
  const t0 = performance.now();
  const timings: StageTimings = {};
  let frame: Frame | null = null;
  try {
    frame = await acquire();
    timings.acquireMs = performance.now() - t0;
    if (opts.maxFrameAgeMs !== undefined) {
      const age = Date.now() - frame.capturedAt;
      if (age > opts.maxFrameAgeMs) {
        return done(station, model, ctx, frame, timings, t0, notInspected(`frame is ${age} ms old (limit ${opts.maxFrameAgeMs} ms)`));
      }
    }
    const r = await model.infer(frame, station.rules.roi);
    timings.preprocessMs = r.preprocessMs;
    timings.inferMs = r.inferMs;
    timings.decodeMs = r.decodeMs;
    const t3 = performance.now();
    const outcome = evaluate(r.output, station.rules);
    timings.rulesMs = performance.now() - t3;
    return done(station, model, ctx, frame, timings, t0, outcome);
  } catch (e) {
    return done(station, model, ctx, frame, timings, t0, notInspected(reasonOf(e)));
  }
}

/** A trigger answered without looking at a frame (queue full, trigger missed): not inspected, with the reason. */
export function skipped(station: StationConfig, model: Inspector, ctx: InspectionContext, reason: string): Inspected {
  return done(station, model, ctx, null, {}, performance.now(), notInspected(reason));
}

/** A verdict that is never pass: the reason goes into the record. */
export function notInspected(reason: string, findings: readonly Finding[] = []): Omit<RuleOutcome, 'verdict'> & { verdict: Verdict } {
  return { verdict: Verdict.notInspected, findings, rejectCode: 0, score: 0, reason };
}

function done(
  station: StationConfig,
  model: Inspector,
  ctx: InspectionContext,
  frame: Frame | null,
  timings: StageTimings,
  t0: number,
  outcome: { verdict: Verdict; findings: readonly Finding[]; rejectCode: number; score: number; reason: string | null },
): Inspected {
  timings.totalMs = performance.now() - t0;
  return {
    frame,
    record: {
      stationId: station.id,
      kind: station.kind,
      triggerCount: ctx.triggerCount,
      partId: ctx.partId ?? frame?.partId ?? null,
      batchId: ctx.batchId,
      recipeIndex: ctx.recipeIndex,
      recipeName: ctx.recipeName ?? null,
      verdict: outcome.verdict,
      reason: outcome.reason,
      rejectCode: outcome.rejectCode,
      score: outcome.score,
      startedAt: ctx.startedAt,
      timings,
      modelVersions: model.versions,
      frameOrigin: frame?.origin ?? null,
      findings: outcome.findings,
    },
  };
}
