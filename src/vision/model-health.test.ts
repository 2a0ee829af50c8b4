import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../domain/errors.js';
import { Model } from './model.js';
import { writeBrokenModel } from './testing/broken-models.js';

const JPEG = readFileSync(new URL('../../fixtures/blister/blister-0000.jpg', import.meta.url));
const cfg = (m: { path: string; manifest: string }) => ({ path: m.path, manifest: m.manifest, workers: 1, threads: 1 });

describe('a model that is not working is never trusted', () => {
  let model: Model | undefined;
  afterEach(async () => {
    await model?.close();
    model = undefined;
  });

  it('an all-zero output is never decoded into a verdict, and a run of them makes the model unhealthy', async () => {
    model = await Model.load('dead', cfg(writeBrokenModel('all-zero')));
    expect(model.health.value.state).toBe('ok');
    for (let i = 1; i <= 6; i++) {
      await expect(model.infer(JPEG)).rejects.toMatchObject({
        code: ErrorCode.modelUnhealthy,
        message: expect.stringContaining('output output0 carries no information (all 96 values are 0)'),
      });
      expect(model.health.value.state).toBe(i >= 5 ? 'down' : 'ok');
    }
    expect(model.health.value.detail).toMatch(/for \d+ frames in a row/);
  });

  it('refuses at load a model whose output changes for the same input', async () => {
    const m = writeBrokenModel('nondeterministic');
    await expect(Model.load('random', cfg(m))).rejects.toMatchObject({
      code: ErrorCode.modelLoad,
      message: expect.stringMatching(new RegExp(`model ${m.path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not deterministic: the same input gave different values in output output0`)),
    });
  });

  it('refuses a file that is not ONNX, naming it', async () => {
    const m = writeBrokenModel('not-onnx');
    await expect(Model.load('jpeg', cfg(m))).rejects.toMatchObject({ code: ErrorCode.modelLoad, message: expect.stringContaining(m.path) });
  });
});
