import type { Detection, ModelOutput } from '../../domain/detection.js';
import { toSourceBox } from '../preprocess.js';
import type { DecodeContext } from './decoder.js';
import type { WireTensor } from '../worker-protocol.js';
import { nms } from './nms.js';

/** Boxes smaller than this (source pixels) after clipping are artefacts, not objects. */
const MIN_SIDE_PX = 2;

/**
 * Ultralytics YOLOv8/v11 detect head: `[1, 4 + nc, N]`, rows cx, cy, w, h (model-input pixels)
 * then one score per class (already sigmoid). No objectness column.
 */
export function decodeYolov8(t: WireTensor, ctx: DecodeContext): ModelOutput {
  const { manifest, transform } = ctx;
  const nc = manifest.classes.length;
  const n = t.dims[2]!;
  const d = t.data;
  const threshold = manifest.thresholds.score;
  const candidates: Detection[] = [];
  for (let i = 0; i < n; i++) {
    let best = -1;
    let bestScore = threshold;
    for (let c = 0; c < nc; c++) {
      const s = d[(4 + c) * n + i]!;
      if (s >= bestScore) {
        bestScore = s;
        best = c;
      }
    }
    if (best < 0) continue;
    const cx = d[i]!;
    const cy = d[n + i]!;
    const w = d[2 * n + i]!;
    const h = d[3 * n + i]!;
    const box = toSourceBox({ x: cx - w / 2, y: cy - h / 2, w, h }, transform);
    if (box.w < MIN_SIDE_PX || box.h < MIN_SIDE_PX) continue;
    candidates.push({ classId: best, label: manifest.classes[best]!, score: bestScore, box });
  }
  return { kind: 'detections', detections: nms(candidates, manifest.thresholds.iou) };
}
