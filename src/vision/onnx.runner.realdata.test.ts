import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Detection } from '../domain/detection.js';
import { checkOutputShape, decode } from './decoders/decoder.js';
import { manifestSchema, type Manifest } from './manifest.js';
import { OnnxRunner } from './onnx.runner.js';
import { prepareInput } from './preprocess.js';

/**
 * A real third-party export (YOLOX-Nano, COCO) through lineside's own preprocessing and worker
 * runtime. The export wants BGR, unscaled 0–255 pixels and a top-left letterbox padded with 114:
 * feeding it the usual RGB/0–1/centred input silently destroys its confidence, so the strongest
 * "person" score is a sharp check that the preprocessing options do what they say.
 */
const DIR = fileURLToPath(new URL('../../../shared/realdata/yolox-nano/', import.meta.url));
const MODEL = `${DIR}yolox_nano.onnx`;
const GROUP_PHOTO = `${DIR}images/000000000139.jpg`; // indoor scene with people
const CROWD_PHOTO = `${DIR}images/000000001000.jpg`; // a group of about a dozen people

const spec = (input: Record<string, unknown>) =>
  manifestSchema.parse({
    name: 'yolox-nano', version: 'coco', task: 'detect', decoder: 'yolov8', classes: ['person'], intendedUse: 'interop test', licence: 'Apache-2.0', sha256: '0'.repeat(64),
    input: { name: 'images', width: 416, height: 416, ...input },
  }).input;

/** Highest objectness × person score over all 3549 grid cells of the raw YOLOX head [1,3549,85]. */
function bestPerson(out: Float32Array): number {
  let best = 0;
  for (let i = 0; i < 3549; i++) best = Math.max(best, out[i * 85 + 4]! * out[i * 85 + 5]!);
  return best;
}

describe('YOLOX-Nano (real export) through the worker runtime', () => {
  let runner: OnnxRunner;
  beforeAll(async () => {
    expect(existsSync(MODEL), `${MODEL} must exist (../shared/realdata beside the clone)`).toBe(true);
    runner = await OnnxRunner.open(MODEL, { workers: 1, threads: 2 });
  });
  afterAll(() => runner?.close());

  it('reports the export’s real input and output shapes', () => {
    expect(runner.inputs[0]).toEqual({ name: 'images', shape: [1, 3, 416, 416] });
    expect(runner.outputs[0]).toEqual({ name: 'output', shape: [1, 3549, 85] });
  });

  it('finds a person confidently only with the export’s own preprocessing (BGR, 0–255, top-left letterbox)', async () => {
    const image = await readFile(GROUP_PHOTO);
    const run = async (input: Record<string, unknown>): Promise<number> => {
      const p = await prepareInput(image, spec(input));
      const r = await runner.run({ data: p.tensor, dims: [...p.dims] });
      const out = r.outputs.output!;
      expect(out.dims).toEqual([1, 3549, 85]);
      expect(out.data.every(Number.isFinite)).toBe(true);
      return bestPerson(out.data);
    };
    const right = await run({ channels: 'BGR', scale: '0-255', resize: 'letterbox', letterboxAlign: 'top-left', padValue: 114 });
    const wrong = await run({ channels: 'RGB', scale: '0-1', resize: 'letterbox', letterboxAlign: 'center', padValue: 114 });
    expect(right).toBeGreaterThan(0.6);
    expect(wrong).toBeLessThan(right / 2);
  });

  /**
   * The yolox decoder on the raw head. Manifest facts from ../shared/realdata/README.md: input
   * `images` [1,3,416,416], BGR, 0–255 (no mean/std), letterbox at the top-left padded with 114;
   * output `output` [1,3549,85] = grid cells at strides 8/16/32 (stride, then y, then x), columns
   * offsets, objectness, 80 COCO classes in coco_classes.txt order, objectness and classes already
   * sigmoid (measured 0–1 on these photos, so the decoder applies none).
   */
  describe('decoded by the yolox decoder', () => {
    let manifest: Manifest;
    beforeAll(async () => {
      const classes = (await readFile(`${DIR}coco_classes.txt`, 'utf8')).split('\n').map((l) => l.trim()).filter(Boolean);
      manifest = manifestSchema.parse({
        name: 'yolox-nano', version: 'coco', task: 'detect', decoder: 'yolox', classes, intendedUse: 'interop test', licence: 'Apache-2.0', sha256: '0'.repeat(64),
        input: { name: 'images', width: 416, height: 416, channels: 'BGR', scale: '0-255', resize: 'letterbox', letterboxAlign: 'top-left', padValue: 114 },
        outputs: ['output'],
        thresholds: { score: 0.3, iou: 0.45 },
        yolox: { strides: [8, 16, 32] },
      });
    });

    const detect = async (path: string): Promise<{ detections: readonly Detection[]; width: number; height: number }> => {
      const p = await prepareInput(await readFile(path), manifest.input);
      const r = await runner.run({ data: p.tensor, dims: [...p.dims] });
      expect(checkOutputShape(r.outputs, manifest)).toBeNull();
      const out = decode(r.outputs, { manifest, transform: p.transform });
      if (out.kind !== 'detections') throw new Error('expected detections');
      for (const d of out.detections) {
        expect(d.box.x).toBeGreaterThanOrEqual(0);
        expect(d.box.y).toBeGreaterThanOrEqual(0);
        expect(d.box.x + d.box.w).toBeLessThanOrEqual(p.transform.srcWidth);
        expect(d.box.y + d.box.h).toBeLessThanOrEqual(p.transform.srcHeight);
        expect(Math.min(d.box.w, d.box.h)).toBeGreaterThanOrEqual(1);
      }
      return { detections: out.detections, width: p.transform.srcWidth, height: p.transform.srcHeight };
    };

    it('finds the dozen people of the group photo', async () => {
      const { detections, width, height } = await detect(CROWD_PHOTO);
      expect([width, height]).toEqual([640, 480]);
      const persons = detections.filter((d) => d.label === 'person' && d.score >= 0.45);
      expect(persons.length).toBeGreaterThanOrEqual(10);
      expect(persons[0]!.score).toBeGreaterThan(0.8);
    });

    it('finds the television and a person in the living room', async () => {
      const { detections } = await detect(GROUP_PHOTO);
      const tv = detections.filter((d) => d.label === 'tvmonitor');
      expect(tv[0]?.score).toBeGreaterThanOrEqual(0.85);
      // The set stands at the left of the room, well inside the 640×426 photo.
      expect(tv[0]!.box.x + tv[0]!.box.w / 2).toBeLessThan(200);
      expect(detections.filter((d) => d.label === 'person').length).toBeGreaterThanOrEqual(1);
    });
  });
});
