import type { Box } from '../domain/geometry.js';
import { regions } from './decoders/grid.js';
import { openImage, type ImageInput } from './image.js';

/** How a view is compared with the clean reference of its equipment. */
export interface ResidueOptions {
  /** Relative change of a pixel against the (aligned, exposure-matched) reference that counts as residue. */
  readonly threshold: number;
  /** Regions smaller than this (original-image pixels) are noise, not residue. */
  readonly minAreaPx: number;
  /** Largest camera shift (original pixels) searched when aligning the view on the reference. */
  readonly maxShiftPx: number;
  /** Only this part of the view is compared (original pixels); omit for the whole view. */
  readonly region?: Box;
}

export interface ResidueRegion {
  /** In original-image pixels. */
  readonly box: Box;
  /** Residue pixels of the region, in original-image pixels. */
  readonly areaPx: number;
  /** Mean relative change over the region's pixels. */
  readonly score: number;
}

export interface ResidueMap {
  readonly regions: readonly ResidueRegion[];
  /** Sum of the regions' areas, original pixels. */
  readonly areaPx: number;
  /** areaPx as a share of the view (0–1). */
  readonly fraction: number;
  /** Camera shift found (original pixels). */
  readonly shift: { readonly dx: number; readonly dy: number };
  readonly width: number;
  readonly height: number;
}

/** Comparison runs on a copy at most this wide: residue patches are far larger than a cell. */
const WORK_WIDTH = 240;

/** Decode view and reference to the same working size, lightly blurred (sensor noise, grain). */
export async function residueMap(view: ImageInput, reference: ImageInput, opts: ResidueOptions): Promise<ResidueMap> {
  const meta = await openImage(view).metadata();
  const width = meta.width!;
  const height = meta.height!;
  const scale = Math.min(1, WORK_WIDTH / width);
  const w = Math.max(1, Math.round(width * scale));
  const h = Math.max(1, Math.round(height * scale));
  const decode = (img: ImageInput): Promise<Buffer> =>
    openImage(img).removeAlpha().toColourspace('srgb').resize(w, h, { fit: 'fill' }).blur(1.2).raw().toBuffer();
  const [v, r] = await Promise.all([decode(view), decode(reference)]);
  const m = compareRgb(v, r, w, h, { ...opts, scale });
  return { ...m, width, height };
}

/**
 * The pure part, on interleaved RGB of equal size `w × h` (a copy of the view at `scale`):
 * align by the integer shift with the least mean absolute difference, match exposure with a
 * brightness plane per channel (lighting drifts across the view), threshold the relative change,
 * and keep the 8-connected regions of at least `minAreaPx`.
 */
