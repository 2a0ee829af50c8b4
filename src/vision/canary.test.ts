import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ModelOutput } from '../domain/detection.js';
import { canaryImagePath, checkCanary, displayPath } from './canary.js';
import { manifestSchema, type ManifestInput } from './manifest.js';

const detector = (extra: Partial<ManifestInput> = {}) =>
  manifestSchema.parse({
    name: 'd', version: '1', task: 'detect', decoder: 'yolov8', classes: ['tablet', 'empty_pocket', 'broken_tablet'],
    intendedUse: 'test', licence: 'test', sha256: '0'.repeat(64), input: { width: 320, height: 320 }, thresholds: { score: 0.5, iou: 0.45 },
    ...extra,
  });
const classifier = (extra: Partial<ManifestInput> = {}) =>
  manifestSchema.parse({
    name: 'c', version: '1', task: 'classify', decoder: 'softmax', classes: ['clean', 'residue'],
    intendedUse: 'test', licence: 'test', sha256: '0'.repeat(64), input: { width: 96, height: 96 },
    ...extra,
  });

const box = { x: 0, y: 0, w: 10, h: 10 };
const dets = (...list: Array<[string, number]>): ModelOutput => ({
  kind: 'detections',
  detections: list.map(([label, score]) => ({ classId: ['tablet', 'empty_pocket', 'broken_tablet'].indexOf(label), label, score, box })),
});
const scores = (clean: number): ModelOutput => ({
  kind: 'scores',
  scores: [
    { classId: 0, label: 'clean', score: clean },
    { classId: 1, label: 'residue', score: 1 - clean },
  ],
});

describe('manifest canary', () => {
  it('reads counts for detectors (min defaults to 1, or 0 with only max) and the top class for classifiers', () => {
    const m = detector({ canary: { image: 'a.jpg', expect: [{ label: 'empty_pocket', minScore: 0.5 }, { label: 'tablet', min: 8, max: 8 }, { label: 'broken_tablet', max: 0 }] } });
    expect(m.canary?.expect).toEqual([
      { label: 'empty_pocket', min: 1, minScore: 0.5 },
      { label: 'tablet', min: 8, max: 8 },
      { label: 'broken_tablet', min: 0, max: 0 },
    ]);
    expect(classifier({ canary: { image: 'h.jpg', expect: { label: 'clean', minScore: 0.6 } } }).canary).toEqual({ image: 'h.jpg', expect: { label: 'clean', minScore: 0.6 } });
    expect(detector().canary).toBeUndefined();
  });

  it('refuses a canary that cannot be right: wrong form for the task, unknown label, min above max, minScore under the score threshold', () => {
    const issue = (f: () => unknown) => {
      try {
        f();
        return 'ok';
      } catch (e) {
        const i = (e as { issues: Array<{ path: PropertyKey[]; message: string }> }).issues[0]!;
        return `${i.path.join('.')}: ${i.message}`;
      }
    };
    expect(issue(() => detector({ canary: { image: 'a.jpg', expect: { label: 'tablet' } } }))).toBe(
      "canary.expect: a detect model's canary expects a list of counts, e.g. [{ label, min, minScore }]",
    );
    expect(issue(() => classifier({ canary: { image: 'a.jpg', expect: [{ label: 'clean', min: 1 }] } }))).toBe(
      "canary.expect: a classify model's canary expects the top class, e.g. { label, minScore }",
    );
    expect(issue(() => detector({ canary: { image: 'a.jpg', expect: [{ label: 'tablet' }, { label: 'pill', min: 1 }] } }))).toBe(
      'canary.expect.1.label: pill is not one of the classes (tablet, empty_pocket, broken_tablet)',
    );
    expect(issue(() => classifier({ canary: { image: 'a.jpg', expect: { label: 'dirty' } } }))).toBe('canary.expect.label: dirty is not one of the classes (clean, residue)');
    expect(issue(() => detector({ canary: { image: 'a.jpg', expect: [{ label: 'tablet', min: 9, max: 8 }] } }))).toBe('canary.expect.0: min is more than max');
    expect(issue(() => detector({ canary: { image: 'a.jpg', expect: [{ label: 'tablet', minScore: 0.3 }] } }))).toBe(
      'canary.expect.0.minScore: minScore 0.3 is below thresholds.score 0.5: weaker detections are never reported',
    );
    expect(issue(() => detector({ canary: { image: 'a.jpg', expect: [] } }))).toMatch(/^canary\.expect/);
    expect(issue(() => detector({ canary: { expect: [{ label: 'tablet' }] } as never }))).toMatch(/^canary\.image/);
  });
});

