import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { Finding } from '../domain/detection.js';
import { cleaningMontage } from './cleaning-montage.js';

const jpeg = (r: number, g: number, b: number): Promise<Buffer> => sharp({ create: { width: 64, height: 32, channels: 3, background: { r, g, b } } }).jpeg({ quality: 95 }).toBuffer();
const residue: Finding = { label: 'residue', score: 0.9, box: { x: 10, y: 5, w: 8, h: 8 }, rule: 'view2:class:residue>=0.5', effect: 'reject', rejectCode: 3 };

describe('cleaning verification evidence', () => {
  it('puts every view side by side in the order taken, and moves each finding with its view', async () => {
    const views = [
      { frame: { data: await jpeg(250, 250, 250), capturedAt: 1, origin: 'view-a.jpg' }, findings: [] },
      { frame: { data: await jpeg(200, 40, 40), capturedAt: 2, origin: 'view-b.jpg' }, findings: [residue] },
    ];
    const m = await cleaningMontage(views);
    expect(m.frame.raw).toEqual({ width: 128, height: 32, channels: 3 });
    expect(m.frame.origin).toBe('view-a.jpg view-b.jpg');
    const px = (x: number, y: number): number[] => [...m.frame.data.subarray((y * 128 + x) * 3, (y * 128 + x) * 3 + 3)];
    expect(px(5, 16)[0]).toBeGreaterThan(240); // first view, white
    expect(px(100, 16)[1]).toBeLessThan(60); // second view, red
    expect(m.findings).toEqual([{ ...residue, box: { x: 74, y: 5, w: 8, h: 8 } }]);
  });
});
