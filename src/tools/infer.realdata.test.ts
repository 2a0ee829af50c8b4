import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Detection } from '../domain/detection.js';
import { inferImages } from './infer.js';

/** The third-party YOLOX-Nano export, read in place from ../shared/realdata (never copied). */
const REAL = fileURLToPath(new URL('../../../shared/realdata/yolox-nano/', import.meta.url));

/**
 * A manifest stating only the facts the export's README gives: input 416×416, BGR, unscaled
 * 0–255, letterbox at the top-left padded with 114, the raw YOLOX head at strides 8/16/32, and the
 * class names in coco_classes.txt. No sha256: the infer tool fills it from the file.
 */
function manifestFromReadme(dir: string): string {
  const classes = readFileSync(join(REAL, 'coco_classes.txt'), 'utf8').split('\n').map((l) => l.trim()).filter(Boolean);
  const file = join(dir, 'yolox-nano.yaml');
  writeFileSync(
    file,
    [
      'name: yolox-nano',
      'version: megvii-coco',
      'task: detect',
      'decoder: yolox',
      'input: { name: images, width: 416, height: 416, layout: NCHW, channels: BGR, scale: 0-255, resize: letterbox, letterboxAlign: top-left, padValue: 114 }',
      'yolox: { strides: [8, 16, 32] }',
      `classes: [${classes.map((c) => JSON.stringify(c)).join(', ')}]`,
      'intendedUse: interoperability test of a third-party COCO detector',
      'licence: Apache-2.0',
    ].join('\n'),
  );
  return file;
}

describe('lineside infer on a real third-party export (YOLOX-Nano)', () => {
  it('finds the people and the tv monitor, with boxes in original image pixels', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lineside-yolox-'));
    const report = await inferImages({
      model: join(REAL, 'yolox_nano.onnx'),
      manifest: manifestFromReadme(dir),
      images: [join(REAL, 'images/000000001000.jpg'), join(REAL, 'images/000000000139.jpg')],
      outDir: dir,
    });
    const dets = (i: number): Detection[] => {
      const r = report.images[i]!;
      if ('error' in r) throw new Error(r.error);
      for (const d of r.output.kind === 'detections' ? r.output.detections : []) {
        expect(d.box.x).toBeGreaterThanOrEqual(0);
        expect(d.box.y).toBeGreaterThanOrEqual(0);
        expect(d.box.x + d.box.w).toBeLessThanOrEqual(r.width);
        expect(d.box.y + d.box.h).toBeLessThanOrEqual(r.height);
      }
      return r.output.kind === 'detections' ? [...r.output.detections] : [];
    };
    const group = dets(0);
    const people = group.filter((d) => d.label === 'person' && d.score >= 0.45);
    expect(people.length).toBeGreaterThanOrEqual(10);

    const room = dets(1);
    const tv = room.find((d) => d.label === 'tvmonitor');
    expect(tv?.score).toBeGreaterThanOrEqual(0.85);
    // The monitor stands at the left of the room, in the original 640×426 photo's coordinates.
    expect(tv!.box.x + tv!.box.w / 2).toBeLessThan(200);
    expect(room.some((d) => d.label === 'person')).toBe(true);
    expect(report.notes.some((n) => n.includes('no sha256'))).toBe(true);
    console.log(`yolox-nano: ${people.length} persons ≥ 0.45 in 000000001000.jpg; tvmonitor ${tv!.score} at ${JSON.stringify(tv!.box)} in 000000000139.jpg`);
  });
});
