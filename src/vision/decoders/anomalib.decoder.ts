import type { AnomalyMapSummary, Detection, ModelOutput } from '../../domain/detection.js';
import type { AnomalibOptions } from '../manifest.js';
import type { WireTensor } from '../worker-protocol.js';
import { fmt } from './anchors.js';
import type { DecodeContext, OutputShapes } from './decoder.js';
import { contentCells, gridOver, rangeSize, regionDetections } from './grid.js';

/** Output names of an anomalib export. */
export const ANOMALIB_OUTPUTS = ['pred_score', 'anomaly_map', 'pred_label', 'pred_mask'] as const;

/** Normalised scores at or above this are anomalous: the model's own threshold after normalisation. */
const THRESHOLD = 0.5;

/**
 * anomalib export: `pred_score` (scalar, `[1]` or `[1,1]`), optionally `anomaly_map` `[1,1,h,w]`
 * (or `[1,h,w]`), `pred_mask` (same shapes) and `pred_label`. Scores are normalised so 0.5 is the
 * model's threshold (anomalib min–max: clip((raw − threshold)/(max − min) + 0.5, 0, 1); the map uses
 * the pixel threshold), or taken as they are when the export already normalises.
 *
 * Result: scores `[classes[0] = 1 − s, classes[1] = s]` (e.g. normal / anomaly), and, from the map
 * (else from `pred_mask`), each 8-connected region ≥ 0.5 as a detection of `classes[1]` with score
 * = its peak normalised value (the image score for `pred_mask` regions), box in original pixels and
 * mask at map resolution, plus a summary of the map. `pred_label` is not used: the verdict comes
 * from the score through the rules, like any other model's.
 */
export function decodeAnomalib(outputs: Readonly<Record<string, WireTensor>>, ctx: DecodeContext): ModelOutput {
  const { manifest, transform } = ctx;
  const norm = manifest.anomalib!.normalization; // required with this decoder (manifest schema)
  const [normalLabel, anomalyLabel] = manifest.classes as [string, string];
  const score = normalise(outputs.pred_score!.data[0]!, norm, 'image');
  const scores = [
    { classId: 0, label: normalLabel, score: 1 - score },
    { classId: 1, label: anomalyLabel, score },
  ];
  const map = outputs.anomaly_map ?? outputs.pred_mask;
  if (!map) return { kind: 'scores', scores };

  const [h, w] = map.dims.slice(-2) as [number, number];
  const grid = gridOver(w, h, manifest, transform);
  const content = contentCells(grid);
  const isMap = map === outputs.anomaly_map;
  const value = new Float32Array(w * h);
  const on = new Uint8Array(w * h);
  let max = 0;
  let count = 0;
  for (let r = content.r0; r < content.r1; r++) {
    for (let c = content.c0; c < content.c1; c++) {
      const k = r * w + c;
      const v = isMap ? normalise(map.data[k]!, norm, 'pixel') : map.data[k]!;
      value[k] = v;
      max = Math.max(max, v);
      if (v >= THRESHOLD) {
        on[k] = 1;
        count++;
      }
    }
  }
  const found: Detection[] = isMap ? regionDetections(grid, on, 1, anomalyLabel, (k) => value[k]!, 'max') : regionDetections(grid, on, 1, anomalyLabel, () => score);
  const regions = found.sort((a, b) => b.score - a.score).slice(0, manifest.nms.maxDetections);
  if (!isMap) return { kind: 'scores', scores, regions };
  const total = rangeSize(content);
  const anomalyMap: AnomalyMapSummary = { width: w, height: h, maxScore: max, anomalousFraction: total > 0 ? count / total : 0 };
  return { kind: 'scores', scores, regions, anomalyMap };
}

/** anomalib's min–max normalisation, clipped to 0..1; identity for an export that already normalises. */
export function normalise(raw: number, n: AnomalibOptions['normalization'], level: 'image' | 'pixel'): number {
  if (n === 'in-model') return raw;
  const threshold = level === 'pixel' ? (n.pixelThreshold ?? n.threshold) : n.threshold;
  return Math.min(1, Math.max(0, (raw - threshold) / (n.max - n.min) + 0.5));
}

export function anomalibShape(outs: OutputShapes, complete: boolean): string | null {
  const byName = new Map(outs.filter((o) => o.name !== undefined).map((o) => [o.name!, o.dims]));
  const scalar = (d: readonly number[]): boolean => d.length <= 2 && d.every((x) => x === 1);
  const map = (d: readonly number[]): boolean => (d.length === 4 ? d[0] === 1 && d[1] === 1 : d.length === 3 && d[0] === 1) && d.at(-1)! >= 1 && d.at(-2)! >= 1;
  if (!complete || byName.size === 0) {
    // Only one output, name unknown: it must at least look like one of anomalib's.
    const d = outs[0]!.dims;
    return scalar(d) || map(d) ? null : `anomalib expects pred_score [1] or a map [1,1,h,w], model gives ${fmt(d)}`;
  }
  const score = byName.get('pred_score');
  if (!score) return `anomalib expects an output named pred_score, model gives ${[...byName.keys()].join(', ')}`;
  if (!scalar(score)) return `anomalib expects pred_score [1] (or scalar, [1,1]), model gives ${fmt(score)}`;
  for (const name of ['anomaly_map', 'pred_mask'] as const) {
    const d = byName.get(name);
    if (d && !map(d)) return `anomalib expects ${name} [1,1,h,w], model gives ${fmt(d)}`;
  }
  const a = byName.get('anomaly_map');
  const m = byName.get('pred_mask');
  if (a && m && (a.at(-1) !== m.at(-1) || a.at(-2) !== m.at(-2))) return `anomalib expects anomaly_map and pred_mask of one size, model gives ${fmt(a)} and ${fmt(m)}`;
  return null;
}
