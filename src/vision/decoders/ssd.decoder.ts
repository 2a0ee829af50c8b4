import type { ModelOutput } from '../../domain/detection.js';
import type { Box } from '../../domain/geometry.js';
import { SSD_DEFAULTS, type Manifest, type SsdOptions } from '../manifest.js';
import type { WireTensor } from '../worker-protocol.js';
import { fmt, plain, sourceBox, suppress, type Candidate } from './anchors.js';
import type { DecodeContext, OutputShapes } from './decoder.js';
import { sigmoid } from './grid.js';

/**
 * SSD-style exports (and other two-tensor detectors after box decoding): boxes `[1, N, 4]` and class
 * scores `[1, N, nc]`, one row per anchor. Box format and units come from `ssd` options; the best
 * non-background class at or above the score threshold is kept, then NMS.
 */
export function decodeSsd(boxes: WireTensor, scores: WireTensor, ctx: DecodeContext): ModelOutput {
  const { manifest, transform } = ctx;
  const opts = manifest.ssd ?? SSD_DEFAULTS;
  const nc = manifest.classes.length;
  const n = boxes.dims[1]!;
  const b = boxes.data;
  const s = scores.data;
  const threshold = manifest.thresholds.score;
  const row = new Float64Array(nc);
  const candidates: Candidate[] = [];
  for (let i = 0; i < n; i++) {
    activate(s, i * nc, nc, opts.activation, row);
    let best = -1;
    let bestScore = threshold;
    for (let c = 0; c < nc; c++) {
      if (c === opts.backgroundClass) continue;
      if (row[c]! >= bestScore) {
        bestScore = row[c]!;
        best = c;
      }
    }
    if (best < 0) continue;
    const box = sourceBox(modelBox(b, i * 4, opts, manifest), transform);
    if (!box) continue;
    candidates.push({ classId: best, label: manifest.classes[best]!, score: bestScore, box, anchor: i });
  }
  return { kind: 'detections', detections: suppress(candidates, manifest).map(plain) };
}

/** One row of box values → model-input pixels. */
function modelBox(b: Float32Array, at: number, opts: SsdOptions, manifest: Manifest): Box {
  const sx = opts.boxUnits === 'normalized' ? manifest.input.width : 1;
  const sy = opts.boxUnits === 'normalized' ? manifest.input.height : 1;
  const [a, c, e, f] = [b[at]!, b[at + 1]!, b[at + 2]!, b[at + 3]!];
  switch (opts.boxFormat) {
    case 'xyxy':
      return { x: a * sx, y: c * sy, w: (e - a) * sx, h: (f - c) * sy };
    case 'yxyx':
      return { x: c * sx, y: a * sy, w: (f - c) * sx, h: (e - a) * sy };
    case 'cxcywh':
      return { x: (a - e / 2) * sx, y: (c - f / 2) * sy, w: e * sx, h: f * sy };
  }
}

function activate(s: Float32Array, at: number, nc: number, how: SsdOptions['activation'], out: Float64Array): void {
  if (how === 'softmax') {
    let max = -Infinity;
    for (let c = 0; c < nc; c++) max = Math.max(max, s[at + c]!);
    let sum = 0;
    for (let c = 0; c < nc; c++) sum += out[c] = Math.exp(s[at + c]! - max);
    for (let c = 0; c < nc; c++) out[c] = out[c]! / sum;
  } else {
    for (let c = 0; c < nc; c++) out[c] = how === 'sigmoid' ? sigmoid(s[at + c]!) : s[at + c]!;
  }
}

/** Boxes are the output whose last dimension is 4 and scores the one with nc; by order when nc is 4. */
export function splitSsdOutputs<T extends { readonly dims: readonly number[] }>(outs: readonly T[], nc: number): { boxes?: T; scores?: T } {
  const last = (o: T): number | undefined => o.dims[o.dims.length - 1];
  if (nc === 4 || outs.length < 2) return { boxes: outs[0], scores: outs[1] };
  return { boxes: outs.find((o) => last(o) === 4), scores: outs.find((o) => last(o) === nc) };
}

export function ssdShape(outs: OutputShapes, manifest: Manifest, complete: boolean): string | null {
  const nc = manifest.classes.length;
  const expected = `boxes [1,N,4] and scores [1,N,${nc}]`;
  const given = outs.map((o) => fmt(o.dims)).join(' and ');
  const is = (d: readonly number[] | undefined, cols: number): boolean => d !== undefined && d.length === 3 && d[0] === 1 && d[2] === cols;
  if (!complete) {
    const d = outs[0]!.dims;
    return is(d, 4) || is(d, nc) ? null : `ssd expects ${expected}, model gives ${given}`;
  }
  const { boxes, scores } = splitSsdOutputs(outs, nc);
  if (!is(boxes?.dims, 4) || !is(scores?.dims, nc) || boxes!.dims[1] !== scores!.dims[1]) return `ssd expects ${expected}, model gives ${given}`;
  return null;
}
