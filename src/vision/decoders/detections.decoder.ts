import type { ModelOutput } from '../../domain/detection.js';
import type { Box } from '../../domain/geometry.js';
import { DETECTIONS_DEFAULTS, type DetectionsOptions, type Manifest } from '../manifest.js';
import type { WireTensor } from '../worker-protocol.js';
import { fmt, plain, sourceBox, suppress, type Candidate } from './anchors.js';
import type { DecodeContext, OutputShapes } from './decoder.js';

/**
 * Detectors that decode and suppress inside the graph (CenterNet in @vladmandic/human, many
 * TF.js and TFLite exports): `[1, N, 6]` rows of box (4 columns), score, class index. Rows below
 * the score threshold or with a class index outside `classes` (padding rows) are skipped; NMS
 * still runs (cheap, and it enforces `nms.maxDetections`).
 */
export function decodeDetections(t: WireTensor, ctx: DecodeContext): ModelOutput {
  const { manifest, transform } = ctx;
  const opts = manifest.detections ?? DETECTIONS_DEFAULTS;
  const n = t.dims[1]!;
  const cols = t.dims[2]!;
  const d = t.data;
  const candidates: Candidate[] = [];
  for (let i = 0; i < n; i++) {
    const at = i * cols;
    const score = d[at + 4]!;
    const cls = Math.round(d[at + 5]!);
    if (!(score >= manifest.thresholds.score) || cls < 0 || cls >= manifest.classes.length) continue;
    const box = sourceBox(modelBox(d, at, opts, manifest), transform);
    if (!box) continue;
    candidates.push({ classId: cls, label: manifest.classes[cls]!, score, box, anchor: i });
  }
  return { kind: 'detections', detections: suppress(candidates, manifest).map(plain) };
}

function modelBox(d: Float32Array, at: number, opts: DetectionsOptions, manifest: Manifest): Box {
  const sx = opts.boxUnits === 'normalized' ? manifest.input.width : 1;
  const sy = opts.boxUnits === 'normalized' ? manifest.input.height : 1;
  const [a, b, c, e] = [d[at]!, d[at + 1]!, d[at + 2]!, d[at + 3]!];
  return opts.boxFormat === 'yxyx' ? { x: b * sx, y: a * sy, w: (e - b) * sx, h: (c - a) * sy } : { x: a * sx, y: b * sy, w: (c - a) * sx, h: (e - b) * sy };
}

export function detectionsShape(outs: OutputShapes): string | null {
  const d = outs[0]?.dims ?? [];
  return d.length === 3 && d[0] === 1 && d[2] === 6 ? null : `detections expects [1,N,6] rows (box, score, class), model gives ${fmt(d)}`;
}
