import { describe, expect, it } from 'vitest';
import { checkOutputShape, decode } from './decoder.js';
import { channelsLast, roi320, rounded, testManifest } from './decoders.test-support.js';

/** Rows decoded inside the graph: x1, y1, x2, y2 (model-input pixels), score, class index. */
const manifest = testManifest({ decoder: 'detections', classes: ['person', 'bicycle'] });

describe('detections decoder (boxes decoded in the graph)', () => {
  it('keeps rows at or above the score threshold with a known class, boxes in original pixels', () => {
    const out = decode(
      {
        'tower_0/detections': channelsLast([
          [40, 80, 120, 240, 0.9, 0], // person: model (40,80)-(120,240) → x 40/0.5+100 = 180 … 340, y (80−60)/0.5+50 = 90 … 410
          [10, 70, 30, 90, 0.6, 1], // bicycle
          [0, 0, 10, 10, 0.1, 0], // below the threshold
          [0, 0, 0, 0, 0.8, 79], // a class the manifest does not have (or padding)
        ]),
      },
      { manifest, transform: roi320 },
    );
    if (out.kind !== 'detections') throw new Error('expected detections');
    expect(out.detections.map((d) => [d.label, Number(d.score.toFixed(4)), rounded(d.box)])).toEqual([
      ['person', 0.9, { x: 180, y: 90, w: 160, h: 320 }],
      ['bicycle', 0.6, { x: 120, y: 70, w: 40, h: 40 }],
    ]);
  });

  it('reads y-first and normalised boxes when told', () => {
    const m = testManifest({ decoder: 'detections', classes: ['person'], detections: { boxFormat: 'yxyx', boxUnits: 'normalized' } });
    const out = decode({ d: channelsLast([[0.25, 0.125, 0.75, 0.375, 0.7, 0]]) }, { manifest: m, transform: roi320 });
    if (out.kind !== 'detections') throw new Error('expected detections');
    // x 0.125·320 = 40 … 120, y 0.25·320 = 80 … 240 in the model input
    expect(rounded(out.detections[0]!.box)).toEqual({ x: 180, y: 90, w: 160, h: 320 });
  });

  it('names the row shape it expects', () => {
    expect(checkOutputShape([1, 100, 6], manifest)).toBeNull();
    expect(checkOutputShape([1, 100, 85], manifest)).toBe('detections expects [1,N,6] rows (box, score, class), model gives [1,100,85]');
  });
});
