import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../domain/errors.js';
import { manifestSchema } from './manifest.js';
import { prepareInput, prepareTiles, toSourceBox } from './preprocess.js';
import { tileLayout } from './tiling.js';

const spec = (input: Record<string, unknown>) =>
  manifestSchema.parse({
    name: 't', version: '1', task: 'detect', decoder: 'yolov8', classes: ['a'], intendedUse: 'test', licence: 'test', sha256: '0'.repeat(64),
    input: { width: 64, height: 64, ...input },
  }).input;

/** 200×100 image: dark red background, a pure white 20×20 square at (50,20). */
async function image(): Promise<Buffer> {
  const square = await sharp({ create: { width: 20, height: 20, channels: 3, background: { r: 255, g: 255, b: 255 } } }).png().toBuffer();
  return sharp({ create: { width: 200, height: 100, channels: 3, background: { r: 200, g: 0, b: 0 } } })
    .composite([{ input: square, left: 50, top: 20 }])
    .png()
    .toBuffer();
}

describe('prepareInput', () => {
  it('letterboxes centred with the pad value and maps boxes back to source pixels exactly', async () => {
    const p = await prepareInput(await image(), spec({ resize: 'letterbox', padValue: 114 }));
    expect(p.dims).toEqual([1, 3, 64, 64]);
    expect(p.transform).toMatchObject({ padX: 0, padY: 16, srcWidth: 200, srcHeight: 100 });
    // Top rows are padding: 114/255 in every channel.
    expect(p.tensor[0]).toBeCloseTo(114 / 255, 5);
    // The square (50..70, 20..40) lands at (16..22.4, 22.4..28.8) in the model; map a model box back.
    const back = toSourceBox({ x: 16, y: 16 + 6.4, w: 6.4, h: 6.4 }, p.transform);
    expect(back.x).toBeCloseTo(50, 5);
    expect(back.y).toBeCloseTo(20, 5);
    expect(back.w).toBeCloseTo(20, 5);
  });

  it('letterboxes top-left when asked, leaving all padding at the bottom/right', async () => {
    const p = await prepareInput(await image(), spec({ resize: 'letterbox', letterboxAlign: 'top-left' }));
    expect(p.transform.padY).toBe(0);
    const last = p.tensor[63 * 64 + 63]!; // bottom-right pixel, red plane
    expect(last).toBeCloseTo(114 / 255, 5);
  });

  it('puts channels in BGR order and keeps 0–255 values when the manifest says so', async () => {
    const p = await prepareInput(await image(), spec({ channels: 'BGR', scale: '0-255' }));
    const plane = 64 * 64;
    // A background pixel: B=0, G=0, R=200 → first plane blue.
    expect(p.tensor[0]).toBe(0);
    expect(p.tensor[2 * plane]).toBe(200);
  });

  it('applies mean/std and NHWC layout', async () => {
    const p = await prepareInput(await image(), spec({ layout: 'NHWC', mean: [0.5, 0, 0], std: [0.5, 1, 1] }));
    expect(p.dims).toEqual([1, 64, 64, 3]);
    expect(p.tensor[0]).toBeCloseTo((200 / 255 - 0.5) / 0.5, 4);
  });

  it('crops to the region of interest and maps boxes back with the offset', async () => {
    const p = await prepareInput(await image(), spec({}), { x: 40, y: 10, w: 40, h: 40 });
    expect(p.transform).toMatchObject({ offsetX: 40, offsetY: 10 });
    const back = toSourceBox({ x: 16, y: 16, w: 32, h: 32 }, p.transform);
    expect(back).toEqual({ x: 50, y: 20, w: 20, h: 20 });
  });

  it('refuses a truncated JPEG with a decode error instead of inspecting garbage', async () => {
    const jpeg = await sharp(await image()).jpeg().toBuffer();
    await expect(prepareInput(jpeg.subarray(0, jpeg.length / 2), spec({}))).rejects.toMatchObject({ code: ErrorCode.imageDecode });
    await expect(prepareInput(Buffer.from('not an image'), spec({}))).rejects.toMatchObject({ code: ErrorCode.imageDecode });
  });
});

/** 400×300 smooth colour gradients with a few sharp squares: resampling differences show, but only a little. */
async function scene(): Promise<Buffer> {
  const w = 400;
  const h = 300;
  const px = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 3;
      px[i] = (x * 255) / w;
      px[i + 1] = (y * 255) / h;
      px[i + 2] = 128 + 100 * Math.sin(x / 37) * Math.cos(y / 23);
    }
  }
  const square = await sharp({ create: { width: 24, height: 24, channels: 3, background: { r: 255, g: 255, b: 255 } } }).png().toBuffer();
  return sharp(px, { raw: { width: w, height: h, channels: 3 } })
    .composite([50, 140, 230, 330].map((left, k) => ({ input: square, left, top: 40 + 60 * k })))
    .png()
    .toBuffer();
}

function meanAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

