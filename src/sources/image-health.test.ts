import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import type { ImageData } from '../domain/frame.js';
import { ImageHealthMonitor, imageHealthSchema, type ImageHealthReport } from './image-health.js';

const fixture = (path: string): Buffer => readFileSync(new URL(`../../fixtures/${path}`, import.meta.url));
const blister = (i: number): Buffer => fixture(`blister/blister-${String(i).padStart(4, '0')}.jpg`);
const hopper = (i: number): Buffer => fixture(`hopper/hopper-${String(i).padStart(4, '0')}.jpg`);
const gowning = (i: number): Buffer => fixture(`gowning/gowning-${String(i).padStart(4, '0')}.jpg`);
const img = (data: Buffer): ImageData => ({ data });
const jpeg = (s: Sharp): Promise<Buffer> => s.jpeg({ quality: 90 }).toBuffer();

function monitor(config: Record<string, unknown> = {}, referencePath: string | null = null): ImageHealthMonitor {
  return new ImageHealthMonitor({ config: imageHealthSchema.parse(config), referencePath });
}

/** The scene moved right by pct % of the width (as if the camera turned left): right edge cropped, left edge repeated. */
async function shiftedRight(src: Buffer, pct: number): Promise<Buffer> {
  const { width, height } = await sharp(src).metadata();
  const d = Math.round((width * pct) / 100);
  return jpeg(sharp(src).extract({ left: 0, top: 0, width: width - d, height }).extend({ left: d, extendWith: 'copy' }));
}

/** The scene moved up by pct % of the height. */
async function shiftedUp(src: Buffer, pct: number): Promise<Buffer> {
  const { width, height } = await sharp(src).metadata();
  const d = Math.round((height * pct) / 100);
  return jpeg(sharp(src).extract({ left: 0, top: d, width, height: height - d }).extend({ bottom: d, extendWith: 'copy' }));
}

let dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  dirs = [];
});
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'lineside-image-health-'));
  dirs.push(d);
  return d;
}

describe('imageHealthSchema', () => {
  it('gives every key a default, and refuses unknown keys and out-of-range values', () => {
    expect(imageHealthSchema.parse({})).toEqual({
      enabled: true,
      intervalMs: 1000,
      minSharpness: 15,
      blurRatio: 0.5,
      darkMean: 35,
      brightMean: 220,
      clipFraction: 0.4,
      frozenAfterMs: 5000,
      moved: true,
      movedPct: 3,
      maxSearchPct: 15,
      minSimilarity: 0.4,
      movedAfter: 5,
      captureReference: true,
    });
    expect(imageHealthSchema.safeParse({ blurRadius: 3 }).success).toBe(false);
    expect(imageHealthSchema.safeParse({ intervalMs: 50 }).success).toBe(false);
    expect(imageHealthSchema.safeParse({ clipFraction: 1.5 }).success).toBe(false);
    expect(imageHealthSchema.safeParse({ darkMean: 230 }).success).toBe(false); // above brightMean
    expect(imageHealthSchema.safeParse({ movedPct: 20 }).success).toBe(false); // beyond maxSearchPct
  });
});

