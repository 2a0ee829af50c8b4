import { describe, expect, it } from 'vitest';
import { checkOutputShape, decode } from './decoder.js';
import { channelsLast, roi320, rounded, testManifest } from './decoders.test-support.js';

const manifest = testManifest({ decoder: 'yolov5' });

describe('yolov5 decoder', () => {
  it('scores objectness × class, keeps the best class and maps boxes through letterbox and ROI', () => {
    const out = decode(
      {
        output0: channelsLast([
          [100, 110, 20, 20, 0.9, 0.8, 0.1], // 0.72 tablet
          [150, 150, 20, 20, 0.2, 0.9, 0.9], // 0.18: below 0.25
          [200, 200, 40, 20, 0.6, 0.3, 0.5], // 0.30 empty_pocket
        ]),
      },
      { manifest, transform: roi320 },
    );
    if (out.kind !== 'detections') throw new Error('expected detections');
    expect(out.detections.map((d) => [d.label, Number(d.score.toFixed(4)), rounded(d.box)])).toEqual([
      // model (90,100)-(110,120) → x 90/0.5+100 = 280 … 320, y (100−60)/0.5+50 = 130 … 170
      ['tablet', 0.72, { x: 280, y: 130, w: 40, h: 40 }],
      // model (180,190)-(220,210) → x 460 … 540, y 310 … 350
      ['empty_pocket', 0.3, { x: 460, y: 310, w: 80, h: 40 }],
    ]);
  });

  it('checks the [1, N, 5 + nc] shape', () => {
    expect(checkOutputShape([1, 25200, 7], manifest)).toBeNull();
    expect(checkOutputShape([1, 7, 25200], manifest)).toBe('yolov5 expects [1,N,7], model gives [1,7,25200]');
  });
});
