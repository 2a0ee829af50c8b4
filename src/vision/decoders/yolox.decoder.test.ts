import { describe, expect, it } from 'vitest';
import { checkOutputShape, decode } from './decoder.js';
import { channelsLast, roi64, rounded, testManifest } from './decoders.test-support.js';
import { gridCells } from './yolox.decoder.js';

/** 64×64 input: grids 8×8 (stride 8), 4×4 (16), 2×2 (32) → 84 rows of [o0, o1, o2, o3, obj, c0, c1]. */
const manifest = testManifest({ decoder: 'yolox', input: { width: 64, height: 64, resize: 'letterbox' } });

function head(set: Record<number, number[]>): ReturnType<typeof channelsLast> {
  return channelsLast(Array.from({ length: 84 }, (_, i) => set[i] ?? [0, 0, 0, 0, 0, 0, 0]));
}

describe('yolox decoder (raw grid head)', () => {
  it('orders rows by stride, then y, then x', () => {
    const g = gridCells(manifest);
    expect(g.n).toBe(84);
    // stride 16 starts after the 64 stride-8 cells; (gx 2, gy 1) is row 64 + 1·4 + 2 = 70
    expect([g.stride[70], g.gx[70], g.gy[70]]).toEqual([16, 2, 1]);
    expect([g.stride[83], g.gx[83], g.gy[83]]).toEqual([32, 1, 1]);
  });

  it('decodes a known grid cell into a box in original pixels', () => {
    const out = decode(
      {
        output: head({
          // stride 16, cell (2, 1): cx = (0.5 + 2)·16 = 40, cy = (0.25 + 1)·16 = 20, w = e^ln2·16 = 32, h = e^0·16 = 16
          70: [0.5, 0.25, Math.log(2), 0, 0.8, 0.1, 0.9],
          // stride 8, cell (3, 5): cx = 24, cy = 40, w = h = 8; score 0.5 × 0.6 = 0.3
          43: [0, 0, 0, 0, 0.5, 0.6, 0.2],
        }),
      },
      { manifest, transform: roi64 },
    );
    if (out.kind !== 'detections') throw new Error('expected detections');
    expect(out.detections.map((d) => [d.label, Number(d.score.toFixed(4)), rounded(d.box)])).toEqual([
      // model (24,12)-(56,28) → x 24/0.5+20 = 68 … 132, y (12−16)/0.5+10 = 2 … 34, clipped to the ROI's top (10)
      ['empty_pocket', 0.72, { x: 68, y: 10, w: 64, h: 24 }],
      // model (20,36)-(28,44) → x 60 … 76, y 50 … 66
      ['tablet', 0.3, { x: 60, y: 50, w: 16, h: 16 }],
    ]);
  });

  it('takes the strides from the manifest', () => {
    const m = testManifest({ decoder: 'yolox', input: { width: 64, height: 64 }, yolox: { strides: [16, 32] } });
    expect(gridCells(m).n).toBe(16 + 4);
    expect(checkOutputShape([1, 20, 7], m)).toBeNull();
  });

  it('checks the row count against input size and strides', () => {
    expect(checkOutputShape([1, 84, 7], manifest)).toBeNull();
    expect(checkOutputShape([1, 85, 7], manifest)).toBe('yolox expects [1,84,7] (grid cells of a 64×64 input at strides 8/16/32), model gives [1,85,7]');
    expect(checkOutputShape([1, 3549, 85], testManifest({ decoder: 'yolox', input: { width: 416, height: 416 }, classes: Array.from({ length: 80 }, (_, i) => `c${i}`) }))).toBeNull();
  });
});
