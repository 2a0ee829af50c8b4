import { describe, expect, it } from 'vitest';
import type { InputTransform } from '../preprocess.js';
import { decode } from './decoder.js';
import { channelsFirst, rounded, testManifest } from './decoders.test-support.js';

/** 640×400 image letterboxed into 320×320: scale 0.5, 60 px padding top and bottom, no ROI. */
const letterbox: InputTransform = { srcWidth: 640, srcHeight: 400, scaleX: 0.5, scaleY: 0.5, padX: 0, padY: 60, offsetX: 0, offsetY: 0, cropWidth: 640, cropHeight: 400 };

const run = (rows: number[][], over: Record<string, unknown> = {}) => {
  const out = decode({ output0: channelsFirst(rows) }, { manifest: testManifest(over), transform: letterbox });
  if (out.kind !== 'detections') throw new Error('expected detections');
  return out.detections;
};

describe('NMS, clipping and the detection cap (yolov8 head)', () => {
  const overlapping = [
    [100, 110, 20, 20, 0.9, 0],
    [102, 110, 20, 20, 0.8, 0], // same class, IoU 0.82: suppressed
    [101, 110, 20, 20, 0, 0.7], // other class
  ];

  it('suppresses per class by default', () => {
    expect(run(overlapping).map((d) => [d.label, d.score])).toEqual([
      ['tablet', expect.closeTo(0.9, 5)],
      ['empty_pocket', expect.closeTo(0.7, 5)],
    ]);
  });

  it('suppresses across classes when class-agnostic', () => {
    expect(run(overlapping, { nms: { classAgnostic: true } }).map((d) => d.label)).toEqual(['tablet']);
  });

  it('caps the detections, best first', () => {
    const rows = [0.5, 0.9, 0.6, 0.8, 0.7].map((s, i) => [20 + i * 40, 160, 20, 20, s, 0]);
    expect(run(rows, { nms: { maxDetections: 3 } }).map((d) => d.score)).toEqual([0.9, 0.8, 0.7].map((s) => expect.closeTo(s, 5)));
    expect(run(rows)).toHaveLength(5); // default cap 300
  });

  it('clips boxes to the image and drops degenerate and off-image ones', () => {
    const dets = run([
      [10, 110, 40, 20, 0.9, 0], // model x −10 … 30 → original −20 … 60: clipped to 0 … 60
      [200, 110, 0.4, 20, 0.9, 0], // 0.8 px wide in the original: degenerate
      [250, 110, 0.6, 20, 0.9, 0], // 1.2 px wide: kept
      [340, 110, 20, 20, 0.9, 0], // right of the input: x 660 … 700, clipped to nothing
      [100, 20, 20, 20, 0.9, 0], // in the letterbox padding
    ]);
    expect(dets.map((d) => rounded(d.box))).toEqual([
      { x: 0, y: 80, w: 60, h: 40 },
      { x: 499.4, y: 80, w: 1.2, h: 40 },
    ]);
  });
});
