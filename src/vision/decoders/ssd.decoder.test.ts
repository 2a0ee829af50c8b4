import { describe, expect, it } from 'vitest';
import { checkOutputShape, decode } from './decoder.js';
import { channelsLast, roi320, rounded, testManifest } from './decoders.test-support.js';

const classes = ['background', 'tablet', 'empty_pocket'];
const tf = (over: Record<string, unknown> = {}, ssd: Record<string, unknown> = {}) =>
  testManifest({ decoder: 'ssd', classes, ssd: { boxFormat: 'yxyx', backgroundClass: 0, ...ssd }, ...over });

// Normalised y1, x1, y2, x2 of a 320×320 input.
const boxes = channelsLast([
  [100 / 320, 80 / 320, 120 / 320, 100 / 320], // model (80,100)-(100,120)
  [0.5, 0.5, 0.6, 0.6],
  [100 / 320, 82 / 320, 120 / 320, 102 / 320], // overlaps the first (IoU 0.82)
]);
const scores = channelsLast([
  [0.1, 0.7, 0.2], // tablet 0.7
  [0.9, 0.05, 0.05], // background: never reported
  [0.2, 0.2, 0.6], // empty_pocket 0.6
]);

describe('ssd decoder', () => {
  it('reads TensorFlow-style normalised yxyx boxes, skips the background class and maps boxes to original pixels', () => {
    const out = decode({ detection_boxes: boxes, detection_scores: scores }, { manifest: tf(), transform: roi320 });
    if (out.kind !== 'detections') throw new Error('expected detections');
    expect(out.detections.map((d) => [d.label, Number(d.score.toFixed(4)), rounded(d.box)])).toEqual([
      // model (80,100)-(100,120) → x 80/0.5+100 = 260 … 300, y (100−60)/0.5+50 = 130 … 170
      ['tablet', 0.7, { x: 260, y: 130, w: 40, h: 40 }],
      ['empty_pocket', 0.6, { x: 264, y: 130, w: 40, h: 40 }],
    ]);
  });

  it('suppresses across classes when NMS is class-agnostic', () => {
    const out = decode({ scores, boxes }, { manifest: tf({ nms: { classAgnostic: true } }), transform: roi320 });
    expect(out.kind === 'detections' && out.detections.map((d) => d.label)).toEqual(['tablet']);
  });

  it('reads centre/size boxes in model pixels and applies softmax to logits', () => {
    const b = channelsLast([[90, 110, 20, 20]]);
    const s = channelsLast([[0, Math.log(3), 0]]); // softmax → [0.2, 0.6, 0.2]
    const out = decode({ b, s }, { manifest: tf({}, { boxFormat: 'cxcywh', boxUnits: 'pixels', activation: 'softmax' }), transform: roi320 });
    if (out.kind !== 'detections') throw new Error('expected detections');
    expect(out.detections).toHaveLength(1);
    expect(out.detections[0]!.score).toBeCloseTo(0.6, 6);
    expect(rounded(out.detections[0]!.box)).toEqual({ x: 260, y: 130, w: 40, h: 40 });
  });

  it('checks both tensors', () => {
    expect(checkOutputShape({ boxes: { dims: [1, 1917, 4] }, scores: { dims: [1, 1917, 3] } }, tf())).toBeNull();
    expect(checkOutputShape({ boxes: { dims: [1, 1917, 4] }, scores: { dims: [1, 1917, 91] } }, tf())).toBe(
      'ssd expects boxes [1,N,4] and scores [1,N,3], model gives [1,1917,4] and [1,1917,91]',
    );
    expect(checkOutputShape({ boxes: { dims: [1, 100, 4] }, scores: { dims: [1, 90, 3] } }, tf())).toMatch(/^ssd expects boxes \[1,N,4\] and scores \[1,N,3\]/);
    expect(checkOutputShape([1, 1917, 4], tf())).toBeNull();
    expect(checkOutputShape([1, 1917, 5], tf())).toBe('ssd expects boxes [1,N,4] and scores [1,N,3], model gives [1,1917,5]');
  });
});
