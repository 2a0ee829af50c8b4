import type { Detection } from '../../domain/detection.js';
import { iou } from '../../domain/geometry.js';

/**
 * Greedy non-maximum suppression. Per class by default; `agnostic` suppresses across classes
 * (for detectors whose classes are mutually exclusive states of one object).
 */
export function nms(dets: readonly Detection[], iouThreshold: number, agnostic = false): Detection[] {
  const sorted = [...dets].sort((a, b) => b.score - a.score);
  const kept: Detection[] = [];
  for (const d of sorted) {
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
