import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { evaluateClassifierSet, evaluateDetectorSet, type SetReport } from '../../scripts/lib/fixture-eval.js';
import { readManifest, type Manifest } from './manifest.js';

/**
 * The committed demo models against the committed fixtures (their held-out test set; the models
 * were fitted on other seeds by scripts/make-models.ts). Per image: score ≥ 0.5, per-class NMS at
 * IoU 0.45, a detection counts when it overlaps a same-class truth box with IoU ≥ 0.3.
 *
 * Measured when the models were made: blister 40/40 images right; gowning 11/12 violation frames
 * caught (one bare hand scores 0.46) and 0/12 false alarms; hopper 12/12. The tolerances below
 * allow one borderline score to flip on a CPU with different floating-point kernels, no more.
 */
const modelsDir = fileURLToPath(new URL('../../models/', import.meta.url));
const fixturesDir = fileURLToPath(new URL('../../fixtures/', import.meta.url));

async function load(name: string): Promise<{ manifest: Manifest; session: ort.InferenceSession }> {
  const manifest = await readManifest(`${modelsDir}${name}.json`);
  const bytes = await readFile(`${modelsDir}${name}.onnx`);
  expect(createHash('sha256').update(bytes).digest('hex')).toBe(manifest.sha256);
  return { manifest, session: await ort.InferenceSession.create(bytes) };
}

function tally(report: SetReport, flaggedTruth: string) {
  const bad = report.images.filter((i) => i.truth === flaggedTruth);
  const good = report.images.filter((i) => i.truth !== flaggedTruth);
  return {
    bad: bad.length,
    caught: bad.filter((i) => i.flagged && i.correct).length,
    good: good.length,
    falseFlags: good.filter((i) => i.flagged).map((i) => i.file),
  };
}

describe('demo models on the demo fixtures', () => {
  it('blister-detector flags every defective card and no good card', async () => {
    const { manifest, session } = await load('blister-detector');
    expect(session.inputNames).toEqual(['images']);
    expect(session.outputNames).toEqual(['output0']);
    // Every defect class watched: a wrong-colour or foreign-particle detection on a good card is a false flag too.
    expect(manifest.classes).toEqual(['tablet', 'empty_pocket', 'broken_tablet', 'wrong_colour']);
    const report = await evaluateDetectorSet(session, manifest, `${fixturesDir}blister`, manifest.classes.filter((c) => c !== 'tablet'));
    const t = tally(report, 'defective');
    expect(t.bad).toBe(11);
    expect(t.caught).toBe(t.bad);
    expect(t.falseFlags.length).toBeLessThanOrEqual(1);
    await session.release();
  });

  it('ppe-detector catches at least 90 % of violation frames with at most one false alarm', async () => {
    const { manifest, session } = await load('ppe-detector');
    expect(session.outputNames).toEqual(['output0']);
    const report = await evaluateDetectorSet(session, manifest, `${fixturesDir}gowning`, ['head_no_mask', 'hand_bare']);
    const t = tally(report, 'violation');
    expect(t.bad).toBe(12);
    expect(t.caught).toBeGreaterThanOrEqual(11);
    expect(t.falseFlags.length).toBeLessThanOrEqual(1);
    await session.release();
  });

  it('cleaning-classifier tells every clean hopper view from every view with residue', async () => {
    const { manifest, session } = await load('cleaning-classifier');
    expect(session.outputNames).toEqual(['probabilities']);
    const report = await evaluateClassifierSet(session, manifest, `${fixturesDir}hopper`, 'residue');
    expect(report.images).toHaveLength(12);
    expect(report.images.filter((i) => !i.correct).map((i) => `${i.file}: ${i.note}`)).toEqual([]);
    await session.release();
  });
});
