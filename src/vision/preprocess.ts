import sharp, { type Metadata } from 'sharp';
import { ErrorCode, LinesideError } from '../domain/errors.js';
import type { Box, Roi } from '../domain/geometry.js';
import type { ImageData, RawLayout } from '../domain/frame.js';
import { openImage, type ImageInput } from './image.js';
import type { Manifest, Tiling } from './manifest.js';
import { MAX_TILES, tileLayout } from './tiling.js';

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
  /** Offset of the cropped region (ROI or tile) in the original image. */
  readonly offsetX: number;
  readonly offsetY: number;
  /** Size of that region in original pixels: all the model was shown (the whole image without a ROI). */
  readonly cropWidth: number;
  readonly cropHeight: number;
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
  const { nw, nh, padX, padY } = contentFit(crop.w, crop.h, spec);

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
      cropWidth: crop.w,
      cropHeight: crop.h,
    },
  };
}

/** One image cut into tiles (manifest `input.tiling`), each ready to prepare as a model input. */
export interface TiledImage {
  /** Upright size of the whole image. */
  readonly width: number;
  readonly height: number;
  /** The part tiled: the ROI in whole pixels, or the whole image. */
  readonly region: Box;
  /** Each tile exactly as its input shows it, in original pixels (within a pixel of the layout's). */
  readonly tiles: readonly Box[];
  /** Tile `i` as a model input, with the transform back to original pixels. */
  prepare(i: number): Promise<PreparedInput>;
}

/**
 * Decode an image once and lay overlapping tiles over it (or its ROI), {@link tileLayout}. Every
 * tile has the same size, so when the model input is not larger than a tile the whole region is
 * resized once by the tile → input scale (libvips shrinks JPEGs while decoding) and each tile is
 * cut from that, padded and laid out as {@link prepareInput} would; the transforms carry the exact
 * sub-pixel placement. When the input is larger than a tile (upscaling), each tile is cut and
 * resized on its own from pixels decoded once, rather than holding an upscaled copy of the image.
 * Throws LINESIDE_ERR_IMAGE_DECODE like {@link prepareInput}, and LINESIDE_ERR_MODEL_RUN for
 * more than {@link MAX_TILES} tiles.
 */
export async function prepareTiles(image: ImageInput, spec: InputSpec, tiling: Tiling, roi?: Roi): Promise<TiledImage> {
  let meta: Metadata;
  try {
    meta = await openImage(image).metadata();
  } catch (cause) {
    throw new LinesideError(ErrorCode.imageDecode, 'image cannot be decoded', { cause });
  }
  const width = meta.autoOrient?.width ?? meta.width;
  const height = meta.autoOrient?.height ?? meta.height;
  if (!width || !height) throw new LinesideError(ErrorCode.imageDecode, 'image has no size');
  const region = roi ? clampRoi(roi, width, height) : { x: 0, y: 0, w: width, h: height };
  const layout = tileLayout(region, tiling.tile, tiling.overlap);
  if (layout.length > MAX_TILES) {
    throw new LinesideError(ErrorCode.modelRun, `a ${region.w}×${region.h} image needs ${layout.length} tiles of ${tiling.tile} px, more than ${MAX_TILES} (input.tiling.tile too small?)`);
  }
  const tw = layout[0]!.w;
  const th = layout[0]!.h;
  const { width: W, height: H } = spec;
  const fit = contentFit(tw, th, spec);

  if (fit.nw > tw || fit.nh > th) {
    // Upscaling: one tile at a time from the decoded pixels.
    const pixels = await decodeRgb(image);
    return { width, height, region, tiles: layout, prepare: (i) => prepareInput(pixels, spec, layout[i]) };
  }

  // The whole region at the tiles' scale, once.
  const sw = Math.max(fit.nw, Math.round((region.w * fit.nw) / tw));
  const sh = Math.max(fit.nh, Math.round((region.h * fit.nh) / th));
  const kx = sw / region.w;
  const ky = sh / region.h;
  let pipeline = openImage(image).rotate().removeAlpha().toColourspace('srgb');
  if (roi) pipeline = pipeline.extract({ left: region.x, top: region.y, width: region.w, height: region.h });
  let scaled: Buffer;
  try {
    scaled = await pipeline.resize({ width: sw, height: sh, fit: 'fill' }).raw().toBuffer();
  } catch (cause) {
    throw new LinesideError(ErrorCode.imageDecode, 'image cannot be decoded', { cause });
  }
  if (scaled.length !== sw * sh * 3) throw new LinesideError(ErrorCode.imageDecode, `decoded ${scaled.length} bytes, expected ${sw * sh * 3}`);
  const cuts = layout.map((t) => ({
    sx: Math.min(sw - fit.nw, Math.round((t.x - region.x) * kx)),
    sy: Math.min(sh - fit.nh, Math.round((t.y - region.y) * ky)),
  }));
  const tiles = cuts.map(({ sx, sy }) => ({ x: region.x + sx / kx, y: region.y + sy / ky, w: fit.nw / kx, h: fit.nh / ky }));
  const prepare = async (i: number): Promise<PreparedInput> => {
    const { sx, sy } = cuts[i]!;
    const rgb = Buffer.alloc(W * H * 3, spec.padValue);
    for (let r = 0; r < fit.nh; r++) {
      const from = ((sy + r) * sw + sx) * 3;
      scaled.copy(rgb, ((fit.padY + r) * W + fit.padX) * 3, from, from + fit.nw * 3);
    }
    return {
      tensor: toTensor(rgb, spec),
      dims: spec.layout === 'NCHW' ? [1, 3, H, W] : [1, H, W, 3],
      transform: { srcWidth: width, srcHeight: height, scaleX: kx, scaleY: ky, padX: fit.padX, padY: fit.padY, offsetX: tiles[i]!.x, offsetY: tiles[i]!.y, cropWidth: tiles[i]!.w, cropHeight: tiles[i]!.h },
    };
  };
  return { width, height, region, tiles, prepare };
}

