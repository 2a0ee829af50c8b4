import { describe, expect, it } from 'vitest';
import { maskBits } from '../../domain/detection.js';
import type { WireTensor } from '../worker-protocol.js';
import { checkOutputShape, decode } from './decoder.js';
import { channelsFirst, planes, roi64, rounded, testManifest } from './decoders.test-support.js';

/** One class, two mask coefficients, prototypes 2 × 8 × 8 over a 64×64 input (8 model px = 16 original px per cell). */
const manifest = testManifest({ task: 'segment', decoder: 'yolov8-seg', classes: ['tablet'], input: { width: 64, height: 64, resize: 'letterbox' } });

const headRows = [
  // cx, cy, w, h, score, coeff0, coeff1
  [32, 32, 32, 16, 0.9, 1, 0], // model (16,24)-(48,40): cells cols 2–5, rows 3–4; mask from prototype 0
  [12, 28, 8, 8, 0.8, 0, 1], // model (8,24)-(16,32): cell (1, 3); mask from prototype 1
  [40, 40, 8, 8, 0.1, 1, 1], // below threshold
];
// Prototype 0 is high on cols 2–4 × rows 3–4 and at (0, 0), outside every box; prototype 1 at (1, 3).
const protos = planes(2, 8, 8, [-5, -5], (ch, col, row) =>
  (ch === 0 && ((col >= 2 && col <= 4 && row >= 3 && row <= 4) || (col === 0 && row === 0))) || (ch === 1 && col === 1 && row === 3) ? 5 : undefined,
);

describe('yolov8-seg decoder', () => {
  it('gives each kept detection its mask, cropped to its box, placed and measured in original pixels', () => {
    // Either order: the 4-D output holds the prototypes.
    const orders: Array<Record<string, WireTensor>> = [{ output0: channelsFirst(headRows), output1: protos }, { protos, head: channelsFirst(headRows) }];
    for (const outputs of orders) {
      const out = decode(outputs, { manifest, transform: roi64 });
      if (out.kind !== 'detections') throw new Error('expected detections');
      expect(out.detections).toHaveLength(2);
      const [a, b] = out.detections as [(typeof out.detections)[number], (typeof out.detections)[number]];
      // model (16,24)-(48,40) → x 16/0.5+20 = 52 … 116, y (24−16)/0.5+10 = 26 … 58
      expect(rounded(a.box)).toEqual({ x: 52, y: 26, w: 64, h: 32 });
      expect(a.mask).toMatchObject({ width: 4, height: 2, counts: [0, 3, 1, 3, 1], area: 6 * 16 * 16 });
      expect(rounded(a.mask!.placement)).toEqual({ x: 52, y: 26, w: 64, h: 32 });
      expect(Array.from(maskBits(a.mask!))).toEqual([1, 1, 1, 0, 1, 1, 1, 0]);
      // model (8,24)-(16,32) → x 36 … 52, y 26 … 42: one cell
      expect(rounded(b.box)).toEqual({ x: 36, y: 26, w: 16, h: 16 });
      expect(b.mask).toMatchObject({ width: 1, height: 1, counts: [0, 1], area: 256 });
    }
  });

  it('accepts the transposed head', () => {
    const rows = headRows.map((r) => [...r]);
    const head = { data: Float32Array.from(rows.flat()), dims: [1, rows.length, 7] };
    const out = decode({ head, protos }, { manifest, transform: roi64 });
    expect(out.kind === 'detections' && out.detections.map((d) => d.mask!.area)).toEqual([1536, 256]);
  });

  it('checks both outputs against the class count and the prototypes', () => {
    const ok = { output0: { dims: [1, 7, 8400] }, output1: { dims: [1, 2, 160, 160] } };
    expect(checkOutputShape(ok, manifest)).toBeNull();
    expect(checkOutputShape({ ...ok, output1: { dims: [1, 32, 160, 160] } }, manifest)).toBe(
      'yolov8-seg expects [1,37,N] beside prototypes [1,32,…], model gives [1,7,8400] and [1,32,160,160]',
    );
    expect(checkOutputShape({ output0: { dims: [1, 7, 8400] } }, manifest)).toBe('yolov8-seg expects two outputs, [1,5+nm,N] and prototypes [1,nm,mh,mw], model gives [1,7,8400]');
    // Load-time check given only the first output: it must look like the head (or the prototypes).
    expect(checkOutputShape([1, 7, 8400], manifest)).toBeNull();
    expect(checkOutputShape([1, 5, 8400], manifest)).toMatch(/^yolov8-seg expects \[1,5\+nm,N\]/);
  });
});
