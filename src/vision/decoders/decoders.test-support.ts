import { manifestSchema, type Manifest } from '../manifest.js';
import type { InputTransform } from '../preprocess.js';
import type { WireTensor } from '../worker-protocol.js';

/** Shared by the decoder tests: manifests, transforms and tensor builders. */

export function testManifest(over: Record<string, unknown>): Manifest {
  return manifestSchema.parse({
    name: 'm', version: '1', intendedUse: 'test', licence: 'test', sha256: '0'.repeat(64),
    input: { width: 320, height: 320, resize: 'letterbox' }, classes: ['tablet', 'empty_pocket'], task: 'detect', decoder: 'yolov8', ...over,
  });
}

/**
 * A 640×400 ROI at (100, 50) of a 1000×800 image, letterboxed (centred) into 320×320: scale 0.5,
 * 60 px padding top and bottom. Model (x, y) → original (x / 0.5 + 100, (y − 60) / 0.5 + 50).
 */
export const roi320: InputTransform = { srcWidth: 1000, srcHeight: 800, scaleX: 0.5, scaleY: 0.5, padX: 0, padY: 60, offsetX: 100, offsetY: 50, cropWidth: 640, cropHeight: 400 };

/**
 * A 128×64 ROI at (20, 10) of a 300×200 image, letterboxed (centred) into 64×64: scale 0.5, 16 px
 * padding top and bottom. Model (x, y) → original (x / 0.5 + 20, (y − 16) / 0.5 + 10). On an 8×8
 * map (8 model px per cell) rows 0–1 and 6–7 are padding; a cell is 16 × 16 original pixels.
 */
export const roi64: InputTransform = { srcWidth: 300, srcHeight: 200, scaleX: 0.5, scaleY: 0.5, padX: 0, padY: 16, offsetX: 20, offsetY: 10, cropWidth: 128, cropHeight: 64 };

/** `[1, C, N]` from anchor rows (Ultralytics orientation). */
export function channelsFirst(rows: number[][]): WireTensor {
  const n = rows.length;
  const c = rows[0]!.length;
  const data = new Float32Array(c * n);
  rows.forEach((r, i) => r.forEach((v, k) => (data[k * n + i] = v)));
  return { data, dims: [1, c, n] };
}

/** `[1, N, C]` from anchor rows. */
export function channelsLast(rows: number[][]): WireTensor {
  return { data: Float32Array.from(rows.flat()), dims: [1, rows.length, rows[0]!.length] };
}

/** `[1, C, h, w]` planes, each filled with `base[c]` then `set(c, col, row)` where it returns a number. */
export function planes(c: number, h: number, w: number, base: number[], set: (ch: number, col: number, row: number) => number | undefined): WireTensor {
  const data = new Float32Array(c * h * w);
  for (let ch = 0; ch < c; ch++) {
    for (let row = 0; row < h; row++) {
      for (let col = 0; col < w; col++) data[ch * h * w + row * w + col] = set(ch, col, row) ?? base[ch]!;
    }
  }
  return { data, dims: [1, c, h, w] };
}

export function rounded(b: { x: number; y: number; w: number; h: number }, digits = 3): { x: number; y: number; w: number; h: number } {
  const r = (v: number): number => Number(v.toFixed(digits));
  return { x: r(b.x), y: r(b.y), w: r(b.w), h: r(b.h) };
}
