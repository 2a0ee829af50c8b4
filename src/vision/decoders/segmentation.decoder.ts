import type { ClassCoverage, Detection, ModelOutput } from '../../domain/detection.js';
import { SEGMENTATION_DEFAULTS, type Manifest } from '../manifest.js';
import type { WireTensor } from '../worker-protocol.js';
import { fmt } from './anchors.js';
import type { DecodeContext, OutputShapes } from './decoder.js';
import { contentCells, gridOver, rangeSize, regionDetections, sigmoid } from './grid.js';

/**
 * Per-pixel semantic segmentation `[1, nc, h, w]` over the model input. Each pixel goes to its best
 * class (exclusive classes) or to every class with probability ≥ 0.5 (independent classes, and
 * always for a single-channel map). Result: coverage per class (share of the image pixels; letterbox
 * padding excluded) and, per non-background class, one detection per 8-connected region with score
 * = the region's mean probability (kept at or above the score threshold), its box in original
 * pixels and its mask at map resolution. Best first, capped at `nms.maxDetections`; no NMS
 * (regions of one class never overlap).
 */
export function decodeSegmentation(t: WireTensor, ctx: DecodeContext): ModelOutput {
  const { manifest, transform } = ctx;
  const opts = manifest.segmentation ?? SEGMENTATION_DEFAULTS;
  const [, nc, h, w] = t.dims as [number, number, number, number];
  const plane = h * w;
  const d = t.data;
  const logits = opts.scores === 'logits';
  const grid = gridOver(w, h, manifest, transform);
  const content = contentCells(grid);
  const total = rangeSize(content);
  const detections: Detection[] = [];
  const coverage: ClassCoverage[] = [];
  const on = new Uint8Array(plane);
  const forEachContent = (fn: (k: number) => void): void => {
    for (let r = content.r0; r < content.r1; r++) for (let c = content.c0; c < content.c1; c++) fn(r * w + c);
  };

  let best: Int32Array | undefined;
  let bestProb: Float32Array | undefined;
  if (opts.exclusive && nc > 1) {
    best = new Int32Array(plane).fill(-1);
    bestProb = new Float32Array(plane);
    forEachContent((k) => {
      let arg = 0;
      for (let c = 1; c < nc; c++) if (d[c * plane + k]! > d[arg * plane + k]!) arg = c;
      const top = d[arg * plane + k]!;
      let sum = 0;
      if (logits) for (let c = 0; c < nc; c++) sum += Math.exp(d[c * plane + k]! - top);
      best![k] = arg;
      bestProb![k] = logits ? 1 / sum : top;
    });
  }

  for (let c = 0; c < nc; c++) {
    on.fill(0);
    let count = 0;
    // Probability of class c at cell k, for the region score.
    const prob = best ? (k: number) => bestProb![k]! : (k: number) => (logits ? sigmoid(d[c * plane + k]!) : d[c * plane + k]!);
    forEachContent((k) => {
      if (best ? best[k] === c : prob(k) >= 0.5) {
        on[k] = 1;
        count++;
      }
    });
    const label = manifest.classes[c]!;
    coverage.push({ classId: c, label, fraction: total > 0 ? count / total : 0 });
    if (c === opts.backgroundClass || count === 0) continue;
    for (const det of regionDetections(grid, on, c, label, prob)) if (det.score >= manifest.thresholds.score) detections.push(det);
  }
  detections.sort((a, b) => b.score - a.score);
  return { kind: 'detections', detections: detections.slice(0, manifest.nms.maxDetections), coverage };
}

export function segmentationShape(outs: OutputShapes, manifest: Manifest): string | null {
  const nc = manifest.classes.length;
  const d = outs[0]!.dims;
  return d.length === 4 && d[0] === 1 && d[1] === nc && d[2]! >= 1 && d[3]! >= 1 ? null : `segmentation expects [1,${nc},h,w], model gives ${fmt(d)}`;
}
