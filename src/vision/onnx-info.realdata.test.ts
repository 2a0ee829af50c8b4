import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../domain/errors.js';
import { autofillGapMessage, manifestFromOnnx } from './manifest-autofill.js';
import { readOnnxInfo, readOnnxInfoFromBuffer } from './onnx-info.js';

/**
 * The real third-party YOLOX-Nano export (read in place from ../shared/realdata): what its file
 * says about itself, read without running it, must be what onnxruntime reports after loading it.
 * (Only this test, beside the ONNX worker, imports onnxruntime-node: it is the reference here.)
 */
const MODEL = fileURLToPath(new URL('../../../shared/realdata/yolox-nano/yolox_nano.onnx', import.meta.url));

describe('readOnnxInfo on the real YOLOX-Nano export', () => {
  it('reads producer, IR version, opset, input and output facts', async () => {
    expect(existsSync(MODEL), `${MODEL} must exist (../shared/realdata beside the clone)`).toBe(true);
    const info = await readOnnxInfo(MODEL);
    expect(info).toMatchObject({
      irVersion: 7,
      producerName: 'pytorch',
      producerVersion: '1.10',
      opsetImports: [{ domain: '', version: 11 }],
      opset: 11,
      graphName: 'torch-jit-export',
      metadata: {},
      externalData: false,
      externalDataFiles: [],
    });
    expect(info.inputs).toEqual([{ name: 'images', kind: 'tensor', elemType: 'float32', shape: [1, 3, 416, 416] }]);
    expect(info.outputs).toEqual([{ name: 'output', kind: 'tensor', elemType: 'float32', shape: [1, 3549, 85] }]);
    expect(info.initializerCount).toBeGreaterThan(100);
    expect(info.nodeCount).toBeGreaterThan(100);
  });

  it('agrees with what onnxruntime-node reports after loading the model', async () => {
    const info = await readOnnxInfo(MODEL);
    const session = await ort.InferenceSession.create(MODEL);
    try {
      expect(info.inputs.map((i) => i.name)).toEqual(session.inputNames);
      expect(info.outputs.map((o) => o.name)).toEqual(session.outputNames);
      const asOrt = (v: (typeof info.inputs)[number]) => ({ name: v.name, isTensor: v.kind === 'tensor', type: v.elemType, shape: v.shape });
      expect(info.inputs.map(asOrt)).toEqual(session.inputMetadata.map((m) => ({ ...m })));
      expect(info.outputs.map(asOrt)).toEqual(session.outputMetadata.map((m) => ({ ...m })));
    } finally {
      await session.release();
    }
  });

  it('carries no metadata to fill a manifest from: the gap is named, the input size is known', async () => {
    const fill = manifestFromOnnx(await readOnnxInfo(MODEL), { name: 'yolox_nano' });
    expect(fill.source).toBe('none');
    expect(fill.manifest.input).toEqual({ name: 'images', width: 416, height: 416, layout: 'NCHW' });
    expect(autofillGapMessage('yolox_nano.onnx', fill)).toBe('model yolox_nano.onnx has no manifest and its metadata does not say: classes, decoder');
  });

  it('refuses truncated copies of it with the clear error', async () => {
    const bytes = await readFile(MODEL);
    for (const n of [1, 100, 4096, bytes.length >> 1, bytes.length - 1]) {
      expect(() => readOnnxInfoFromBuffer(bytes.subarray(0, n), `yolox-cut-${n}`)).toThrow(
        expect.objectContaining({ code: ErrorCode.modelLoad, message: expect.stringMatching(new RegExp(`^model yolox-cut-${n} is not an ONNX model: `)) }),
      );
    }
  });
});