/**
 * Decode once to upright interleaved RGB pixels (EXIF orientation applied), for work that reads
 * several regions of one image (tiling): each region is then cut from raw pixels, not re-decoded.
 * Throws LINESIDE_ERR_IMAGE_DECODE like {@link prepareInput}.
 */
export async function decodeRgb(image: ImageInput): Promise<ImageData & { readonly raw: RawLayout }> {
  try {
    const { data, info } = await openImage(image).rotate().removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 || data.length !== info.width * info.height * 3) {
      throw new Error(`decoded ${info.width}×${info.height}×${info.channels} into ${data.length} bytes`);
    }
    return { data, raw: { width: info.width, height: info.height, channels: 3 } };
  } catch (cause) {
    throw new LinesideError(ErrorCode.imageDecode, 'image cannot be decoded', { cause });
  }
}

/** Where a `w` × `h` picture goes in the model input: its resized size and the letterbox padding. */
function contentFit(w: number, h: number, spec: InputSpec): { nw: number; nh: number; padX: number; padY: number } {
  const { width: W, height: H } = spec;
  if (spec.resize !== 'letterbox') return { nw: W, nh: H, padX: 0, padY: 0 };
  const r = Math.min(W / w, H / h);
  const nw = Math.max(1, Math.min(W, Math.round(w * r)));
  const nh = Math.max(1, Math.min(H, Math.round(h * r)));
  const centre = spec.letterboxAlign === 'center';
  return { nw, nh, padX: centre ? Math.floor((W - nw) / 2) : 0, padY: centre ? Math.floor((H - nh) / 2) : 0 };
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

/**
 * Model-input box (pixels) → original-image box, clipped to the region the model was shown (its ROI
 * or tile, else the image): a box reaching into letterbox padding never covers image outside it.
 */
export function toSourceBox(b: Box, t: InputTransform): Box {
  const { x0, y0, x1: xe, y1: ye } = shownRegion(t);
  const x1 = clamp((b.x - t.padX) / t.scaleX + t.offsetX, x0, xe);
  const y1 = clamp((b.y - t.padY) / t.scaleY + t.offsetY, y0, ye);
  const x2 = clamp((b.x + b.w - t.padX) / t.scaleX + t.offsetX, x0, xe);
  const y2 = clamp((b.y + b.h - t.padY) / t.scaleY + t.offsetY, y0, ye);
  return { x: x1, y: y1, w: x2 - x1, h: y2 - y1 };
}

/** Edges, in original pixels, of what the model was shown: its crop, within the image. */
export function shownRegion(t: InputTransform): { x0: number; y0: number; x1: number; y1: number } {
  const x0 = Math.max(0, t.offsetX);
  const y0 = Math.max(0, t.offsetY);
  return { x0, y0, x1: Math.min(t.srcWidth, t.offsetX + t.cropWidth), y1: Math.min(t.srcHeight, t.offsetY + t.cropHeight) };
}

/** The ROI in whole pixels, inside a `w` × `h` image and at least one pixel wide and high. */
export function clampRoi(roi: Roi, w: number, h: number): Roi {
  const x = Math.min(Math.max(0, Math.floor(roi.x)), w - 1);
  const y = Math.min(Math.max(0, Math.floor(roi.y)), h - 1);
  return { x, y, w: Math.max(1, Math.min(Math.floor(roi.w), w - x)), h: Math.max(1, Math.min(Math.floor(roi.h), h - y)) };
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}
