import sharp from 'sharp';
import type { Box } from '../../domain/geometry.js';

/**
 * Variance of a 4-neighbour Laplacian over a region of an encoded image (grey levels): high for a
 * sharp face, low once blurred. The region is clipped to the image.
 */
export async function laplacianVariance(image: Buffer, r: Box): Promise<number> {
  const meta = await sharp(image).metadata();
  const left = Math.max(0, Math.round(r.x));
  const top = Math.max(0, Math.round(r.y));
  const width = Math.min(meta.width! - left, Math.round(r.w));
  const height = Math.min(meta.height! - top, Math.round(r.h));
  const { data, info } = await sharp(image).extract({ left, top, width, height }).greyscale().raw().toBuffer({ resolveWithObject: true });
  const v: number[] = [];
  for (let y = 1; y < info.height - 1; y++)
    for (let x = 1; x < info.width - 1; x++) {
      const i = y * info.width + x;
      v.push(4 * data[i]! - data[i - 1]! - data[i + 1]! - data[i - info.width]! - data[i + info.width]!);
    }
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  return v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length;
}