describe('blur and exposure', () => {
  it('finds nothing wrong with sharp, well-exposed fixtures', async () => {
    const m = monitor({ captureReference: false });
    for (const [i, data] of [blister(0), blister(17), hopper(0), hopper(5), gowning(0), gowning(22)].entries()) {
      const r = await m.analyse(img(data), i * 1000);
      expect(r.warnings).toEqual([]);
      expect(r.detail).toBeNull();
      expect(r.shift).toBeNull();
      expect(r.sharpness).toBeGreaterThan(50);
      expect(r.meanLuma).toBeGreaterThan(100);
      expect(r.meanLuma).toBeLessThan(215);
    }
  });

  it('calls a blurred copy blurred without a reference view', async () => {
    const m = monitor({ captureReference: false });
    for (const src of [blister(0), hopper(0), gowning(0)]) {
      const r = await m.analyse(img(await jpeg(sharp(src).blur(6))), 0);
      expect(r.warnings).toEqual(['blurred']);
      expect(r.sharpness).toBeLessThan(5);
      expect(r.detail).toMatch(/^image blurred \(sharpness \d+, minimum 15\)$/);
    }
  });

  it('with a reference view, also catches a slight blur the absolute minimum lets through', async () => {
    const slight = img(await jpeg(sharp(blister(0)).blur(2)));
    const alone = await monitor({ captureReference: false }).analyse(slight, 0);
    expect(alone.sharpness).toBeGreaterThan(15);
    expect(alone.warnings).toEqual([]);

    const m = monitor();
    await m.setReference(img(blister(0)));
    const r = await m.analyse(slight, 0);
    expect(r.warnings).toEqual(['blurred']);
    expect(r.detail).toMatch(/^image blurred \(sharpness \d+, reference \d{3}\)$/);
    expect((await m.analyse(img(await jpeg(sharp(blister(0)).blur(6))), 1000)).warnings).toEqual(['blurred']);
    // Other tablets in the same place are not blurred.
    expect((await m.analyse(img(blister(7)), 2000)).warnings).toEqual([]);
  });

  it('does not call a dimmer but sharp image blurred', async () => {
    const m = monitor();
    await m.setReference(img(blister(0)));
    const r = await m.analyse(img(await jpeg(sharp(blister(0)).linear(0.6, 0))), 0);
    expect(r.meanLuma).toBeGreaterThan(35);
    expect(r.warnings).toEqual([]);
    expect(r.shift?.similarity).toBeGreaterThan(0.9);
  });

  it('calls a dark copy underexposed and a washed-out copy overexposed, and not blurred', async () => {
    const m = monitor();
    await m.setReference(img(blister(0)));
    const dark = await m.analyse(img(await jpeg(sharp(blister(0)).linear(0.1, 0))), 0);
    expect(dark.warnings).toEqual(['underexposed']);
    expect(dark.meanLuma).toBeLessThan(35);
    expect(dark.detail).toMatch(/^image underexposed \(mean brightness \d+ of 255, \d+% of pixels black\)$/);

    const washed = await m.analyse(img(await jpeg(sharp(blister(0)).linear(0.2, 210))), 1000);
    expect(washed.warnings).toEqual(['overexposed']);
    expect(washed.meanLuma).toBeGreaterThan(220);

    // Overdriven gain: the mean is still moderate, but the whole foil card is clipped white.
    const clipped = await m.analyse(img(await jpeg(sharp(blister(0)).linear(2.5, -60))), 2000);
    expect(clipped.meanLuma).toBeLessThan(220);
    expect(clipped.clippedHigh).toBeGreaterThan(0.4);
    expect(clipped.warnings).toEqual(['overexposed']);
  });
});

describe('frozen image', () => {
  it('warns once the same bytes have come for frozenAfterMs, and clears on a new image', async () => {
    const m = monitor({ captureReference: false });
    const same = blister(3);
    for (let t = 0; t <= 6000; t += 1000) {
      m.offer(img(same), 10_000 + t);
      await m.idle();
      const r = m.latest()!;
      expect(r.frozenForMs).toBe(t);
      expect(r.warnings).toEqual(t >= 5000 ? ['frozen'] : []);
    }
    expect(m.latest()!.detail).toBe('image frozen for 6 s (identical frames)');
    m.offer(img(blister(4)), 17_000);
    await m.idle();
    expect(m.latest()).toMatchObject({ at: 17_000, frozenForMs: 0, warnings: [] });
  });
});

