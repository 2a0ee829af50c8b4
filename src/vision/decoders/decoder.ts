import type { ModelOutput } from '../../domain/detection.js';
import { ErrorCode, LinesideError } from '../../domain/errors.js';
import { assertNever } from '../../domain/assert.js';
import type { Manifest } from '../manifest.js';
import type { InputTransform } from '../preprocess.js';
import type { WireTensor } from '../worker-protocol.js';
import { decodeSoftmax } from './softmax.decoder.js';
import { decodeYolov8 } from './yolov8.decoder.js';

export interface DecodeContext {
  readonly manifest: Manifest;
  readonly transform: InputTransform;
}

/** Pick the output tensor(s) the manifest names, in order, or the model's own order. */
function pickOutputs(outputs: Readonly<Record<string, WireTensor>>, manifest: Manifest): WireTensor[] {
  const names = manifest.outputs ?? Object.keys(outputs);
  return names.map((n) => {
    const t = outputs[n];
    if (!t) throw new LinesideError(ErrorCode.modelRun, `model output "${n}" is missing (outputs: ${Object.keys(outputs).join(', ')})`);
    return t;
  });
}

/** One factory, an exhaustive switch: a decoder family without a case does not compile. */
export function decode(outputs: Readonly<Record<string, WireTensor>>, ctx: DecodeContext): ModelOutput {
  const [first] = pickOutputs(outputs, ctx.manifest);
  assertFinite(first!, ctx.manifest.name);
  const family = ctx.manifest.decoder;
  switch (family) {
    case 'softmax':
      return decodeSoftmax(first!, ctx.manifest);
    case 'yolov8':
      return decodeYolov8(first!, ctx);
    default:
      return assertNever(family, 'decoder');
  }
}

/** Expected output shape for a decoder, checked once at load. Returns a problem or null. */
export function checkOutputShape(dims: readonly number[], manifest: Manifest): string | null {
  const nc = manifest.classes.length;
  const family = manifest.decoder;
  switch (family) {
    case 'softmax':
      return dims.length === 2 && dims[1] === nc ? null : `softmax expects [1,${nc}], model gives [${dims.join(',')}]`;
    case 'yolov8':
      return dims.length === 3 && dims[1] === 4 + nc ? null : `yolov8 expects [1,${4 + nc},N], model gives [${dims.join(',')}]`;
    default:
      return assertNever(family, 'decoder');
  }
}

/**
 * A model that emits NaN or Inf is broken; its output must never decide a part. The caller
 * answers not-inspected and marks the model unhealthy.
 */
function assertFinite(t: WireTensor, model: string): void {
  const d = t.data;
  for (let i = 0; i < d.length; i++) {
    if (!Number.isFinite(d[i]!)) {
      throw new LinesideError(ErrorCode.modelUnhealthy, `model ${model} produced a non-finite output at index ${i}`);
    }
  }
}
