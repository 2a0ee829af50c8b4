/**
 * Fitting the per-location statistics from good parts only (pure; features come from the feature
 * graph so the fit and the model compute them with the same ops).
 */
import { FEATURES, SMOOTH, type PadimGeometry } from './padim.graph.js';

export interface FeatureMaps {
  readonly fw: number;
  readonly fh: number;
  /** One [FEATURES, fh, fw] map per teaching image. */
  readonly maps: readonly Float32Array[];
}

export interface FitResult {
  readonly mean: Float32Array;
  readonly weight: Float32Array;
}

/** Variance floor: a share of the channel's median variance, so a location seen nearly constant in teaching does not flag noise. */
const SHRINK = 1;
/** Absolute floor in (percent of the surround)²: JPEG and sensor noise the teaching set may under-represent. */
const FLOOR = 0.25;
const ITERATIONS = 3;

/**
 * Mean and inverse shrunk variance per location, after aligning each image to the running mean
 * with the model's own shift search (first pass: aligned to the first image).
 */
export function fitPadim(f: FeatureMaps, g: PadimGeometry): FitResult {
  const { fw, fh, maps } = f;
  const plane = fw * fh;
  const n = plane * FEATURES;
  let mean = Float32Array.from(maps[0]!);
  let weight = globalWeights(f);
  for (let it = 0; it < ITERATIONS; it++) {
    const sum = new Float64Array(n);
    const sumSq = new Float64Array(n);
    for (const map of maps) {
      const best = bestShifts(map, mean, weight, fw, fh, g.radius);
      for (let p = 0; p < plane; p++) {
        const src = best[p]!;
        for (let c = 0; c < FEATURES; c++) {
          const v = map[c * plane + src]!;
          sum[c * plane + p]! += v;
          sumSq[c * plane + p]! += v * v;
        }
      }
    }
    const next = new Float32Array(n);
    const variance = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const m = sum[i]! / maps.length;
      next[i] = m;
      variance[i] = Math.max(0, sumSq[i]! / maps.length - m * m);
    }
    mean = next;
    weight = shrunkWeights(variance, plane);
  }
  return { mean, weight };
}

/**
 * For each location, the flat index (in the map) of the cell it is compared with under the single
 * shift that minimises the whole map's distance (the graph's global registration); edges clamp
 * like the graph's edge padding.
 */
export function bestShifts(map: Float32Array, mean: Float32Array, weight: Float32Array, fw: number, fh: number, r: number): Int32Array {
  const plane = fw * fh;
  let bestTotal = Infinity;
  let bestDx = 0;
  let bestDy = 0;
  for (let dy = -r; dy <= r; dy++) {
    for (let dx = -r; dx <= r; dx++) {
      let total = 0;
      for (let y = 0; y < fh && total < bestTotal; y++) {
        const sy = Math.min(fh - 1, Math.max(0, y + dy));
        for (let x = 0; x < fw; x++) {
          const p = y * fw + x;
          const q = sy * fw + Math.min(fw - 1, Math.max(0, x + dx));
          for (let c = 0; c < FEATURES; c++) {
            const e = map[c * plane + q]! - mean[c * plane + p]!;
            total += e * e * weight[c * plane + p]!;
          }
        }
      }
      if (total < bestTotal) {
        bestTotal = total;
        bestDx = dx;
        bestDy = dy;
      }
    }
  }
  const out = new Int32Array(plane);
  for (let y = 0; y < fh; y++) {
    const sy = Math.min(fh - 1, Math.max(0, y + bestDy));
    for (let x = 0; x < fw; x++) out[y * fw + x] = sy * fw + Math.min(fw - 1, Math.max(0, x + bestDx));
  }
  return out;
}

function globalWeights(f: FeatureMaps): Float32Array {
  const plane = f.fw * f.fh;
  const variance = new Float32Array(plane * FEATURES);
  for (let c = 0; c < FEATURES; c++) {
    let s = 0;
    let s2 = 0;
    let k = 0;
    for (const map of f.maps) {
      for (let p = 0; p < plane; p++) {
        const v = map[c * plane + p]!;
        s += v;
        s2 += v * v;
        k++;
      }
    }
    variance.fill(Math.max(FLOOR, s2 / k - (s / k) ** 2), c * plane, (c + 1) * plane);
  }
  return variance.map((v) => 1 / v);
}

function shrunkWeights(variance: Float32Array, plane: number): Float32Array {
  const weight = new Float32Array(variance.length);
  for (let c = 0; c < FEATURES; c++) {
    const channel = variance.slice(c * plane, (c + 1) * plane);
    const median = Float32Array.from(channel).sort()[Math.floor(plane / 2)]!;
    for (let p = 0; p < plane; p++) weight[c * plane + p] = 1 / (channel[p]! + SHRINK * median + FLOOR);
  }
  return weight;
}

/** The model's raw image score (√ of the largest smoothed aligned d²) computed in JS: for calibration on held-back teaching images. */
export function rawScore(map: Float32Array, fit: FitResult, fw: number, fh: number, r: number): number {
  const plane = fw * fh;
  const best = bestShifts(map, fit.mean, fit.weight, fw, fh, r);
  const d2 = new Float64Array(plane);
  for (let p = 0; p < plane; p++) {
    const q = best[p]!;
    let d = 0;
    for (let c = 0; c < FEATURES; c++) {
      const e = map[c * plane + q]! - fit.mean[c * plane + p]!;
      d += e * e * fit.weight[c * plane + p]!;
    }
    d2[p] = d;
  }
  // The graph's AveragePool: SMOOTH × SMOOTH box, padding not counted.
  const h = (SMOOTH - 1) / 2;
  let worst = 0;
  for (let y = 0; y < fh; y++) {
    for (let x = 0; x < fw; x++) {
      let s = 0;
      let n = 0;
      for (let yy = Math.max(0, y - h); yy <= Math.min(fh - 1, y + h); yy++) {
        for (let xx = Math.max(0, x - h); xx <= Math.min(fw - 1, x + h); xx++) {
          s += d2[yy * fw + xx]!;
          n++;
        }
      }
      worst = Math.max(worst, s / n);
    }
  }
  return Math.sqrt(worst);
}
