/**
 * Teaching the rim check (pure): which round sub-parts the part has, found in the mean canonical
 * image of the good parts, and the per-disc, per-angle statistics of their rim deficits.
 */
import { ANGLES, RIM_FEATURES, type Disc } from './disc.graph.js';

/** Smallest disc radius worth a rim check, pixels (a smaller bite than the bands can resolve). */
const MIN_RADIUS = 14;
const MAX_RADIUS = 60;
/** A component is a disc when its area is this close to π r² of its second moments, and its moments are this even. */
const FILL_TOLERANCE = 0.12;
const MAX_ELONGATION = 0.1;
/** Pixels a disc's outline may stray beyond its moment radius. */
const MAX_REACH = 2;
/** Deficit noise floor, grey levels: sensor and JPEG noise the teaching set may under-represent. */
const SD_FLOOR = 0.75;

/**
 * Round bright components of the mean canonical grey image [h × w]: pixels above halfway between
 * the image's median and its 99th percentile, 4-connected; kept when round, not touching the
 * window's edge and between MIN_RADIUS and MAX_RADIUS.
 */
export function findDiscs(grey: Float32Array, width: number, height: number): Disc[] {
  const sorted = Float32Array.from(grey).sort();
  const threshold = (sorted[Math.floor(sorted.length / 2)]! + sorted[Math.floor(sorted.length * 0.99)]!) / 2;
  const label = new Int32Array(grey.length).fill(-1);
  const discs: Disc[] = [];
  const stack: number[] = [];
  for (let start = 0; start < grey.length; start++) {
    if (label[start] !== -1 || grey[start]! <= threshold) continue;
    let n = 0;
    let sx = 0;
    let sy = 0;
    let sxx = 0;
    let syy = 0;
    let sxy = 0;
    let edge = false;
    const pixels: number[] = [];
    label[start] = start;
    stack.push(start);
    while (stack.length > 0) {
      const p = stack.pop()!;
      const x = p % width;
      const y = (p - x) / width;
      n++;
      pixels.push(p);
      sx += x;
      sy += y;
      sxx += x * x;
      syy += y * y;
      sxy += x * y;
      if (x === 0 || y === 0 || x === width - 1 || y === height - 1) edge = true;
      for (const q of [x > 0 ? p - 1 : -1, x < width - 1 ? p + 1 : -1, y > 0 ? p - width : -1, y < height - 1 ? p + width : -1]) {
        if (q >= 0 && label[q] === -1 && grey[q]! > threshold) {
          label[q] = start;
          stack.push(q);
        }
      }
    }
    const mx = sx / n;
    const my = sy / n;
    const m20 = sxx / n - mx * mx;
    const m02 = syy / n - my * my;
    const m11 = sxy / n - mx * my;
    // A filled disc of radius r has μ20 = μ02 = r²/4.
    const r = Math.sqrt(2 * (m20 + m02));
    const elongation = Math.hypot(m20 - m02, 2 * m11) / (m20 + m02);
    const fill = n / (Math.PI * r * r);
    if (edge || r < MIN_RADIUS || r > MAX_RADIUS || elongation > MAX_ELONGATION || Math.abs(fill - 1) > FILL_TOLERANCE) continue;
    // Round, not merely compact: no pixel further out than the radius (a square's corners are 22 % out).
    const reach = Math.max(...pixels.map((q) => Math.hypot((q % width) - mx, Math.floor(q / width) - my)));
    if (reach > r + MAX_REACH) continue;
    discs.push({ x: mx + 0.5, y: my + 0.5, r: edgeRadius(grey, width, height, mx + 0.5, my + 0.5, r) });
  }
  // Row by row (a row: centres within a radius of each other in y), left to right.
  return discs.sort((a, b) => (Math.abs(a.y - b.y) < Math.min(a.r, b.r) ? a.x - b.x : a.y - b.y));
}

/**
 * Where the disc's outline is: the radius (half-pixel steps, from 0.8 to 1.6 × the bright core's)
 * at which the mean grey, averaged around the centre, falls fastest. The core is only what is
 * brighter than the threshold; a bevelled rim lies outside it.
 */
function edgeRadius(grey: Float32Array, width: number, height: number, cx: number, cy: number, core: number): number {
  const ring = (r: number): number => {
    let s = 0;
    for (let a = 0; a < 72; a++) {
      const x = Math.min(width - 1, Math.max(0, Math.floor(cx + r * Math.cos((a * Math.PI) / 36))));
      const y = Math.min(height - 1, Math.max(0, Math.floor(cy + r * Math.sin((a * Math.PI) / 36))));
      s += grey[y * width + x]!;
    }
    return s / 72;
  };
  let best = core;
  let steepest = 0;
  for (let r = 0.8 * core; r <= 1.6 * core; r += 0.5) {
    const drop = ring(r - 1) - ring(r + 1);
    if (drop > steepest) {
      steepest = drop;
      best = r;
    }
  }
  return best;
}

export interface RimFit {
  /** [K · 2 · ANGLES] mean rim deficits and their inverse standard deviations. */
  readonly mean: Float32Array;
  readonly inverseSd: Float32Array;
}

/** Mean and inverse sd per disc, feature and angle over the teaching images' rim deficits ([K · 2 · ANGLES] each). */
export function fitRim(rims: readonly Float32Array[]): RimFit {
  const n = rims[0]!.length;
  const mean = new Float32Array(n);
  const inverseSd = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    let s2 = 0;
    for (const r of rims) {
      s += r[i]!;
      s2 += r[i]! * r[i]!;
    }
    const m = s / rims.length;
    mean[i] = m;
    inverseSd[i] = 1 / Math.sqrt(Math.max(0, s2 / rims.length - m * m) + SD_FLOOR * SD_FLOOR);
  }
  return { mean, inverseSd };
}

/** The rim check's raw image score: the largest summed z (rim, beyond, outline) over discs and angles, as the graph computes it. */
export function rimScore(rim: Float32Array, fit: RimFit): number {
  const discs = rim.length / (RIM_FEATURES * ANGLES);
  let worst = 0;
  for (let k = 0; k < discs; k++) {
    for (let a = 0; a < ANGLES; a++) {
      let z = 0;
      for (let f = 0; f < RIM_FEATURES; f++) {
        const i = (k * RIM_FEATURES + f) * ANGLES + a;
        z += (rim[i]! - fit.mean[i]!) * fit.inverseSd[i]!;
      }
      worst = Math.max(worst, z);
    }
  }
  return worst;
}
