/**
 * Evaluation helpers for the demo models, independent of the appliance's decoders so the scripts
 * and the model test check the ONNX files on their own terms: YOLOv8-layout decoding (best class
 * per anchor, score threshold, per-class greedy NMS), mapping back to source pixels, and matching
 * against labels.json truth.
 */
import type { Box } from '../../src/domain/geometry.js';
import { iou } from '../../src/domain/geometry.js';
import type { InputTransform } from '../../src/vision/preprocess.js';
import { toSourceBox } from '../../src/vision/preprocess.js';
import type { ImageLabel, LabelledObject } from './labels.js';

export interface EvalDetection {
  readonly label: string;
  readonly score: number;
  readonly box: Box;
}

export const EVAL_SCORE = 0.5;
export const EVAL_NMS_IOU = 0.45;
export const EVAL_MATCH_IOU = 0.3;

/** Decode a [1, 4 + nc, N] output (cx, cy, w, h in model pixels, then class scores). */
export function decodeYolov8(data: Float32Array, dims: readonly number[], classes: readonly string[], transform: InputTransform, score = EVAL_SCORE, nmsIou = EVAL_NMS_IOU): EvalDetection[] {
  const rows = dims[1]!;
  const n = dims[2]!;
  if (rows !== 4 + classes.length) throw new Error(`output has ${rows} rows, expected ${4 + classes.length}`);
  const found: EvalDetection[] = [];
  for (let a = 0; a < n; a++) {
    let best = -1;
    let bestScore = -Infinity;
    for (let c = 0; c < classes.length; c++) {
      const s = data[(4 + c) * n + a]!;
      if (s > bestScore) {
        bestScore = s;
        best = c;
      }
    }
    if (bestScore < score) continue;
    const cx = data[a]!;
    const cy = data[n + a]!;
    const w = data[2 * n + a]!;
    const h = data[3 * n + a]!;
    found.push({ label: classes[best]!, score: bestScore, box: toSourceBox({ x: cx - w / 2, y: cy - h / 2, w, h }, transform) });
  }
  return nms(found, nmsIou);
}

/** Greedy non-maximum suppression within each class. */
export function nms(dets: readonly EvalDetection[], threshold: number): EvalDetection[] {
  const kept: EvalDetection[] = [];
  for (const d of [...dets].sort((a, b) => b.score - a.score)) {
    if (!kept.some((k) => k.label === d.label && iou(k.box, d.box) > threshold)) kept.push(d);
  }
  return kept;
}

export interface DetectionCheck {
  /** Truth objects of the watched classes that a same-class detection matched. */
  readonly found: number;
  readonly missed: readonly LabelledObject[];
  /** Detections of the watched classes that match no same-class truth object. */
  readonly spurious: readonly EvalDetection[];
  /** All truth found and nothing spurious. */
  readonly correct: boolean;
}

/**
 * Check detections of the `watched` classes against the truth: each truth object needs a
 * same-class detection with IoU ≥ 0.3, and every such detection must match some truth object.
 */
export function checkDetections(dets: readonly EvalDetection[], truth: ImageLabel, watched: readonly string[], matchIou = EVAL_MATCH_IOU): DetectionCheck {
  const want = truth.objects.filter((o) => watched.includes(o.class));
  const got = dets.filter((d) => watched.includes(d.label));
  const matches = (d: EvalDetection, o: LabelledObject): boolean => d.label === o.class && iou(d.box, o.box) >= matchIou;
  const missed = want.filter((o) => !got.some((d) => matches(d, o)));
  const spurious = got.filter((d) => !want.some((o) => matches(d, o)));
  return { found: want.length - missed.length, missed, spurious, correct: missed.length === 0 && spurious.length === 0 };
}

/** Index of the highest score. */
export function argmax(scores: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < scores.length; i++) if (scores[i]! > scores[best]!) best = i;
  return best;
}
