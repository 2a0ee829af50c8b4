import type { ModelOutput } from '../../domain/detection.js';
import type { Manifest } from '../manifest.js';
import type { WireTensor } from '../worker-protocol.js';
import { anchorCandidates, anchorTable, fmt, plain, suppress } from './anchors.js';
import type { DecodeContext, OutputShapes } from './decoder.js';

/**
 * YOLOv5 (and YOLOX exported with decode_in_inference=True): `[1, N, 5 + nc]`, columns cx, cy, w, h
 * in model-input pixels, objectness, then class probabilities; score = objectness × class score.
 */
export function decodeYolov5(t: WireTensor, ctx: DecodeContext): ModelOutput {
  const table = anchorTable(t, 5 + ctx.manifest.classes.length, 'last')!; // shape checked by decode()
  const kept = suppress(anchorCandidates(table, ctx, { objCol: 4, classCol: 5 }), ctx.manifest);
  return { kind: 'detections', detections: kept.map(plain) };
}

export function yolov5Shape(outs: OutputShapes, manifest: Manifest): string | null {
  const cols = 5 + manifest.classes.length;
  const dims = outs[0]!.dims;
  return dims.length === 3 && dims[0] === 1 && dims[2] === cols ? null : `yolov5 expects [1,N,${cols}], model gives ${fmt(dims)}`;
}
