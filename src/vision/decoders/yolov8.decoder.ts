import type { ModelOutput } from '../../domain/detection.js';
import type { Manifest } from '../manifest.js';
import type { WireTensor } from '../worker-protocol.js';
import { anchorCandidates, anchorTable, fmt, plain, suppress } from './anchors.js';
import type { DecodeContext, OutputShapes } from './decoder.js';

/**
 * Ultralytics YOLOv8/v11 detect head: `[1, 4 + nc, N]`, rows cx, cy, w, h (model-input pixels)
 * then one score per class (already sigmoid). No objectness column. The transposed `[1, N, 4 + nc]`
 * some converters produce reads the same.
 */
export function decodeYolov8(t: WireTensor, ctx: DecodeContext): ModelOutput {
  const table = anchorTable(t, 4 + ctx.manifest.classes.length)!; // shape checked by decode()
  const kept = suppress(anchorCandidates(table, ctx, { classCol: 4 }), ctx.manifest);
  return { kind: 'detections', detections: kept.map(plain) };
}

export function yolov8Shape(outs: OutputShapes, manifest: Manifest): string | null {
  const cols = 4 + manifest.classes.length;
  const dims = outs[0]!.dims;
  const ok = dims.length === 3 && dims[0] === 1 && (dims[1] === cols || dims[2] === cols);
  return ok ? null : `yolov8 expects [1,${cols},N] (or [1,N,${cols}]), model gives ${fmt(dims)}`;
}
