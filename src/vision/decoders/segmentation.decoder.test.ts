import { describe, expect, it } from 'vitest';
import { checkOutputShape, decode } from './decoder.js';
import { planes, roi64, rounded, testManifest } from './decoders.test-support.js';

const input = { width: 64, height: 64, resize: 'letterbox' };
const manifest = (over: Record<string, unknown> = {}) =>
  testManifest({ task: 'segment', decoder: 'segmentation', classes: ['background', 'tablet', 'crack'], segmentation: { backgroundClass: 0 }, input, ...over });

/**
 * Logits [1, 3, 8, 8] over the 64×64 input (roi64: rows 0–1 and 6–7 are padding, 32 content cells,
 * a cell is 16×16 original px). Tablet (logit 2) on cols 1–2 × rows 2–3, crack (logit 3) on cols
 * 6–7 of row 5, and crack in the padding row 0 (ignored).
 */
const logits = planes(3, 8, 8, [0, 0, 0], (ch, col, row) => {
  if (ch === 1 && col >= 1 && col <= 2 && row >= 2 && row <= 3) return 2;
  if (ch === 2 && ((col >= 6 && row === 5) || row === 0)) return 3;
  return undefined;
});
const pTablet = Math.exp(2) / (Math.exp(2) + 2); // softmax of [0, 2, 0]
const pCrack = Math.exp(3) / (Math.exp(3) + 2);

describe('segmentation decoder', () => {
  it('reports coverage per class and each region as a box in original pixels, scored by mean probability', () => {
    const out = decode({ logits }, { manifest: manifest(), transform: roi64 });
    if (out.kind !== 'detections') throw new Error('expected detections');
    expect(out.coverage).toEqual([
      { classId: 0, label: 'background', fraction: 26 / 32 },
      { classId: 1, label: 'tablet', fraction: 4 / 32 },
      { classId: 2, label: 'crack', fraction: 2 / 32 },
    ]);
    expect(out.detections.map((d) => [d.label, Number(d.score.toFixed(5)), rounded(d.box), d.mask!.area])).toEqual([
      // cols 6–7, row 5 → model (48,40)-(64,48) → x 48/0.5+20 = 116 … 148, y (40−16)/0.5+10 = 58 … 74
      ['crack', Number(pCrack.toFixed(5)), { x: 116, y: 58, w: 32, h: 16 }, 512],
      // cols 1–2, rows 2–3 → model (8,16)-(24,32) → x 36 … 68, y 10 … 42
      ['tablet', Number(pTablet.toFixed(5)), { x: 36, y: 10, w: 32, h: 32 }, 1024],
    ]);
  });

  it('keeps only regions at or above the score threshold', () => {
    const out = decode({ logits }, { manifest: manifest({ thresholds: { score: 0.8, iou: 0.45 } }), transform: roi64 });
    expect(out.kind === 'detections' && out.detections.map((d) => d.label)).toEqual(['crack']);
  });

  it('reads a single-channel probability map as a binary mask', () => {
    const probs = planes(1, 8, 8, [0.1], (_, col, row) => (row === 4 && col <= 1 ? (col === 0 ? 0.9 : 0.7) : undefined));
    const m = testManifest({ task: 'segment', decoder: 'segmentation', classes: ['residue'], segmentation: { scores: 'probabilities' }, input });
    const out = decode({ probs }, { manifest: m, transform: roi64 });
    if (out.kind !== 'detections') throw new Error('expected detections');
    expect(out.coverage).toEqual([{ classId: 0, label: 'residue', fraction: 2 / 32 }]);
    // cols 0–1, row 4 → model (0,32)-(16,40) → x 20 … 52, y 42 … 58; mean 0.8
    expect(out.detections.map((d) => [Number(d.score.toFixed(5)), rounded(d.box)])).toEqual([[0.8, { x: 20, y: 42, w: 32, h: 16 }]]);
  });

  it('checks the [1, nc, h, w] shape', () => {
    expect(checkOutputShape([1, 3, 128, 128], manifest())).toBeNull();
    expect(checkOutputShape([1, 21, 128, 128], manifest())).toBe('segmentation expects [1,3,h,w], model gives [1,21,128,128]');
  });
});
