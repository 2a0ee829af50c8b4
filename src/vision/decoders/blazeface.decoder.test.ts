import { describe, expect, it } from 'vitest';
import type { InputTransform } from '../preprocess.js';
import type { WireTensor } from '../worker-protocol.js';
import { checkOutputShape, decode } from './decoder.js';
import { anchorLayers } from './blazeface.decoder.js';
import { roi64, rounded, testManifest } from './decoders.test-support.js';

/**
 * A 64×64 input: default strides 64/16 = 4 and 64/8 = 8, so a 16×16 grid with 2 anchors per cell
 * (512 rows) then an 8×8 grid with 6 (384 rows), as MediaPipe's BlazeFace lays them out at 128 or 256.
 */
const manifest = testManifest({ decoder: 'blazeface', classes: ['face'], input: { width: 64, height: 64, layout: 'NHWC', resize: 'stretch' }, nms: { classAgnostic: true } });
const identity: InputTransform = { srcWidth: 64, srcHeight: 64, scaleX: 1, scaleY: 1, padX: 0, padY: 0, offsetX: 0, offsetY: 0, cropWidth: 64, cropHeight: 64 };

/** Rows of [logit, dx, dy, w, h, 12 keypoint values]; unset rows score sigmoid(−10). */
function rows(set: Record<number, number[]>): number[][] {
  return Array.from({ length: 896 }, (_, i) => {
    const r = set[i] ?? [-10, 0, 0, 4, 4];
    return [...r, ...Array.from({ length: 17 - r.length }, () => 0)];
  });
}

const one = (r: number[][]): WireTensor => ({ data: Float32Array.from(r.flat()), dims: [1, r.length, 17] });

/** Human's export: per stride, scores [1,n,1] and regressors [1,n,16]. */
function split(r: number[][]): Record<string, WireTensor> {
  const part = (from: number, to: number, cols: 'score' | 'regs'): WireTensor => {
    const sel = r.slice(from, to).map((row) => (cols === 'score' ? row.slice(0, 1) : row.slice(1)));
    return { data: Float32Array.from(sel.flat()), dims: [1, to - from, cols === 'score' ? 1 : 16] };
  };
  return { 'Identity:0': part(0, 512, 'score'), 'Identity_1:0': part(512, 896, 'score'), 'Identity_2:0': part(0, 512, 'regs'), 'Identity_3:0': part(512, 896, 'regs') };
}

// Layer 0, cell (gx 3, gy 5) = cell 83, its first anchor is row 166: centre (14, 22).
// Layer 1, cell (gx 1, gy 2) = cell 17, anchors 512 + 102 … 107: centre (12, 20).
const scene = rows({ 166: [2, 1, -2, 8, 10], 614: [0, 0, 0, 16, 16] });

describe('blazeface decoder (MediaPipe anchors)', () => {
  it('lays out 512 + 384 anchors for the default strides', () => {
    expect(anchorLayers(manifest).map((l) => [l.stride, l.side, l.perCell, l.count])).toEqual([
      [4, 16, 2, 512],
      [8, 8, 6, 384],
    ]);
  });

  it('decodes anchor offsets and sizes into face boxes, from one tensor or the per-stride split', () => {
    const want = [
      // (14 + 1, 22 − 2) centre, 8 × 10: x 11, y 15; sigmoid(2)
      ['face', 0.8808, { x: 11, y: 15, w: 8, h: 10 }],
      // (12, 20) centre, 16 × 16; sigmoid(0)
      ['face', 0.5, { x: 4, y: 12, w: 16, h: 16 }],
    ];
    for (const outputs of [{ out: one(scene) }, split(scene)]) {
      const out = decode(outputs, { manifest, transform: identity });
      if (out.kind !== 'detections') throw new Error('expected detections');
      expect(out.detections.map((d) => [d.label, Number(d.score.toFixed(4)), rounded(d.box)])).toEqual(want);
    }
  });

  it('maps boxes back through the letterbox and ROI like every box decoder', () => {
    const out = decode({ out: one(scene) }, { manifest, transform: roi64 });
    if (out.kind !== 'detections') throw new Error('expected detections');
    // model (11, 15)–(19, 25) → x 11/0.5 + 20 = 42 … 58, y (15 − 16)/0.5 + 10 = 8 → clipped to the ROI top 10 … 28
    expect(rounded(out.detections[0]!.box)).toEqual({ x: 42, y: 10, w: 16, h: 18 });
  });

  it('drops anchors below the score threshold and suppresses overlapping ones', () => {
    const crowded = rows({ 166: [2, 1, -2, 8, 10], 167: [1.5, 1, -2, 8, 10], 0: [-3, 0, 0, 4, 4] });
    const out = decode({ out: one(crowded) }, { manifest, transform: identity });
    if (out.kind !== 'detections') throw new Error('expected detections');
    expect(out.detections).toHaveLength(1);
    expect(out.detections[0]!.score).toBeCloseTo(0.8808, 4);
  });

  it('names the anchor counts it expects when the model gives other shapes', () => {
    expect(checkOutputShape({ out: { dims: [1, 896, 17] } }, manifest)).toBeNull();
    expect(checkOutputShape(Object.fromEntries(Object.entries(split(scene)).map(([k, t]) => [k, { dims: t.dims }])), manifest)).toBeNull();
    expect(checkOutputShape({ out: { dims: [1, 900, 17] } }, manifest)).toContain('blazeface expects [1,896,≥5] or, per stride, scores [1,n,1] and regressors [1,n,≥4] with n = 512 + 384');
    expect(checkOutputShape({ a: { dims: [1, 512, 1] }, b: { dims: [1, 512, 16] }, c: { dims: [1, 300, 1] }, d: { dims: [1, 300, 16] } }, manifest)).toContain('model gives [1,512,1] and [1,512,16] and [1,300,1] and [1,300,16]');
  });
});
