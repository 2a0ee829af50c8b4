import sharp from 'sharp';
import type { ImageData } from '../domain/frame.js';
import { openImage } from '../vision/image.js';

/**
 * The image measurements behind the image health checks (image-health.ts): a small grey copy of a
 * frame, its sharpness and exposure, a coarse edge view of it and the shift between two such views.
 * Pure functions of the pixels; nothing here knows about cameras, thresholds or files.
 */

/** Width of the grey image the checks work on; the height keeps the aspect. */
export const ANALYSIS_WIDTH = 320;

/** A grey image, one float per pixel (0..255 for images, anything for gradients), row-major. */
export interface GreyImage {
  readonly width: number;
  readonly height: number;
  readonly data: Float32Array;
}

/** Decode any ImageData to the grey analysis image (ANALYSIS_WIDTH wide). Throws on undecodable input. */
export async function analysisImage(img: ImageData): Promise<GreyImage> {
  // Resize in sharp, then convert to grey here: sharp's greyscale() runs before the resize, on
  // every source pixel, which costs ~12 ms on a 1080p RGB frame; resizing the RGB costs ~4 ms.
  const { data, info } = await openImage(img)
    .resize({ width: ANALYSIS_WIDTH })
    .removeAlpha()
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  const n = info.width * info.height;
  const ch = info.channels;
  const out = new Float32Array(n);
  if (ch >= 3) {
    for (let i = 0, p = 0; i < n; i++, p += ch) out[i] = 0.299 * data[p]! + 0.587 * data[p + 1]! + 0.114 * data[p + 2]!;
  } else {
    for (let i = 0, p = 0; i < n; i++, p += ch) out[i] = data[p]!;
  }
  return { width: info.width, height: info.height, data: out };
}

/** Variance of the 4-neighbour Laplacian over the interior: high for crisp edges and fine texture, low when blurred. */
export function laplacianVariance(g: GreyImage): number {
  const { width: w, height: h, data: d } = g;
  if (w < 3 || h < 3) return 0;
  let sum = 0;
  let sum2 = 0;
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1, i = y * w + 1; x < w - 1; x++, i++) {
      const v = d[i - w]! + d[i + w]! + d[i - 1]! + d[i + 1]! - 4 * d[i]!;
      sum += v;
      sum2 += v * v;
    }
  }
  const n = (w - 2) * (h - 2);
  const mean = sum / n;
  return sum2 / n - mean * mean;
}

/** Mean grey level, the fractions of white (>= 250) and black (<= 5) pixels, and the standard deviation ("contrast"). */
export function exposureStats(g: GreyImage): { meanLuma: number; clippedHigh: number; clippedLow: number; contrast: number } {
  const d = g.data;
  let sum = 0;
  let sum2 = 0;
  let hi = 0;
  let lo = 0;
  for (let i = 0; i < d.length; i++) {
    const v = d[i]!;
    sum += v;
    sum2 += v * v;
    if (v >= 250) hi++;
    else if (v <= 5) lo++;
  }
  const n = Math.max(1, d.length);
  const mean = sum / n;
  return { meanLuma: mean, clippedHigh: hi / n, clippedLow: lo / n, contrast: Math.sqrt(Math.max(0, sum2 / n - mean * mean)) };
}

/** Average of 2×2 blocks (an odd last row/column is dropped). */
function halve(g: GreyImage): GreyImage {
  const w = g.width >> 1;
  const h = g.height >> 1;
  const out = new Float32Array(w * h);
  const s = g.data;
  const sw = g.width;
  for (let y = 0; y < h; y++) {
    const r0 = 2 * y * sw;
    const r1 = r0 + sw;
    for (let x = 0; x < w; x++) {
      const c = 2 * x;
      out[y * w + x] = 0.25 * (s[r0 + c]! + s[r0 + c + 1]! + s[r1 + c]! + s[r1 + c + 1]!);
    }
  }
  return { width: w, height: h, data: out };
}

