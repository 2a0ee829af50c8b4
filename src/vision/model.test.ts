import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../domain/errors.js';
import { Model } from './model.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const cfg = { path: `${ROOT}models/blister-detector.onnx`, workers: 1, threads: 1 };

describe('Model (ONNX in worker threads)', () => {
  let model: Model | undefined;
  afterEach(async () => {
    await model?.close();
    model = undefined;
  });

  it('loads, checks and runs the demo detector in its worker, several parts in flight', async () => {
    model = await Model.load('blister', cfg);
    expect(model.versionTag).toMatch(/^blister-detector@1\.0\.0\+[0-9a-f]{12}$/);
    const image = await readFile(`${ROOT}fixtures/blister/blister-0000.jpg`);
    // Several in flight at once (the station overlaps parts): each gets its own, identical answer.
    const results = await Promise.all(Array.from({ length: 6 }, () => model!.infer(image)));
    const first = results[0]!.output;
    expect(first.kind === 'detections' && first.detections.filter((d) => d.label === 'tablet' && d.score >= 0.5)).toHaveLength(10);
    for (const r of results) expect(r.output).toEqual(first);
    expect(results[0]!.inferMs).toBeGreaterThan(0);
  });

  it('refuses a model whose file does not match its manifest hash, naming the file', async () => {
    const bad = { ...cfg, path: `${ROOT}models/ppe-detector.onnx`, manifest: `${ROOT}models/blister-detector.json` };
    await expect(Model.load('x', bad)).rejects.toMatchObject({ code: ErrorCode.modelLoad, message: expect.stringContaining('ppe-detector.onnx has sha256') });
  });

  it('refuses a missing model file with a clear error', async () => {
    await expect(Model.load('x', { ...cfg, path: `${ROOT}models/nope.onnx` })).rejects.toThrow(/model file .*nope\.onnx does not exist/);
  });

  it('answers a corrupt image with a decode error, and stays healthy', async () => {
    model = await Model.load('blister', cfg);
    await expect(model.infer(Buffer.from('garbage'))).rejects.toMatchObject({ code: ErrorCode.imageDecode });
    expect(model.health.value.state).toBe('ok');
  });
});
