import type { Detection } from '../../domain/detection.js';
import { iou } from '../../domain/geometry.js';

/**
 * Greedy non-maximum suppression. Per class by default; `agnostic` suppresses across classes
 * (for detectors whose classes are mutually exclusive states of one object). Stops once
 * `maxDetections` are kept, which also bounds the work on a frame full of candidates.
 */
export function nms<T extends Detection>(dets: readonly T[], iouThreshold: number, agnostic = false, maxDetections = Infinity): T[] {
  const sorted = [...dets].sort((a, b) => b.score - a.score);
  const kept: T[] = [];
  for (const d of sorted) {
    if (kept.length >= maxDetections) break;
    let suppressed = false;
    for (const k of kept) {
      if ((agnostic || k.classId === d.classId) && iou(k.box, d.box) > iouThreshold) {
        suppressed = true;
        break;
      }
    }
    if (!suppressed) kept.push(d);
  }
  return kept;
}