describe('checkCanary', () => {
  const m = detector();
  const expectList = [
    { label: 'empty_pocket', min: 1, minScore: 0.5 },
    { label: 'tablet', min: 8, max: 8 },
  ];

  it('passes when every count is met', () => {
    const out = dets(['empty_pocket', 0.99], ...Array.from({ length: 8 }, () => ['tablet', 0.9] as [string, number]), ['broken_tablet', 0.7]);
    expect(checkCanary(expectList, out, m)).toEqual({ failures: [], short: false });
  });

  it('says what was expected and found, with the best score that did not count', () => {
    const out = dets(...Array.from({ length: 7 }, () => ['tablet', 0.9] as [string, number]));
    const low = dets(...Array.from({ length: 7 }, () => ['tablet', 0.9] as [string, number]), ['tablet', 0.31], ['empty_pocket', 0.12], ['empty_pocket', 0.05]);
    expect(checkCanary(expectList, out, m)).toEqual({ failures: ['expected ≥1 empty_pocket ≥ 0.50, found 0', 'expected 8 tablet ≥ 0.50, found 7'], short: true });
    expect(checkCanary(expectList, out, m, low).failures).toEqual(['expected ≥1 empty_pocket ≥ 0.50, found 0 (best 0.12)', 'expected 8 tablet ≥ 0.50, found 7 (next best 0.31)']);
    expect(checkCanary([{ label: 'empty_pocket', min: 1, minScore: 0.8 }], dets(['empty_pocket', 0.7]), m).failures).toEqual(['expected ≥1 empty_pocket ≥ 0.80, found 0 (best 0.70)']);
    expect(checkCanary([{ label: 'empty_pocket', min: 1 }], dets(), m, dets()).failures).toEqual(['expected ≥1 empty_pocket ≥ 0.50, found 0 (none ≥ 0.01)']);
  });

  it('fails a count above its maximum, listing the scores', () => {
    const v = checkCanary([{ label: 'broken_tablet', min: 0, max: 0 }, { label: 'tablet', min: 2, max: 3 }], dets(['broken_tablet', 0.62], ['tablet', 0.9], ['tablet', 0.8], ['tablet', 0.7], ['tablet', 0.6]), m);
    expect(v).toEqual({ failures: ['expected ≤0 broken_tablet ≥ 0.50, found 1 (0.62)', 'expected 2–3 tablet ≥ 0.50, found 4 (0.90, 0.80, 0.70, 0.60)'], short: false });
  });

  it('classifiers: the label must be the top class, scoring at least minScore when given', () => {
    const c = classifier();
    expect(checkCanary({ label: 'clean' }, scores(0.55), c).failures).toEqual([]);
    expect(checkCanary({ label: 'clean', minScore: 0.6 }, scores(0.55), c).failures).toEqual(['expected top class clean ≥ 0.60, found clean 0.55 (top)']);
    expect(checkCanary({ label: 'clean', minScore: 0.6 }, scores(0.1), c).failures).toEqual(['expected top class clean ≥ 0.60, found clean 0.10, top residue 0.90']);
    expect(checkCanary({ label: 'residue' }, dets(['tablet', 0.9]), c).failures).toEqual(['expected class scores, the model gave detections']);
  });
});

describe('canary paths', () => {
  it('resolves the image relative to the manifest file, else the model file; absolute stays', () => {
    const canary = { image: '../fixtures/blister/blister-0003.jpg', expect: { label: 'x' } };
    expect(canaryImagePath(canary, '/opt/line/models/det.json', '/elsewhere/det.onnx')).toBe('/opt/line/fixtures/blister/blister-0003.jpg');
    expect(canaryImagePath(canary, undefined, '/elsewhere/models/det.onnx')).toBe('/elsewhere/fixtures/blister/blister-0003.jpg');
    expect(canaryImagePath({ ...canary, image: '/srv/canary.png' }, '/opt/line/models/det.json', 'x.onnx')).toBe('/srv/canary.png');
  });

  it('shows paths under the working directory relative to it', () => {
    expect(displayPath(join(process.cwd(), 'fixtures/blister/blister-0003.jpg'))).toBe(join('fixtures', 'blister', 'blister-0003.jpg'));
    expect(displayPath('/definitely/elsewhere.jpg')).toBe('/definitely/elsewhere.jpg');
  });
});
