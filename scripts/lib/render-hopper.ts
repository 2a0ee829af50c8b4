/**
 * Cleaning-verification view: a fixed camera looking into a brushed stainless tray or hopper
 * bottom. Clean views show only the brushed grain, the rim and a sheen; residue views add irregular
 * whitish powder or brownish film patches covering a few percent of the image.
 */
import { Canvas, around, encodeJpeg, scale, sdf, type Rgb } from './canvas.js';
import { type LabelBox, type LabelledObject, type Rendered } from './labels.js';
import { Rng } from './rng.js';

export const HOPPER_SIZE = { width: 480, height: 480 } as const;
export const CLEANING_CLASSES = ['clean', 'residue'] as const;

const POWDER: Rgb = [236, 233, 224];
const FILM: Rgb = [138, 98, 60];

export async function renderHopper(seed: number, residue: boolean): Promise<Rendered> {
  const rng = new Rng(seed);
  const { width, height } = HOPPER_SIZE;
  const c = new Canvas(width, height);
  const grain = brushedGrain(rng, width, height);
  const steel = rng.uniform(150, 172);
  const rim = rng.uniform(24, 34);
  const ox = rng.uniform(-6, 6);
  const oy = rng.uniform(-6, 6);
  const floor = sdf.roundedRect(width / 2 + ox, height / 2 + oy, width / 2 - rim, height / 2 - rim, 18);
  const sheenAt = rng.uniform(-0.5, 0.5);
  const sheen = rng.uniform(0.04, 0.1);
  c.fill((x, y) => {
    const g = grain[Math.floor(y) * width + Math.floor(x)]!;
    const inside = floor(x, y) < 0;
    // The rim is a bent wall: darker, grain running the other way would need a second field, so it just dims.
    const base = inside ? steel : steel * 0.78;
    const band = (x + y) / (width + height) - 0.5 - sheenAt;
    const v = base * (1 + sheen * Math.exp(-band * band * 18)) + g * 7;
    return [v * 0.985, v, v * 1.02];
  });
  c.shape(around(width / 2 + ox, height / 2 + oy, width / 2 - rim + 3), (x, y) => Math.abs(floor(x, y)) - 1.2, scale([steel, steel, steel], 0.62), 0.7);

  const objects: LabelledObject[] = [];
  if (residue) {
    const target = rng.uniform(0.02, 0.05) * width * height;
    const patches = rng.int(1, 3);
    for (let k = 0; k < patches; k++) {
      const r = Math.sqrt(target / patches / Math.PI);
      const margin = rim + r * 1.4 + 8;
      const x = rng.uniform(margin, width - margin);
      const y = rng.uniform(margin, height - margin);
      const box = rng.chance(0.5) ? drawPowder(c, rng, x, y, r) : drawFilm(c, rng, x, y, r);
      objects.push({ class: 'residue', box });
    }
  }

  const gx = rng.uniform(-0.08, 0.08);
  const gy = rng.uniform(-0.08, 0.08);
  const exposure = rng.uniform(0.94, 1.05);
  c.light((x, y) => exposure * (1 + gx * (2 * x / width - 1) + gy * (2 * y / height - 1)));
  c.noise(rng, rng.uniform(1.5, 2.2));
  const quality = rng.int(85, 93);
  return { jpeg: await encodeJpeg(c, quality), quality, label: residue ? 'residue' : 'clean', defects: objects, objects };
}

/** Brushing leaves long fine streaks: white noise smeared along x by a running box filter. */
function brushedGrain(rng: Rng, width: number, height: number): Float32Array {
  const raw = new Float32Array(width * height);
  for (let i = 0; i < raw.length; i++) raw[i] = rng.normal();
  const out = new Float32Array(width * height);
  const half = 30;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    let sum = 0;
    for (let x = -half; x <= half; x++) sum += raw[row + Math.min(width - 1, Math.max(0, x))]!;
    for (let x = 0; x < width; x++) {
      out[row + x] = (sum / Math.sqrt(2 * half + 1)) * 0.8 + raw[row + x]! * 0.25;
      sum += raw[row + Math.min(width - 1, x + half + 1)]! - raw[row + Math.max(0, x - half)]!;
    }
  }
  return out;
}

function wobble(rng: Rng): { k: number; a: number; phase: number }[] {
  return [2, 3, 5, 7].map((k) => ({ k, a: rng.uniform(0.03, 0.16) / Math.sqrt(k / 2), phase: rng.uniform(0, 6.283) }));
}

/** Powder: a grainy whitish heap with a few loose specks around it. */
function drawPowder(c: Canvas, rng: Rng, x: number, y: number, r: number): LabelBox {
  const shape = sdf.blob(x, y, r, wobble(rng));
  const density = rng.uniform(0.6, 0.85);
  const seed = rng.uniform(0, 1000);
  c.shape(around(x, y, r * 1.7), (px, py) => shape(px, py) / 3, (px, py) => scale(POWDER, 0.94 + 0.06 * hashNoise(px, py, seed)), density);
  let box = extent(shape, x, y, r);
  for (let k = rng.int(3, 8); k > 0; k--) {
    const a = rng.uniform(0, 6.283);
    const d = r * rng.uniform(1.05, 1.35);
    const sx = x + Math.cos(a) * d;
    const sy = y + Math.sin(a) * d;
    const sr = rng.uniform(1.5, 3.5);
    c.shape(around(sx, sy, sr), sdf.circle(sx, sy, sr), POWDER, density);
    box = union(box, { x: sx - sr, y: sy - sr, w: 2 * sr, h: 2 * sr });
  }
  return box;
}

/** Film: a translucent brownish stain, darker at its dried edge. */
function drawFilm(c: Canvas, rng: Rng, x: number, y: number, r: number): LabelBox {
  const shape = sdf.blob(x, y, r, wobble(rng));
  const opacity = rng.uniform(0.4, 0.6);
  c.shape(around(x, y, r * 1.7), shape, FILM, opacity);
  c.shape(around(x, y, r * 1.7), (px, py) => Math.abs(shape(px, py) + 2) - 1.5, scale(FILM, 0.8), opacity * 0.6);
  return extent(shape, x, y, r);
}

/** Bounding box of a blob, found by scanning its SDF on a coarse grid (exact enough for a label). */
function extent(shape: (x: number, y: number) => number, x: number, y: number, r: number): LabelBox {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (let py = y - r * 1.7; py <= y + r * 1.7; py += 1) {
    for (let px = x - r * 1.7; px <= x + r * 1.7; px += 1) {
      if (shape(px, py) > 0) continue;
      x0 = Math.min(x0, px);
      y0 = Math.min(y0, py);
      x1 = Math.max(x1, px);
      y1 = Math.max(y1, py);
    }
  }
  return roundBox({ x: x0, y: y0, w: x1 - x0, h: y1 - y0 });
}

function union(a: LabelBox, b: LabelBox): LabelBox {
  const x = Math.min(a.x, b.x);
  const y = Math.min(a.y, b.y);
  return roundBox({ x, y, w: Math.max(a.x + a.w, b.x + b.w) - x, h: Math.max(a.y + a.h, b.y + b.h) - y });
}

function roundBox(b: LabelBox): LabelBox {
  return { x: Math.round(b.x), y: Math.round(b.y), w: Math.round(b.w), h: Math.round(b.h) };
}

/** Deterministic per-pixel grain in [-1, 1] without drawing from the RNG stream. */
function hashNoise(x: number, y: number, seed: number): number {
  const s = Math.sin(x * 12.9898 + y * 78.233 + seed) * 43758.5453;
  return 2 * (s - Math.floor(s)) - 1;
}
