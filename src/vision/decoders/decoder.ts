import type { ModelOutput } from '../../domain/detection.js';
import { ErrorCode, LinesideError } from '../../domain/errors.js';
import { assertNever } from '../../domain/assert.js';
import type { Manifest } from '../manifest.js';
import type { InputTransform } from '../preprocess.js';
import type { WireTensor } from '../worker-protocol.js';
import { ANOMALIB_OUTPUTS, anomalibShape, decodeAnomalib } from './anomalib.decoder.js';
import { blazefaceShape, decodeBlazeface } from './blazeface.decoder.js';
import { decodeDetections, detectionsShape } from './detections.decoder.js';
import { decodeSegmentation, segmentationShape } from './segmentation.decoder.js';
import { decodeSoftmax } from './softmax.decoder.js';
import { decodeSsd, splitSsdOutputs, ssdShape } from './ssd.decoder.js';
import { decodeYolov5, yolov5Shape } from './yolov5.decoder.js';
import { decodeYolov8Seg, splitSegOutputs, yolov8SegShape } from './yolov8-seg.decoder.js';
import { decodeYolov8, yolov8Shape } from './yolov8.decoder.js';
import { decodeYolox, yoloxShape } from './yolox.decoder.js';

export interface DecodeContext {
  readonly manifest: Manifest;
  readonly transform: InputTransform;
}

/** Output shapes in the order the decoder reads them, with names where known. */
export type OutputShapes = readonly { readonly name?: string; readonly dims: readonly number[] }[];

/** Families that read more than one output tensor. */
const MULTI_OUTPUT = new Set<Manifest['decoder']>(['yolov8-seg', 'ssd', 'anomalib', 'blazeface']);

/** Output names the decoder reads, in order: the manifest's list, else the model's own order. */
function outputNames(outputs: Readonly<Record<string, unknown>>, manifest: Manifest): string[] {
  if (manifest.outputs) return manifest.outputs;
  const all = Object.keys(outputs);
  if (manifest.decoder === 'anomalib') return all.filter((n) => (ANOMALIB_OUTPUTS as readonly string[]).includes(n));
  return MULTI_OUTPUT.has(manifest.decoder) ? all : all.slice(0, 1);
}

/** Pick the output tensor(s) the manifest names, in order, or the model's own order. */
function pickOutputs(outputs: Readonly<Record<string, WireTensor>>, manifest: Manifest): Array<WireTensor & { name: string }> {
  return outputNames(outputs, manifest).map((n) => {
    const t = outputs[n];
    if (!t) throw new LinesideError(ErrorCode.modelRun, `model output "${n}" is missing (outputs: ${Object.keys(outputs).join(', ')})`);
    return { name: n, data: t.data, dims: t.dims };
  });
}

/** One factory, an exhaustive switch: a decoder family without a case does not compile. */
export function decode(outputs: Readonly<Record<string, WireTensor>>, ctx: DecodeContext): ModelOutput {
  const { manifest } = ctx;
  const picked = pickOutputs(outputs, manifest);
  for (const t of picked) assertFinite(t, manifest.name);
  // Cheap, and it lets every decoder index its tensors without further checks.
  const problem = checkPicked(picked, manifest, true);
  if (problem) throw new LinesideError(ErrorCode.modelRun, `model ${manifest.name}: ${problem}`);
  const first = picked[0]!;
  const family = manifest.decoder;
  switch (family) {
    case 'softmax':
      return decodeSoftmax(first, manifest);
    case 'yolov8':
      return decodeYolov8(first, ctx);
    case 'yolov5':
      return decodeYolov5(first, ctx);
    case 'yolox':
      return decodeYolox(first, ctx);
    case 'yolov8-seg': {
      const { head, protos } = splitSegOutputs(picked);
      return decodeYolov8Seg(head!, protos!, ctx);
    }
    case 'ssd': {
      const { boxes, scores } = splitSsdOutputs(picked, manifest.classes.length);
      return decodeSsd(boxes!, scores!, ctx);
    }
    case 'anomalib':
      return decodeAnomalib(Object.fromEntries(picked.map((t) => [t.name, t])), ctx);
    case 'segmentation':
      return decodeSegmentation(first, ctx);
    case 'blazeface':
      return decodeBlazeface(picked, ctx);
    case 'detections':
      return decodeDetections(first, ctx);
    default:
      return assertNever(family, 'decoder');
  }
}

/**
 * Expected output shapes for a decoder, checked at load. Returns a problem (naming what the decoder
 * expects and what the model gives) or null. Given all outputs by name (a run's `outputs`), every
 * tensor the decoder reads is checked; given one output's dims, that output is checked as the
 * first the decoder reads (for two-output families, as either of them).
 */
export function checkOutputShape(
  dimsOrOutputs: readonly number[] | Readonly<Record<string, { readonly dims: readonly number[] }>>,
  manifest: Manifest,
): string | null {
  if (isDims(dimsOrOutputs)) return checkPicked([{ dims: dimsOrOutputs }], manifest, !MULTI_OUTPUT.has(manifest.decoder));
  const outputs = dimsOrOutputs;
  const names = outputNames(outputs, manifest);
  const missing = names.filter((n) => !outputs[n]);
  if (missing.length > 0) return `${manifest.decoder} reads output ${missing.join(', ')}, model gives ${Object.keys(outputs).join(', ')}`;
  if (names.length === 0) return `${manifest.decoder} finds none of its outputs, model gives ${Object.keys(outputs).join(', ') || 'none'}`;
  return checkPicked(names.map((name) => ({ name, dims: outputs[name]!.dims })), manifest, true);
}

function isDims(v: readonly number[] | object): v is readonly number[] {
  return Array.isArray(v);
}

function checkPicked(outs: OutputShapes, manifest: Manifest, complete: boolean): string | null {
  const nc = manifest.classes.length;
  const dims = outs[0]?.dims ?? [];
  const family = manifest.decoder;
  switch (family) {
    case 'softmax':
      return dims.length === 2 && dims[1] === nc ? null : `softmax expects [1,${nc}], model gives [${dims.join(',')}]`;
    case 'yolov8':
      return yolov8Shape(outs, manifest);
    case 'yolov5':
      return yolov5Shape(outs, manifest);
    case 'yolox':
      return yoloxShape(outs, manifest);
    case 'yolov8-seg':
      return yolov8SegShape(outs, manifest, complete);
    case 'ssd':
      return ssdShape(outs, manifest, complete);
    case 'anomalib':
      return anomalibShape(outs, complete);
    case 'segmentation':
      return segmentationShape(outs, manifest);
    case 'blazeface':
      return blazefaceShape(outs, manifest, complete);
    case 'detections':
      return detectionsShape(outs);
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
