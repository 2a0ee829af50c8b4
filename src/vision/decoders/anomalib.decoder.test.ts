import { describe, expect, it } from 'vitest';
import { maskBits } from '../../domain/detection.js';
import { manifestSchema } from '../manifest.js';
import { normalise } from './anomalib.decoder.js';
import { checkOutputShape, decode } from './decoder.js';
import { planes, roi64, rounded, testManifest } from './decoders.test-support.js';

/** anomalib metadata: image threshold 10, pixel threshold 12, min 0, max 40 → normalised = (raw − t)/40 + 0.5. */
const normalization = { threshold: 10, pixelThreshold: 12, min: 0, max: 40 };
const manifest = testManifest({
  task: 'anomaly', decoder: 'anomalib', classes: ['normal', 'anomaly'], anomalib: { normalization },
  input: { width: 64, height: 64, resize: 'letterbox' },
});
const scalar = (v: number, dims: number[] = [1]) => ({ data: Float32Array.from([v]), dims });

describe('anomalib decoder', () => {
  it('normalises like anomalib: (raw − threshold)/(max − min) + 0.5, clipped to 0..1', () => {
    expect(normalise(18, normalization, 'image')).toBeCloseTo(0.7, 10);
    expect(normalise(2, normalization, 'image')).toBeCloseTo(0.3, 10);
    expect(normalise(10, normalization, 'image')).toBe(0.5);
    expect(normalise(40, normalization, 'image')).toBe(1);
    expect(normalise(-20, normalization, 'image')).toBe(0);
    expect(normalise(14, normalization, 'pixel')).toBeCloseTo(0.55, 10); // pixel threshold 12
    expect(normalise(0.42, 'in-model', 'image')).toBe(0.42);
  });

  it('scores normal and anomaly from pred_score', () => {
    for (const dims of [[], [1], [1, 1]]) {
      const out = decode({ pred_score: scalar(18, dims) }, { manifest, transform: roi64 });
      expect(out).toEqual({
        kind: 'scores',
        scores: [
          { classId: 0, label: 'normal', score: expect.closeTo(0.3, 6) },
          { classId: 1, label: 'anomaly', score: expect.closeTo(0.7, 6) },
        ],
      });
    }
  });

  it('takes an already normalised score as it is', () => {
    const m = { ...manifest, anomalib: { normalization: 'in-model' as const } };
    const out = decode({ pred_score: scalar(0.42), pred_label: scalar(0) }, { manifest: m, transform: roi64 });
    expect(out.kind === 'scores' && out.scores.map((s) => s.score)).toEqual([expect.closeTo(0.58, 6), expect.closeTo(0.42, 6)]);
  });

  it('turns the anomaly map into region boxes in original pixels, ignoring the letterbox padding', () => {
    // 8×8 map over the 64×64 input (roi64: rows 0–1 and 6–7 are padding, a cell is 16×16 original px).
    const raw: Record<string, number> = {
      '5,2': 32, '6,2': 32, '5,3': 32, '6,3': 32, // → 1.0 (clipped)
      '7,4': 20, // → 0.7, diagonal neighbour of (6,3): same region
      '1,5': 14, // → 0.55, a region of its own
      '0,0': 100, // padding: ignored
    };
    const map = planes(1, 8, 8, [0], (_, col, row) => raw[`${col},${row}`]); // elsewhere 0 → 0.2
    const out = decode({ pred_score: scalar(18), anomaly_map: map }, { manifest, transform: roi64 });
    if (out.kind !== 'scores') throw new Error('expected scores');
    expect(out.anomalyMap).toEqual({ width: 8, height: 8, maxScore: 1, anomalousFraction: 6 / 32 });
    const [big, small] = out.regions!;
    expect(out.regions).toHaveLength(2);
    // cells cols 5–7, rows 2–4 → model (40,16)-(64,40) → x 40/0.5+20 = 100 … 148, y (16−16)/0.5+10 = 10 … 58
    expect({ label: big!.label, score: big!.score, box: rounded(big!.box) }).toEqual({ label: 'anomaly', score: 1, box: { x: 100, y: 10, w: 48, h: 48 } });
    expect(Array.from(maskBits(big!.mask!))).toEqual([1, 1, 0, 1, 1, 0, 0, 0, 1]);
    expect(big!.mask!.area).toBeCloseTo(5 * 256, 6);
    // cell (1,5) → model (8,40)-(16,48) → x 36 … 52, y 58 … 74
    expect(small!.score).toBeCloseTo(0.55, 6);
    expect(rounded(small!.box)).toEqual({ x: 36, y: 58, w: 16, h: 16 });
  });

  it('falls back to pred_mask regions, scored with the image score', () => {
    const mask = planes(1, 8, 8, [0], (_, col, row) => (col === 2 && row === 3 ? 1 : undefined));
    const out = decode({ pred_score: scalar(18), pred_mask: mask }, { manifest, transform: roi64 });
    if (out.kind !== 'scores') throw new Error('expected scores');
    expect(out.anomalyMap).toBeUndefined();
    expect(out.regions!.map((r) => [Number(r.score.toFixed(6)), rounded(r.box)])).toEqual([[0.7, { x: 52, y: 26, w: 16, h: 16 }]]);
  });

  it('checks the outputs by name', () => {
    expect(checkOutputShape({ pred_score: { dims: [1] }, anomaly_map: { dims: [1, 1, 256, 256] }, pred_label: { dims: [1] }, pred_mask: { dims: [1, 1, 256, 256] } }, manifest)).toBeNull();
    expect(checkOutputShape({ output: { dims: [1] } }, manifest)).toBe('anomalib finds none of its outputs, model gives output');
    expect(checkOutputShape({ anomaly_map: { dims: [1, 1, 256, 256] } }, manifest)).toBe('anomalib expects an output named pred_score, model gives anomaly_map');
    expect(checkOutputShape({ pred_score: { dims: [1, 2] } }, manifest)).toBe('anomalib expects pred_score [1] (or scalar, [1,1]), model gives [1,2]');
    expect(checkOutputShape({ pred_score: { dims: [1] }, anomaly_map: { dims: [1, 3, 256, 256] } }, manifest)).toBe('anomalib expects anomaly_map [1,1,h,w], model gives [1,3,256,256]');
    expect(checkOutputShape([1, 1, 256, 256], manifest)).toBeNull();
    expect(checkOutputShape([1, 1000], manifest)).toBe('anomalib expects pred_score [1] or a map [1,1,h,w], model gives [1,1000]');
  });

  it('requires the normalisation to be stated and two classes', () => {
    const base = { name: 'a', version: '1', intendedUse: 't', licence: 't', sha256: '0'.repeat(64), input: { width: 256, height: 256 }, task: 'anomaly', decoder: 'anomalib' };
    expect(manifestSchema.safeParse({ ...base, classes: ['normal', 'anomaly'] }).error?.issues[0]?.message).toMatch(/needs anomalib.normalization/);
    expect(manifestSchema.safeParse({ ...base, classes: ['anomaly'], anomalib: { normalization: 'in-model' } }).error?.issues[0]?.message).toMatch(/needs two classes/);
    expect(manifestSchema.safeParse({ ...base, classes: ['normal', 'anomaly'], anomalib: { normalization: { threshold: 1, min: 2, max: 2 } } }).error?.issues[0]?.message).toBe('max must be greater than min');
  });
});