describe('prepareTiles', () => {
  it('cuts each tile from the image resized once: the same input and transform as preparing that tile alone', async () => {
    const img = await scene();
    const s = spec({ resize: 'letterbox' });
    const tiled = await prepareTiles(img, s, { tile: 128, overlap: 0.25 });
    const layout = tileLayout({ x: 0, y: 0, w: 400, h: 300 }, 128, 0.25);
    expect(tiled).toMatchObject({ width: 400, height: 300, region: { x: 0, y: 0, w: 400, h: 300 } });
    expect(layout).toHaveLength(12);
    // Tile → input scale 0.5 and even tile starts: the cuts fall on whole pixels, exactly the layout.
    expect(tiled.tiles).toEqual(layout);
    for (let i = 0; i < layout.length; i++) {
      const once = await tiled.prepare(i);
      const alone = await prepareInput(img, s, layout[i]);
      expect(once.dims).toEqual(alone.dims);
      expect(meanAbsDiff(once.tensor, alone.tensor), `tile ${i}`).toBeLessThan(0.002);
      const back = toSourceBox({ x: 0, y: 0, w: 64, h: 64 }, once.transform);
      for (const k of ['x', 'y', 'w', 'h'] as const) expect(back[k]).toBeCloseTo(layout[i]![k], 6);
      expect(once.transform).toMatchObject({ srcWidth: 400, srcHeight: 300 });
    }
  });

  it('places tiles to the sub-pixel when the scale does not divide, and tiles an ROI only', async () => {
    const img = await scene();
    const s = spec({ resize: 'letterbox' });
    const roi = { x: 30, y: 20, w: 333, h: 250 };
    const tiled = await prepareTiles(img, s, { tile: 130, overlap: 0.2 }, roi);
    const layout = tileLayout(roi, 130, 0.2);
    expect(tiled.region).toEqual(roi);
    expect(tiled.tiles).toHaveLength(layout.length);
    for (let i = 0; i < layout.length; i++) {
      const t = tiled.tiles[i]!;
      // Within one input pixel (130/64 ≈ 2 original pixels) of the layout, and inside the ROI.
      for (const k of ['x', 'y', 'w', 'h'] as const) expect(Math.abs(t[k] - layout[i]![k]), `tile ${i} ${k}`).toBeLessThanOrEqual(1.1);
      expect(t.x >= roi.x - 1e-9 && t.y >= roi.y - 1e-9 && t.x + t.w <= roi.x + roi.w + 1e-9 && t.y + t.h <= roi.y + roi.h + 1e-9).toBe(true);
      const once = await tiled.prepare(i);
      const back = toSourceBox({ x: 0, y: 0, w: 64, h: 64 }, once.transform);
      for (const k of ['x', 'y', 'w', 'h'] as const) expect(back[k]).toBeCloseTo(t[k], 6);
      expect(meanAbsDiff(once.tensor, (await prepareInput(img, s, layout[i])).tensor), `tile ${i}`).toBeLessThan(0.005);
    }
    // The last column and row end on the ROI's edge.
    const last = tiled.tiles.at(-1)!;
    expect(last.x + last.w).toBeCloseTo(roi.x + roi.w, 6);
    expect(last.y + last.h).toBeCloseTo(roi.y + roi.h, 6);
  });

  it('prepares each tile on its own when the model input is larger than a tile (no upscaled copy of the image)', async () => {
    const img = await scene();
    const s = spec({ resize: 'stretch' });
    const tiled = await prepareTiles(img, s, { tile: 48, overlap: 0.2 });
    const layout = tileLayout({ x: 0, y: 0, w: 400, h: 300 }, 48, 0.2);
    expect(tiled.tiles).toEqual(layout);
    for (const i of [0, 7, layout.length - 1]) {
      expect((await tiled.prepare(i)).tensor).toEqual((await prepareInput(img, s, layout[i])).tensor);
    }
  });

  it('an image smaller than the tile is one tile, prepared like the whole image', async () => {
    const img = await scene();
    const s = spec({ resize: 'letterbox' });
    const tiled = await prepareTiles(img, s, { tile: 640, overlap: 0.2 });
    expect(tiled.tiles).toEqual([{ x: 0, y: 0, w: 400, h: 300 }]);
    const once = await tiled.prepare(0);
    const whole = await prepareInput(img, s);
    expect(once.transform).toEqual(whole.transform);
    expect(meanAbsDiff(once.tensor, whole.tensor)).toBeLessThan(0.005);
  });

  it('refuses more tiles than MAX_TILES, and an undecodable image with a decode error', async () => {
    await expect(prepareTiles(await scene(), spec({}), { tile: 32, overlap: 0.5 })).rejects.toMatchObject({
      code: ErrorCode.modelRun,
      message: expect.stringMatching(/^a 400×300 image needs 432 tiles of 32 px, more than 400/),
    });
    await expect(prepareTiles(Buffer.from('not an image'), spec({}), { tile: 128, overlap: 0.2 })).rejects.toMatchObject({ code: ErrorCode.imageDecode });
  });
});
