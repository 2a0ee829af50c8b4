import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manifestSchema } from './manifest.js';
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
});
