import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../domain/errors.js';
import { manifestSchema } from './manifest.js';
import { prepareInput, toSourceBox } from './preprocess.js';

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