export function compareRgb(view: Buffer, ref: Buffer, w: number, h: number, opts: ResidueOptions & { scale: number }): Omit<ResidueMap, 'width' | 'height'> {
  const s = opts.scale;
  const S = Math.max(0, Math.round(opts.maxShiftPx * s));
  const reg = opts.region ?? { x: 0, y: 0, w: w / s, h: h / s };
  const x0 = Math.max(S, Math.floor(reg.x * s));
  const y0 = Math.max(S, Math.floor(reg.y * s));
  const x1 = Math.min(w - S, Math.ceil((reg.x + reg.w) * s));
  const y1 = Math.min(h - S, Math.ceil((reg.y + reg.h) * s));
  const luma = (b: Buffer, k: number): number => (b[3 * k]! + b[3 * k + 1]! + b[3 * k + 2]!) / 3;

  // Alignment: the reference pixel that shows what view pixel (x, y) shows is (x + dx, y + dy).
  let best = { dx: 0, dy: 0, cost: Infinity };
  for (let dy = -S; dy <= S; dy++) {
    for (let dx = -S; dx <= S; dx++) {
      let cost = 0;
      for (let y = y0; y < y1; y += 2) for (let x = x0; x < x1; x += 2) cost += Math.abs(luma(view, y * w + x) - luma(ref, (y + dy) * w + x + dx));
      if (cost < best.cost) best = { dx, dy, cost };
    }
  }
  const { dx, dy } = best;

  // Exposure: view/ref ≈ a + b·X + c·Y per channel, fitted twice (the second time without outliers).
  const planes = [0, 1, 2].map((c) => fitPlane(view, ref, w, { x0, y0, x1, y1 }, dx, dy, c));
  const on = new Uint8Array(w * h);
  const change = new Float32Array(w * h);
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const k = y * w + x;
      const kr = (y + dy) * w + x + dx;
      const base = Math.max(24, luma(ref, kr));
      let d = 0;
      for (let c = 0; c < 3; c++) {
        const p = planes[c]!;
        const expected = ref[3 * kr + c]! * (p[0]! + p[1]! * (x / w) + p[2]! * (y / h));
        d = Math.max(d, Math.abs(view[3 * k + c]! - expected) / base);
      }
      change[k] = d;
      if (d >= opts.threshold) on[k] = 1;
    }
  }
  const cellArea = 1 / (s * s);
  const found: ResidueRegion[] = [];
  for (const rg of regions(on, w, h)) {
    const areaPx = Math.round(rg.cells.length * cellArea);
    if (areaPx < opts.minAreaPx) continue;
    let sum = 0;
    for (const k of rg.cells) sum += change[k]!;
    const b = rg.bounds;
    found.push({
      box: { x: Math.round(b.c0 / s), y: Math.round(b.r0 / s), w: Math.round((b.c1 - b.c0) / s), h: Math.round((b.r1 - b.r0) / s) },
      areaPx,
      score: sum / rg.cells.length,
    });
  }
  found.sort((a, b) => b.areaPx - a.areaPx);
  const areaPx = found.reduce((a, f) => a + f.areaPx, 0);
  return { regions: found, areaPx, fraction: areaPx / ((w / s) * (h / s)), shift: { dx: Math.round(dx / s), dy: Math.round(dy / s) } };
}

function fitPlane(view: Buffer, ref: Buffer, w: number, r: { x0: number; y0: number; x1: number; y1: number }, dx: number, dy: number, c: number): number[] {
  const h = view.length / 3 / w;
  let coef = [1, 0, 0];
  for (let pass = 0; pass < 2; pass++) {
    // Normal equations of ratio = a + b·X + c·Y over every other pixel.
    const A = [0, 0, 0, 0, 0, 0, 0, 0, 0];
    const B = [0, 0, 0];
    for (let y = r.y0; y < r.y1; y += 2) {
      for (let x = r.x0; x < r.x1; x += 2) {
        const rv = ref[3 * ((y + dy) * w + x + dx) + c]!;
        if (rv < 16) continue;
        const ratio = view[3 * (y * w + x) + c]! / rv;
        const f = [1, x / w, y / h];
        if (pass === 1 && Math.abs(ratio - (coef[0]! + coef[1]! * f[1]! + coef[2]! * f[2]!)) > 0.08) continue;
        for (let i = 0; i < 3; i++) {
          B[i]! += f[i]! * ratio;
          for (let j = 0; j < 3; j++) A[3 * i + j]! += f[i]! * f[j]!;
        }
      }
    }
    coef = solve3(A, B) ?? coef;
  }
  return coef;
}

/** 3 × 3 linear system by Cramer's rule; null when singular. */
function solve3(a: number[], b: number[]): number[] | null {
  const det = (m: number[]): number => m[0]! * (m[4]! * m[8]! - m[5]! * m[7]!) - m[1]! * (m[3]! * m[8]! - m[5]! * m[6]!) + m[2]! * (m[3]! * m[7]! - m[4]! * m[6]!);
  const d = det(a);
  if (Math.abs(d) < 1e-12) return null;
  return [0, 1, 2].map((col) => det(a.map((v, i) => (i % 3 === col ? b[Math.floor(i / 3)]! : v))) / d);
}
