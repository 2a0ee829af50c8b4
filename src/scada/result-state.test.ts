import { describe, expect, it } from 'vitest';
import type { StoredInspection } from '../domain/inspection.js';
import { inspection } from '../records/records.test-support.js';
import { resultRecord, ResultState, resultStateFor } from './result-state.js';

const stored = (over: Partial<StoredInspection> = {}): StoredInspection => ({ ...inspection(), id: 9, evidencePath: null, evidenceSha256: null, plcWrittenAt: null, ...over });

describe('ResultReady record', () => {
  it('maps every inspected verdict to Completed and a part not inspected to Failed', () => {
    expect(resultStateFor('pass')).toBe(ResultState.completed);
    expect(resultStateFor('reject')).toBe(ResultState.completed);
    expect(resultStateFor('inconclusive')).toBe(ResultState.completed);
    expect(resultStateFor('not_inspected')).toBe(ResultState.failed);
  });

  it('carries the part, recipe, job and processing times of the inspection', () => {
    const r = resultRecord(stored({ startedAt: 1_000, timings: { acquireMs: 3, preprocessMs: 4, inferMs: 10, rulesMs: 1, totalMs: 25 }, recipeName: 'Tablet 10 mg' }));
    expect(r).toMatchObject({ resultId: '9', partId: 'P-7', internalRecipeId: '1', externalRecipe: { id: '1', name: 'Tablet 10 mg' }, jobId: 'blister/7', verdict: 'inconclusive' });
    expect(r.processing).toEqual({ start: new Date(1_000), end: new Date(1_025), acquisitionMs: 3, processingMs: 15 });
    expect(r.message).toBe('blister: part P-7: inconclusive (empty_pocket 0.41)');
  });

  it('gives a station without recipes or part ids a default recipe and no part', () => {
    const r = resultRecord(stored({ kind: 'zone', stationId: 'gowning', partId: null, recipeIndex: null, triggerCount: null, verdict: 'pass', reason: null }));
    expect(r).toMatchObject({ partId: null, internalRecipeId: 'default', externalRecipe: null, jobId: 'gowning/9', message: 'gowning: zone inspection: pass', severity: 100 });
  });
});
