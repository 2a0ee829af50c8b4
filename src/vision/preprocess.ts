import sharp, { type Metadata } from 'sharp';
import { ErrorCode, LinesideError } from '../domain/errors.js';
import type { Box, Roi } from '../domain/geometry.js';
import { openImage, type ImageInput } from './image.js';
import type { Manifest } from './manifest.js';

sharp.cache(false); // frames are never repeated; libvips' cache would only hold memory
sharp.concurrency(1); // one libvips thread per operation; overlap comes from several operations in flight

export type InputSpec = Manifest['input'];

/** How model-input pixels map back to original-image pixels. */
export interface InputTransform {
  readonly srcWidth: number;
  readonly srcHeight: number;
  /** Model pixels per source pixel, per axis (equal for letterbox). */
  readonly scaleX: number;
  readonly scaleY: number;
  /** Padding added on the left/top in model pixels (letterbox only). */
  readonly padX: number;
  readonly padY: number;
  /** Offset of the cropped region in the original image. */
  readonly offsetX: number;
  readonly offsetY: number;
}

export interface PreparedInput {
  readonly tensor: Float32Array;
  readonly dims: readonly [number, number, number, number];
  readonly transform: InputTransform;
}

/** Decoded original image, kept for evidence drawing. */
export interface DecodedSize {
  readonly width: number;
  readonly height: number;
}

/**
 * Decode an encoded image, crop to the ROI, resize as the manifest says (stretch or letterbox),
 * and lay it out as a float tensor. Throws LINESIDE_ERR_IMAGE_DECODE for corrupt or truncated input.
 */
export async function prepareInput(image: ImageInput, spec: InputSpec, roi?: Roi): Promise<PreparedInput> {
  let meta: Metadata;
  try {
    meta = await openImage(image).metadata();
  } catch (cause) {
    throw new LinesideError(ErrorCode.imageDecode, 'image cannot be decoded', { cause });
  }
  const fullW = meta.autoOrient?.width ?? meta.width;
  const fullH = meta.autoOrient?.height ?? meta.height;
  if (!fullW || !fullH) throw new LinesideError(ErrorCode.imageDecode, 'image has no size');

  const crop = roi ? clampRoi(roi, fullW, fullH) : { x: 0, y: 0, w: fullW, h: fullH };
  const { width: W, height: H } = spec;
  let nw: number;
  let nh: number;
  let padX = 0;
  let padY = 0;
  if (spec.resize === 'letterbox') {
    const r = Math.min(W / crop.w, H / crop.h);
    nw = Math.max(1, Math.min(W, Math.round(crop.w * r)));
    nh = Math.max(1, Math.min(H, Math.round(crop.h * r)));
    if (spec.letterboxAlign === 'center') {
      padX = Math.floor((W - nw) / 2);
      padY = Math.floor((H - nh) / 2);
    }
  } else {
    nw = W;
    nh = H;
  }

  let pipeline = openImage(image).rotate().removeAlpha().toColourspace('srgb');
  if (roi) pipeline = pipeline.extract({ left: crop.x, top: crop.y, width: crop.w, height: crop.h });
  pipeline = pipeline.resize({ width: nw, height: nh, fit: 'fill' });
  if (nw !== W || nh !== H) {
    const p = spec.padValue;
    pipeline = pipeline.extend({
      left: padX,
      top: padY,
      right: W - nw - padX,
      bottom: H - nh - padY,
      background: { r: p, g: p, b: p },
    });
  }
  let pixels: Buffer;
  try {
    pixels = await pipeline.raw().toBuffer();
  } catch (cause) {
    throw new LinesideError(ErrorCode.imageDecode, 'image cannot be decoded', { cause });
  }
  if (pixels.length !== W * H * 3) {
    throw new LinesideError(ErrorCode.imageDecode, `decoded ${pixels.length} bytes, expected ${W * H * 3}`);
  }
  return {
    tensor: toTensor(pixels, spec),
    dims: spec.layout === 'NCHW' ? [1, 3, H, W] : [1, H, W, 3],
    transform: {
      srcWidth: fullW,
      srcHeight: fullH,
      scaleX: nw / crop.w,
      scaleY: nh / crop.h,
      padX,
      padY,
      offsetX: crop.x,
      offsetY: crop.y,
    },
  };
}

/** Interleaved RGB bytes → float tensor in the manifest's layout, channel order and scaling. */
export function toTensor(rgb: Uint8Array, spec: InputSpec): Float32Array {
  const n = spec.width * spec.height;
  const out = new Float32Array(n * 3);
  const k = spec.scale === '0-1' ? 1 / 255 : 1;
  const order = spec.channels === 'RGB' ? [0, 1, 2] : [2, 1, 0];
  const nchw = spec.layout === 'NCHW';
  for (let c = 0; c < 3; c++) {
    const src = order[c]!;
    const mean = spec.mean[c]!;
    const invStd = 1 / spec.std[c]!;
    for (let i = 0; i < n; i++) {
      const v = (rgb[i * 3 + src]! * k - mean) * invStd;
      out[nchw ? c * n + i : i * 3 + c] = v;
    }
  }
  return out;
}

/** Model-input box (pixels) → original-image box, clipped to the image. */
export function toSourceBox(b: Box, t: InputTransform): Box {
  const x1 = clamp((b.x - t.padX) / t.scaleX + t.offsetX, 0, t.srcWidth);
  const y1 = clamp((b.y - t.padY) / t.scaleY + t.offsetY, 0, t.srcHeight);
  const x2 = clamp((b.x + b.w - t.padX) / t.scaleX + t.offsetX, 0, t.srcWidth);
  const y2 = clamp((b.y + b.h - t.padY) / t.scaleY + t.offsetY, 0, t.srcHeight);
  return { x: x1, y: y1, w: x2 - x1, h: y2 - y1 };
}

function clampRoi(roi: Roi, w: number, h: number): Roi {
  const x = Math.min(Math.max(0, Math.floor(roi.x)), w - 1);
  const y = Math.min(Math.max(0, Math.floor(roi.y)), h - 1);
  return { x, y, w: Math.max(1, Math.min(Math.floor(roi.w), w - x)), h: Math.max(1, Math.min(Math.floor(roi.h), h - y)) };
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}