describe('camera moved', () => {
  it('measures a copy shifted 8 % right as dx ≈ +8 and one shifted 8 % up as dy ≈ -8', async () => {
    const m = monitor({ movedAfter: 1 });
    await m.setReference(img(blister(0)));
    const right = await m.analyse(img(await shiftedRight(blister(0), 8)), 0);
    expect(right.shift!.dx).toBeCloseTo(8, 0);
    expect(Math.abs(right.shift!.dy)).toBeLessThan(0.5);
    expect(right.shift!.similarity).toBeGreaterThan(0.8);
    expect(right.warnings).toEqual(['moved']);
    expect(right.detail).toBe('camera moved (image shifted 8% right from the reference view)');

    const up = await m.analyse(img(await shiftedUp(blister(0), 8)), 1000);
    expect(up.shift!.dy).toBeCloseTo(-8, 0);
    expect(Math.abs(up.shift!.dx)).toBeLessThan(0.5);
    expect(up.detail).toBe('camera moved (image shifted 8% up from the reference view)');
  });

  it('warns after movedAfter analyses in a row when the camera has moved and parts keep coming', async () => {
    const m = monitor(); // movedAfter 5
    await m.setReference(img(blister(0)));
    const reports: ImageHealthReport[] = [];
    for (let i = 1; i <= 6; i++) reports.push(await m.analyse(img(await shiftedRight(blister(i), 8)), i * 1000));
    expect(reports.map((r) => r.warnings.includes('moved'))).toEqual([false, false, false, false, true, true]);
    for (const r of reports) {
      // 8 % plus where each card happens to lie relative to blister-0000's (up to 3.6 % off).
      expect(r.shift!.dx).toBeGreaterThan(4);
      expect(r.shift!.dx).toBeLessThan(9);
    }
    expect(reports.at(-1)!.detail).toMatch(/^camera moved \(image shifted \d% right/);
    // Back in place: the warning goes at once.
    expect((await m.analyse(img(blister(7)), 7000)).warnings).toEqual([]);
  });

  it('does not call other blister cards moved against blister-0000, nor other hopper frames against hopper-0000', async () => {
    for (const [ref, frames] of [
      [blister(0), Array.from({ length: 39 }, (_, i) => blister(i + 1))],
      [hopper(0), Array.from({ length: 11 }, (_, i) => hopper(i + 1))],
    ] as const) {
      const m = monitor();
      await m.setReference(img(ref));
      for (const [i, data] of frames.entries()) {
        const r = await m.analyse(img(data), i * 1000);
        expect(r.warnings).toEqual([]);
        // Each card lies within the renderer's placement jitter of blister-0000's; the hopper's view within ±6 px.
        expect(Math.abs(r.shift!.dx)).toBeLessThan(4);
        expect(Math.abs(r.shift!.dy)).toBeLessThan(4);
        expect(r.shift!.similarity).toBeGreaterThan(0.4);
      }
    }
  });

  it('calls a covered lens a moved or blocked view', async () => {
    const m = monitor();
    await m.setReference(img(blister(0)));
    const grey = await jpeg(sharp({ create: { width: 640, height: 400, channels: 3, background: { r: 120, g: 120, b: 120 } } }));
    let r: ImageHealthReport | undefined;
    for (let i = 0; i < 5; i++) r = await m.analyse(img(grey), i * 1000);
    expect(r!.warnings).toEqual(['blurred', 'moved']);
    expect(r!.shift!.similarity).toBeLessThan(0.4);
    expect(r!.detail).toMatch(/camera moved or view blocked \(similarity 0\.\d\d with the reference view\)$/);
  });

  it('skips the check with moved: false', async () => {
    const m = monitor({ moved: false, movedAfter: 1 });
    await m.setReference(img(blister(0)));
    const r = await m.analyse(img(await shiftedRight(blister(0), 8)), 0);
    expect(r.shift).toBeNull();
    expect(r.warnings).toEqual([]);
  });
});

describe('reference view file', () => {
  it('is written from the first well-exposed frame, reloaded by a new monitor, and replaced by setReference', async () => {
    const path = join(await tempDir(), 'reference', 'blister.png');
    const m = monitor({}, path);
    expect(m.hasReference()).toBe(false);

    const dark = await m.analyse(img(await jpeg(sharp(blister(0)).linear(0.1, 0))), 0);
    expect(dark.warnings).toEqual(['underexposed']);
    expect(existsSync(path)).toBe(false);

    const first = await m.analyse(img(blister(0)), 1000);
    expect(existsSync(path)).toBe(true);
    expect(m.hasReference()).toBe(true);
    expect(first.shift).toEqual({ dx: 0, dy: 0, similarity: 1 });
    expect(await readdir(join(path, '..'))).toEqual(['blister.png']); // no temporary file left behind
    const meta = await sharp(path).metadata();
    expect([meta.format, meta.width, meta.channels]).toEqual(['png', 320, 1]);

    const later = monitor({ movedAfter: 1 }, path);
    expect(later.hasReference()).toBe(true);
    const shifted = img(await shiftedRight(blister(0), 8));
    const r = await later.analyse(shifted, 0);
    expect(r.shift!.dx).toBeCloseTo(8, 0);
    expect(r.warnings).toEqual(['moved']);
    // Another sharp frame does not replace the stored reference.
    await later.analyse(img(blister(5)), 1000);
    expect((await later.analyse(shifted, 2000)).shift!.dx).toBeCloseTo(8, 0);

    await later.setReference(shifted);
    expect((await later.analyse(shifted, 3000)).warnings).toEqual([]);
    expect((await monitor({}, path).analyse(shifted, 0)).shift).toEqual({ dx: 0, dy: 0, similarity: 1 });
  });

  it('is not captured with captureReference: false', async () => {
    const path = join(await tempDir(), 'cam.png');
    const m = monitor({ captureReference: false }, path);
    expect((await m.analyse(img(blister(0)), 0)).shift).toBeNull();
    expect(existsSync(path)).toBe(false);
    expect(m.hasReference()).toBe(false);
  });
});

describe('offer', () => {
  it('analyses at most one frame per intervalMs of frame time', async () => {
    const m = monitor({ captureReference: false });
    expect(m.latest()).toBeNull();
    const analysed = new Set<number>();
    for (let t = 0; t < 3000; t += 100) {
      m.offer(img(blister(t / 100)), t);
      await m.idle();
      analysed.add(m.latest()!.at);
    }
    expect([...analysed]).toEqual([0, 1000, 2000]);
  });

  it('never runs two analyses at once', async () => {
    const m = monitor({ captureReference: false });
    m.offer(img(blister(1)), 0);
    m.offer(img(blister(2)), 5000); // the first is still in flight: skipped
    await m.idle();
    expect(m.latest()!.at).toBe(0);
    m.offer(img(blister(2)), 5000);
    await m.idle();
    expect(m.latest()!.at).toBe(5000);
  });

  it('never throws on garbage or truncated bytes, which analyse rejects', async () => {
    const m = monitor();
    const garbage = img(Buffer.from('this is not an image'));
    const truncated = img(blister(0).subarray(0, 3000));
    expect(() => m.offer(garbage, 0)).not.toThrow();
    await m.idle();
    expect(() => m.offer(truncated, 1000)).not.toThrow();
    await m.idle();
    expect(m.latest()).toBeNull();
    await expect(m.analyse(garbage, 2000)).rejects.toThrow();
    await expect(m.analyse(truncated, 2000)).rejects.toThrow();
    m.offer(img(blister(0)), 3000);
    await m.idle();
    expect(m.latest()).toMatchObject({ at: 3000, warnings: [] });
  });

  it('does nothing when disabled', async () => {
    const m = monitor({ enabled: false });
    m.offer(img(blister(0)), 0);
    await m.idle();
    expect(m.latest()).toBeNull();
  });
});

describe('raw frames', () => {
  it('checks 1920×1080 raw RGB and grey frames like the encoded ones', async () => {
    const raw = async (src: Buffer, channels: 1 | 3): Promise<ImageData> => {
      const s = sharp(src).resize(1920, 1080, { fit: 'fill' }); // stretched, not cropped: the whole scene as in the JPEG
      const data = await (channels === 1 ? s.greyscale() : s).raw().toBuffer();
      expect(data.length).toBe(1920 * 1080 * channels);
      return { data, raw: { width: 1920, height: 1080, channels } };
    };
    const m = monitor({ movedAfter: 1 });
    const ref = await raw(blister(0), 3);
    await m.setReference(ref);
    const same = await m.analyse(ref, 0);
    expect(same.warnings).toEqual([]);
    expect(same.sharpness).toBeGreaterThan(100);
    expect(Math.abs(same.meanLuma - (await monitor().analyse(img(blister(0)), 0)).meanLuma)).toBeLessThan(1);

    const grey = await m.analyse(await raw(blister(0), 1), 1000);
    expect(grey.warnings).toEqual([]);
    expect(grey.shift!.similarity).toBeGreaterThan(0.95);

    const moved = await m.analyse(await raw(await shiftedRight(blister(0), 8), 3), 2000);
    expect(moved.shift!.dx).toBeCloseTo(8, 0);
    expect(moved.warnings).toEqual(['moved']);

    const blurred = await m.analyse(await raw(await jpeg(sharp(blister(0)).blur(6)), 3), 3000);
    expect(blurred.warnings).toContain('blurred');
  });
});
