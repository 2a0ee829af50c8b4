import type { StoredInspection } from '../domain/inspection.js';
import { Verdict } from '../domain/verdict.js';

/**
 * OPC 40100-1 §12.19 ResultStateDataType: an Int32 saying how far the *processing* of a result got,
 * not whether the part is good. 1 Completed, 2 Processing, 3 Aborted, 4 Failed; 0 Undefined; values
 * below 0 are application-specific.
 */
export const ResultState = { undefined: 0, completed: 1, processing: 2, aborted: 3, failed: 4 } as const;
export type ResultState = (typeof ResultState)[keyof typeof ResultState];

/**
 * The ResultState of a verdict. Pass, reject and inconclusive are all inspections carried out to
 * the end (Completed): what was decided travels in the event's Verdict field. A part the appliance
 * did not inspect (dropped frame, stale frame, model error, unhealthy model, unknown recipe) is
 * Failed, so a client that only reads ResultState never counts it as an inspected part.
 */
export function resultStateFor(verdict: Verdict): ResultState {
  switch (verdict) {
    case Verdict.pass:
    case Verdict.reject:
    case Verdict.inconclusive:
      return ResultState.completed;
    case Verdict.notInspected:
      return ResultState.failed;
  }
}

/** Event Severity (1–1000, OPC 10000-5) of a ResultReady event: a reject stands out from a pass. */
export function resultSeverity(verdict: Verdict): number {
  switch (verdict) {
    case Verdict.pass:
      return 100;
    case Verdict.inconclusive:
      return 400;
    case Verdict.reject:
      return 500;
    case Verdict.notInspected:
      return 700;
  }
}

/** The fields of one ResultReady event, in plain values; the server turns them into Variants. */
export interface ResultRecord {
  readonly resultId: string;
  readonly partId: string | null;
  /** InternalRecipeId: the PLC's RecipeIndex, or `default` for a station without recipes. */
  readonly internalRecipeId: string;
  /** ExternalRecipeId: the same index with the recipe's name, when the PLC selected one. */
  readonly externalRecipe: { readonly id: string; readonly name: string | null } | null;
  readonly jobId: string;
  readonly configuration: { readonly id: string; readonly version: string };
  readonly creationTime: Date;
  readonly processing: { readonly start: Date; readonly end: Date; readonly acquisitionMs?: number; readonly processingMs?: number };
  readonly resultState: ResultState;
  readonly severity: number;
  readonly message: string;
  readonly verdict: Verdict;
  readonly rejectCode: number;
  readonly score: number;
  readonly batchId: string | null;
}

/** The standard result record (OPC 40100-1 ResultReadyEventType) of one stored inspection. */
export function resultRecord(i: StoredInspection): ResultRecord {
  const t = i.timings;
  const processingMs = sumDefined([t.preprocessMs, t.inferMs, t.decodeMs, t.rulesMs]);
  const end = new Date(i.startedAt + (t.totalMs ?? 0));
  const recipe = i.recipeIndex === null ? null : String(i.recipeIndex);
  const versions = Object.entries(i.modelVersions).map(([k, v]) => `${k}=${v}`).sort().join(',');
  const part = i.partId ? `part ${i.partId}` : `${i.kind} inspection`;
  return {
    resultId: String(i.id),
    partId: i.partId,
    internalRecipeId: recipe ?? 'default',
    externalRecipe: recipe === null ? null : { id: recipe, name: i.recipeName ?? null },
    jobId: i.triggerCount === null ? `${i.stationId}/${i.id}` : `${i.stationId}/${i.triggerCount}`,
    configuration: { id: i.stationId, version: versions || 'none' },
    creationTime: end,
    processing: {
      start: new Date(i.startedAt),
      end,
      ...(t.acquireMs === undefined ? {} : { acquisitionMs: t.acquireMs }),
      ...(processingMs === undefined ? {} : { processingMs }),
    },
    resultState: resultStateFor(i.verdict),
    severity: resultSeverity(i.verdict),
    message: `${i.stationId}: ${part}: ${i.verdict}${i.reason ? ` (${i.reason})` : ''}`,
    verdict: i.verdict,
    rejectCode: i.rejectCode,
    score: i.score,
    batchId: i.batchId,
  };
}

function sumDefined(values: readonly (number | undefined)[]): number | undefined {
  const present = values.filter((v): v is number => v !== undefined);
  return present.length === 0 ? undefined : present.reduce((a, b) => a + b, 0);
}
