/**
 * A float RGB canvas for procedural fixtures. Shapes are painted from signed distance functions,
 * so every edge is anti-aliased by its distance to the pixel centre (no supersampling pass needed),
 * and the camera effects (lighting falloff, sensor noise, JPEG) are applied the way a real line
 * camera would introduce them: after the scene, before encoding.
 */
import sharp from 'sharp';
import type { Rng } from './rng.js';

export type Rgb = readonly [number, number, number];
/** Signed distance in pixels: negative inside the shape. */
export type Sdf = (x: number, y: number) => number;
export type Shade = Rgb | ((x: number, y: number) => Rgb);

export interface Bounds {
  readonly x0: number;
  readonly y0: number;
  readonly x1: number;
  readonly y1: number;
}

export class Canvas {
  readonly data: Float32Array;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.data = new Float32Array(width * height * 3);
  }

  /** Paint every pixel from a function of its centre. */
  fill(shade: (x: number, y: number) => Rgb): void {
    for (let y = 0; y < this.height; y++) {
      for (let x = 0; x < this.width; x++) this.set(x, y, shade(x + 0.5, y + 0.5), 1);
    }
  }

  /**
   * Blend a shape over the canvas. Coverage is 1 inside, 0 outside and linear across the one-pixel
   * band around the edge; `opacity` scales it (films, shadows, powder).
   */
  shape(bounds: Bounds, sdf: Sdf, shade: Shade, opacity = 1): void {
    const x0 = Math.max(0, Math.floor(bounds.x0) - 1);
    const y0 = Math.max(0, Math.floor(bounds.y0) - 1);
    const x1 = Math.min(this.width, Math.ceil(bounds.x1) + 1);
    const y1 = Math.min(this.height, Math.ceil(bounds.y1) + 1);
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) {
        const px = x + 0.5;
        const py = y + 0.5;
        const cover = clamp01(0.5 - sdf(px, py));
        if (cover <= 0) continue;
        this.set(x, y, typeof shade === 'function' ? shade(px, py) : shade, cover * opacity);
      }
    }
  }

  /** Multiply by a lighting gain field (vignetting, a lamp off to one side). */
  light(gain: (x: number, y: number) => number): void {
    const d = this.data;
    for (let y = 0; y < this.height; y++) {
      for (let x = 0; x < this.width; x++) {
        const g = gain(x + 0.5, y + 0.5);
        const i = (y * this.width + x) * 3;
        d[i] = d[i]! * g;
        d[i + 1] = d[i + 1]! * g;
        d[i + 2] = d[i + 2]! * g;
      }
    }
  }

  /**
   * Gaussian sensor noise: mostly luminance (shared by channels) plus a weaker red/blue opponent
   * term, so colour speckle is present but JPEG files stay small.
   */
  noise(rng: Rng, sd: number): void {
    const d = this.data;
    for (let i = 0; i < d.length; i += 3) {
      const l = rng.normal(0, sd);
      const ch = rng.normal(0, sd / 3);
      d[i] = d[i]! + l + ch;
      d[i + 1] = d[i + 1]! + l;
      d[i + 2] = d[i + 2]! + l - ch;
    }
  }

  toBytes(): Uint8Array {
    const out = new Uint8Array(this.data.length);
    for (let i = 0; i < out.length; i++) out[i] = Math.round(Math.min(255, Math.max(0, this.data[i]!)));
    return out;
  }

  private set(x: number, y: number, c: Rgb, a: number): void {
    const i = (y * this.width + x) * 3;
    const d = this.data;
    d[i] = d[i]! + (c[0] - d[i]!) * a;
    d[i + 1] = d[i + 1]! + (c[1] - d[i + 1]!) * a;
    d[i + 2] = d[i + 2]! + (c[2] - d[i + 2]!) * a;
  }
}

export async function encodeJpeg(canvas: Canvas, quality: number): Promise<Buffer> {
  return sharp(Buffer.from(canvas.toBytes()), { raw: { width: canvas.width, height: canvas.height, channels: 3 } })
    .jpeg({ quality })
    .toBuffer();
}

export const sdf = {
  circle:
    (cx: number, cy: number, r: number): Sdf =>
    (x, y) =>
      len(x - cx, y - cy) - r,
  /** Ellipse, approximated by scaling the unit-circle distance by the smaller radius (fine for AA). */
  ellipse:
    (cx: number, cy: number, rx: number, ry: number): Sdf =>
    (x, y) =>
      (len((x - cx) / rx, (y - cy) / ry) - 1) * Math.min(rx, ry),
  /** Rectangle centred on (cx, cy) with half sizes hw, hh, corner radius r, rotated by angle (rad). */
  roundedRect:
    (cx: number, cy: number, hw: number, hh: number, r: number, angle = 0): Sdf =>
    (x, y) => {
      const c = Math.cos(angle);
      const s = Math.sin(angle);
      const lx = Math.abs((x - cx) * c + (y - cy) * s) - (hw - r);
      const ly = Math.abs(-(x - cx) * s + (y - cy) * c) - (hh - r);
      return len(Math.max(lx, 0), Math.max(ly, 0)) + Math.min(Math.max(lx, ly), 0) - r;
    },
  /** Segment from a to b thickened to radius r (arms, legs). */
  capsule:
    (ax: number, ay: number, bx: number, by: number, r: number): Sdf =>
    (x, y) => {
      const vx = bx - ax;
      const vy = by - ay;
      const t = clamp01(((x - ax) * vx + (y - ay) * vy) / (vx * vx + vy * vy));
      return len(x - ax - vx * t, y - ay - vy * t) - r;
    },
  /** Wedge from (cx, cy) spanning `span` radians centred on direction `dir` (unbounded radius). */
  wedge:
    (cx: number, cy: number, dir: number, span: number): Sdf =>
    (x, y) => {
      const a1 = dir - span / 2;
      const a2 = dir + span / 2;
      const px = x - cx;
      const py = y - cy;
      const d1 = -(Math.cos(a1) * py - Math.sin(a1) * px);
      const d2 = -(px * Math.sin(a2) - py * Math.cos(a2));
      return span <= Math.PI ? Math.max(d1, d2) : Math.min(d1, d2);
    },
  /** Star-shaped blob: a circle whose radius wobbles with a few harmonics (powder, film). */
  blob:
    (cx: number, cy: number, r: number, harmonics: readonly { k: number; a: number; phase: number }[]): Sdf =>
    (x, y) => {
      const t = Math.atan2(y - cy, x - cx);
      let rr = r;
      for (const h of harmonics) rr += r * h.a * Math.sin(h.k * t + h.phase);
      return len(x - cx, y - cy) - rr;
    },
  subtract:
    (a: Sdf, b: Sdf): Sdf =>
    (x, y) =>
      Math.max(a(x, y), -b(x, y)),
  union:
    (...parts: Sdf[]): Sdf =>
    (x, y) => {
      let m = Infinity;
      for (const p of parts) m = Math.min(m, p(x, y));
      return m;
    },
};

export function around(cx: number, cy: number, rx: number, ry = rx): Bounds {
  return { x0: cx - rx, y0: cy - ry, x1: cx + rx, y1: cy + ry };
}

export function mix(a: Rgb, b: Rgb, t: number): Rgb {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

export function scale(c: Rgb, k: number): Rgb {
  return [c[0] * k, c[1] * k, c[2] * k];
}

export function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

/** Euclidean length; Math.hypot is several times slower and this runs per pixel. */
export function len(x: number, y: number): number {
  return Math.sqrt(x * x + y * y);
}
