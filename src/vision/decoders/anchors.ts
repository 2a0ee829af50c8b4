import type { Detection } from '../../domain/detection.js';
import type { Box } from '../../domain/geometry.js';
import type { Manifest } from '../manifest.js';
import { toSourceBox, type InputTransform } from '../preprocess.js';
import type { WireTensor } from '../worker-protocol.js';
import type { DecodeContext } from './decoder.js';
import { nms } from './nms.js';

/**
 * Shared by the box decoders: a table of anchors (one row of box + scores per anchor), mapping of
 * model-input boxes to the original image, and the NMS / cap step.
 */

/** Boxes narrower or lower than this (original pixels) after clipping to the image are artefacts; off-image boxes clip to 0. */
export const MIN_SIDE_PX = 1;

/** One anchor's values by column, whatever the tensor's orientation. */
export interface AnchorTable {
  readonly n: number;
  readonly cols: number;
  at(anchor: number, col: number): number;
}

/**
 * `[1, cols, N]` (channels first, Ultralytics' export) or `[1, N, cols]` (channels last). When both
 * fit (N = cols), channels first wins. Null when neither does.
 */
export function anchorTable(t: WireTensor, cols: number, prefer: 'first' | 'last' = 'first'): AnchorTable | null {
  const d = t.data;
  if (t.dims.length !== 3 || t.dims[0] !== 1) return null;
  const first = t.dims[1] === cols;
  const last = t.dims[2] === cols;
  if (first && (prefer === 'first' || !last)) {
    const n = t.dims[2]!;
    return { n, cols, at: (i, k) => d[k * n + i]! };
  }
  if (last) {
    const n = t.dims[1]!;
    return { n, cols, at: (i, k) => d[i * cols + k]! };
  }
  return null;
}

/** Model-input box → original-image box clipped to the image, or null when degenerate or off-image. */
export function sourceBox(b: Box, t: InputTransform): Box | null {
  const box = toSourceBox(b, t);
  return box.w < MIN_SIDE_PX || box.h < MIN_SIDE_PX ? null : box;
}

/** A detection that remembers its anchor row (for mask coefficients). */
export interface Candidate extends Detection {
  readonly anchor: number;
}

export interface CandidateLayout {
  /** Column of the first class score. */
  readonly classCol: number;
  /** Objectness column (score = objectness × class score); none for anchor-free heads. */
  readonly objCol?: number;
  /** Centre and size of anchor `i` in model-input pixels; default columns 0–3 as cx, cy, w, h. */
  readonly cxcywh?: (i: number) => readonly [number, number, number, number];
}

/**
 * Best class per anchor at or above the score threshold, its box mapped to original pixels.
 * Scores are probabilities (≤ 1), so an anchor whose objectness is below the threshold is skipped.
 */
export function anchorCandidates(table: AnchorTable, ctx: DecodeContext, layout: CandidateLayout): Candidate[] {
  const { manifest, transform } = ctx;
  const nc = manifest.classes.length;
  const threshold = manifest.thresholds.score;
  const { classCol, objCol } = layout;
  const boxOf = layout.cxcywh ?? ((i: number) => [table.at(i, 0), table.at(i, 1), table.at(i, 2), table.at(i, 3)] as const);
  const out: Candidate[] = [];
  for (let i = 0; i < table.n; i++) {
    const obj = objCol === undefined ? 1 : table.at(i, objCol);
    if (obj < threshold) continue;
    let best = -1;
    let bestScore = threshold;
    for (let c = 0; c < nc; c++) {
      const s = obj * table.at(i, classCol + c);
      if (s >= bestScore) {
        bestScore = s;
        best = c;
      }
    }
    if (best < 0) continue;
    const [cx, cy, w, h] = boxOf(i);
    const box = sourceBox({ x: cx - w / 2, y: cy - h / 2, w, h }, transform);
    if (!box) continue;
    out.push({ classId: best, label: manifest.classes[best]!, score: bestScore, box, anchor: i });
  }
  return out;
}

/** NMS (per class, or across classes with `nms.classAgnostic`) and the `nms.maxDetections` cap. */
export function suppress<T extends Detection>(candidates: readonly T[], manifest: Manifest): T[] {
  return nms(candidates, manifest.thresholds.iou, manifest.nms.classAgnostic, manifest.nms.maxDetections);
}

/** Drop the anchor bookkeeping before detections leave the decoder. */
export function plain(c: Candidate): Detection {
  const { anchor: _anchor, ...det } = c;
  return det;
}

/** `[a,b,c]` for messages. */
export function fmt(dims: readonly (number | string)[]): string {
  return `[${dims.join(',')}]`;
}