/** Separable [1 2 1]/4 smoothing, edges clamped. */
function smooth(g: GreyImage): GreyImage {
  const { width: w, height: h, data: d } = g;
  const t = new Float32Array(w * h);
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      t[i] = 0.25 * (d[x > 0 ? i - 1 : i]! + 2 * d[i]! + d[x < w - 1 ? i + 1 : i]!);
    }
  }
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      out[i] = 0.25 * (t[y > 0 ? i - w : i]! + 2 * t[i]! + t[y < h - 1 ? i + w : i]!);
    }
  }
  return { width: w, height: h, data: out };
}

/** Gradient magnitude |∂x| + |∂y| (central differences; border 0). */
function gradient(g: GreyImage): GreyImage {
  const { width: w, height: h, data: d } = g;
  const out = new Float32Array(w * h);
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1, i = y * w + 1; x < w - 1; x++, i++) {
      out[i] = Math.abs(d[i + 1]! - d[i - 1]!) + Math.abs(d[i + w]! - d[i - w]!);
    }
  }
  return { width: w, height: h, data: out };
}

/**
 * What the "moved" check compares: the gradient magnitude of the analysis image at a quarter of
 * its width (80 px), lightly smoothed. Gradients ignore a change of brightness; the low resolution
 * ignores fine texture that differs every frame (brushed steel, tablet markings, sensor noise) —
 * at 160 px the hopper fixtures matched each other with similarity down to 0.28, at 80 px ≥ 0.44.
 */
export function viewOf(analysis: GreyImage): GreyImage {
  return gradient(smooth(halve(halve(analysis))));
}

/** Summed-area tables of v and v², (w+1)×(h+1), for sums over any rectangle in O(1). */
interface Integral {
  readonly s: Float64Array;
  readonly s2: Float64Array;
  readonly stride: number;
}

function integral(g: GreyImage): Integral {
  const { width: w, height: h, data: d } = g;
  const stride = w + 1;
  const s = new Float64Array(stride * (h + 1));
  const s2 = new Float64Array(stride * (h + 1));
  for (let y = 0; y < h; y++) {
    let row = 0;
    let row2 = 0;
    for (let x = 0; x < w; x++) {
      const v = d[y * w + x]!;
      row += v;
      row2 += v * v;
      s[(y + 1) * stride + x + 1] = s[y * stride + x + 1]! + row;
      s2[(y + 1) * stride + x + 1] = s2[y * stride + x + 1]! + row2;
    }
  }
  return { s, s2, stride };
}

/** Σv and Σv² over columns x0..x1-1, rows y0..y1-1. */
function rectSums(t: Integral, x0: number, y0: number, x1: number, y1: number): [number, number] {
  const a = y0 * t.stride + x0;
  const b = y0 * t.stride + x1;
  const c = y1 * t.stride + x0;
  const d = y1 * t.stride + x1;
  return [t.s[d]! - t.s[b]! - t.s[c]! + t.s[a]!, t.s2[d]! - t.s2[b]! - t.s2[c]! + t.s2[a]!];
}

/**
 * Normalised cross-correlation of `ref` with `cur` displaced by (dx, dy), over the part where the
 * two overlap: content that moved right/down by (dx, dy) matches at positive dx/dy, i.e.
 * cur(x + dx, y + dy) ≈ ref(x, y). The whole overlap is used, not a central template: fixed
 * structure is often near the border (a hopper's rim, a conveyor's guide rails).
 */
function ncc(ref: GreyImage, cur: GreyImage, ri: Integral, ci: Integral, dx: number, dy: number): number {
  const w = ref.width;
  const h = ref.height;
  const x0 = Math.max(0, -dx);
  const x1 = Math.min(w, w - dx);
  const y0 = Math.max(0, -dy);
  const y1 = Math.min(h, h - dy);
  const n = (x1 - x0) * (y1 - y0);
  if (n <= 0) return 0;
  const r = ref.data;
  const c = cur.data;
  let src = 0;
  for (let y = y0; y < y1; y++) {
    const ro = y * w;
    const co = (y + dy) * w + dx;
    for (let x = x0; x < x1; x++) src += r[ro + x]! * c[co + x]!;
  }
  const [sr, srr] = rectSums(ri, x0, y0, x1, y1);
  const [sc, scc] = rectSums(ci, x0 + dx, y0 + dy, x1 + dx, y1 + dy);
  const vr = srr - (sr * sr) / n;
  const vc = scc - (sc * sc) / n;
  // No structure on either side (a blank or covered view): nothing matches.
  return vr > 1e-6 && vc > 1e-6 ? (src - (sr * sc) / n) / Math.sqrt(vr * vc) : 0;
}

