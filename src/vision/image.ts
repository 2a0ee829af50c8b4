import sharp, { type FailOnOptions, type Sharp } from 'sharp';
import type { ImageData } from '../domain/frame.js';

/** An image to decode: encoded bytes, or an ImageData that may carry raw pixels. */
export type ImageInput = Buffer | ImageData;

/** A sharp pipeline over the image: raw pixels are read as they are, encoded bytes are decoded. */
export function openImage(image: ImageInput, failOn: FailOnOptions = 'truncated'): Sharp {
  if (Buffer.isBuffer(image)) return sharp(image, { failOn });
  return image.raw ? sharp(image.data, { raw: image.raw }) : sharp(image.data, { failOn });
}
