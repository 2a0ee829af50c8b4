import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../onnx-writer/onnx-writer.js';
import { OnnxRunner } from '../onnx.runner.js';
import { findDiscs, fitRim, rimScore } from './disc.fit.js';
import { addRimProfile, ANGLES, discLayout, type DiscLayout } from './disc.graph.js';

const W = 120;
const H = 80;
const FLOOR = 187;

/** A seeded stream in [0, 1). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0) / 2 ** 32);
}

interface Tablet {
  readonly x: number;
  readonly y: number;
  readonly r: number;
  readonly shade: number;
  /** A bite out of the rim: direction (radians) and radius. */
  readonly bite?: { readonly a: number; readonly r: number };
}

/** Grey canonical image: pocket floor, one tablet with a bevelled rim and a soft edge, sensor noise. */
function render(t: Tablet, seed: number): Float32Array {
  const rnd = lcg(seed);
  const g = new Float32Array(W * H);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const px = x + 0.5;
      const py = y + 0.5;
      const d = Math.hypot(px - t.x, py - t.y);
      const cover = Math.min(1, Math.max(0, t.r - d + 0.5));
      let v = FLOOR + cover * (t.shade * (1 - 0.14 * (d / t.r) ** 6) - FLOOR);
      if (t.bite) {
        const bx = t.x + Math.cos(t.bite.a) * (t.r + 0.25 * t.bite.r);
        const by = t.y + Math.sin(t.bite.a) * (t.r + 0.25 * t.bite.r);
        const inBite = Math.min(1, Math.max(0, t.bite.r - Math.hypot(px - bx, py - by) + 0.5));
        v += inBite * (FLOOR - v);
      }
      g[y * W + x] = v + (rnd() + rnd() + rnd() - 1.5) * 3;
    }
  }
  return g;
}

let dir: string;
let runner: OnnxRunner;
let layout: DiscLayout;

async function rim(grey: Float32Array): Promise<Float32Array> {
  const rgb = new Float32Array(3 * W * H);
  rgb.set(grey, 0);
  rgb.set(grey, W * H);
  rgb.set(grey, 2 * W * H);
  const out = await runner.run({ data: rgb, dims: [1, 3, H, W] });
  return Object.values(out.outputs)[0]!.data as Float32Array;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lineside-disc-'));
  layout = discLayout([{ x: 40, y: 40, r: 22 }], { width: W, height: H })!;
  const b = new GraphBuilder('rim_test');
  b.input('canonical', [1, 3, H, W]);
  b.output(addRimProfile(b, 'canonical', { width: W, height: H }, layout), [1, 2, 1, ANGLES]);
  writeFileSync(join(dir, 'rim.onnx'), b.encode());
  runner = await OnnxRunner.open(join(dir, 'rim.onnx'), { workers: 1, threads: 1 });
});
afterAll(async () => {
  await runner.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('finding round sub-parts in the mean good part', () => {
  it('finds each round tablet with its centre and outline, and ignores a square and a bar', () => {
    const g = new Float32Array(200 * 100).fill(200);
    const paint = (inside: (x: number, y: number) => boolean, v: number): void => {
      for (let y = 0; y < 100; y++) for (let x = 0; x < 200; x++) if (inside(x + 0.5, y + 0.5)) g[y * 200 + x] = v;
    };
    paint((x, y) => Math.hypot(x - 40.5, y - 50) < 22, 240);
    paint((x, y) => Math.hypot(x - 100, y - 48.5) < 18, 236);
    paint((x, y) => Math.abs(x - 160) < 15 && Math.abs(y - 30) < 15, 240);
    paint((x, y) => Math.abs(x - 160) < 20 && Math.abs(y - 80) < 5, 240);
    const discs = findDiscs(g, 200, 100);
    expect(discs).toHaveLength(2);
    expect(discs[0]!.x).toBeCloseTo(40.5, 0);
    expect(discs[0]!.y).toBeCloseTo(50, 0);
    expect(Math.abs(discs[0]!.r - 22)).toBeLessThanOrEqual(1);
    expect(Math.abs(discs[1]!.r - 18)).toBeLessThanOrEqual(1);
  });

  it('has no rim check for a part without round sub-parts', () => {
    expect(findDiscs(new Float32Array(100 * 60).fill(128), 100, 60)).toEqual([]);
    expect(discLayout([], { width: 100, height: 60 })).toBeUndefined();
  });
});

describe('the rim check', () => {
  it('flags a 4–6 px bite out of the rim, not a tablet that sits off-centre, is larger or darker', async () => {
    const rnd = lcg(7);
    // Play in the pocket ±2 px, radius 21.2–22.8 px, shade 225–250.
    const good = (): Tablet => ({ x: 40 + (rnd() - 0.5) * 4, y: 40 + (rnd() - 0.5) * 4, r: 21.2 + rnd() * 1.6, shade: 225 + rnd() * 25 });
    const teaching: Float32Array[] = [];
    for (let i = 0; i < 40; i++) teaching.push(await rim(render(good(), 100 + i)));
    const fit = fitRim(teaching);
    const goodScores: number[] = [];
    for (let i = 0; i < 20; i++) goodScores.push(rimScore(await rim(render(good(), 500 + i)), fit));
    const bitten: number[] = [];
    for (let i = 0; i < 8; i++) bitten.push(rimScore(await rim(render({ ...good(), bite: { a: (i * Math.PI) / 4 + 0.3, r: 4 + (i % 3) } }, 900 + i)), fit));
    // Every bite scores above every good tablet, whichever way round it points.
    expect(Math.min(...bitten)).toBeGreaterThan(Math.max(...goodScores));
    // An off-centre tablet (the first harmonic the check removes) is no worse than the good ones.
    const shifted = rimScore(await rim(render({ x: 41.8, y: 38.2, r: 22, shade: 238 }, 77)), fit);
    expect(shifted).toBeLessThan(Math.max(...goodScores) * 1.2);
  });
});