/** Offset of the vertex of the parabola through (-1, a), (0, b), (1, c), within ±0.5. */
function vertex(a: number, b: number, c: number): number {
  const den = a - 2 * b + c;
  if (den >= 0) return 0;
  return Math.max(-0.5, Math.min(0.5, (0.5 * (a - c)) / den));
}

/**
 * Translation of view `cur` relative to view `ref` (both from viewOf, same size) in percent of
 * width/height, with the similarity at that shift. Exhaustive search over every whole-pixel shift
 * up to maxSearchPct (at 80 px wide and 15 %: 25 × 17 shifts, ~2 ms), then a parabola through the
 * neighbours of the best for a sub-pixel estimate (one pixel is 1.25 % of the width).
 * Sign: positive dx = content moved right in the image, positive dy = content moved down.
 */
export function estimateShift(ref: GreyImage, cur: GreyImage, maxSearchPct: number): { dx: number; dy: number; similarity: number } {
  if (cur.width !== ref.width || cur.height !== ref.height) throw new Error('views differ in size');
  const w = ref.width;
  const h = ref.height;
  const mx = Math.max(1, Math.round((w * maxSearchPct) / 100));
  const my = Math.max(1, Math.round((h * maxSearchPct) / 100));
  const ri = integral(ref);
  const ci = integral(cur);
  const sw = 2 * mx + 1;
  const scores = new Float64Array(sw * (2 * my + 1));
  let bx = 0;
  let by = 0;
  let best = -Infinity;
  for (let dy = -my; dy <= my; dy++) {
    for (let dx = -mx; dx <= mx; dx++) {
      const s = ncc(ref, cur, ri, ci, dx, dy);
      scores[(dy + my) * sw + dx + mx] = s;
      // Ties (a blank view scores 0 everywhere) go to the smallest shift.
      if (s > best || (s === best && dx * dx + dy * dy < bx * bx + by * by)) {
        best = s;
        bx = dx;
        by = dy;
      }
    }
  }
  const at = (dx: number, dy: number): number => scores[(dy + my) * sw + dx + mx]!;
  const sx = Math.abs(bx) < mx ? vertex(at(bx - 1, by), best, at(bx + 1, by)) : 0;
  const sy = Math.abs(by) < my ? vertex(at(bx, by - 1), best, at(bx, by + 1)) : 0;
  return { dx: ((bx + sx) / w) * 100, dy: ((by + sy) / h) * 100, similarity: Math.max(0, best) };
}

/** The analysis image as an 8-bit grey PNG: the reference file holds exactly what the checks need. */
export function toPng(g: GreyImage): Promise<Buffer> {
  const bytes = Buffer.alloc(g.data.length);
  for (let i = 0; i < g.data.length; i++) bytes[i] = Math.max(0, Math.min(255, Math.round(g.data[i]!)));
  return sharp(bytes, { raw: { width: g.width, height: g.height, channels: 1 } })
    .toColourspace('b-w') // else sharp writes one-channel raw input as RGB
    .png()
    .toBuffer();
}

export async function fromPng(png: Buffer): Promise<GreyImage> {
  const { data, info } = await sharp(png, { failOn: 'truncated' }).greyscale().raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  const out = new Float32Array(info.width * info.height);
  for (let i = 0, p = 0; i < out.length; i++, p += info.channels) out[i] = data[p]!;
  return { width: info.width, height: info.height, data: out };
}
