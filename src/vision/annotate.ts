import sharp, { type OverlayOptions } from 'sharp';
import type { Roi } from '../domain/geometry.js';
import { openImage, type ImageInput } from './image.js';

export type Rgb = readonly [number, number, number];

/** One box to draw: outlined in `rgb`, with `label` above it when given. */
export interface Mark {
  readonly box: Roi;
  readonly rgb: Rgb;
  readonly label?: string;
}

const ROI_RGB: Rgb = [47, 125, 246];

/**
 * The image as a JPEG with boxes drawn: used for evidence images and by `lineside infer`. Boxes go
 * straight into the decoded pixels; only the small label texts are rendered by librsvg, which
 * costs a fraction of rasterising a full-frame overlay.
 */
export async function annotate(image: ImageInput, marks: readonly Mark[], opts: { title?: string; roi?: Roi; quality?: number; blur?: readonly Roi[] } = {}): Promise<Buffer> {
  const { data, info } = await openImage(image, 'none').rotate().removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  // Privacy: blurred regions are blurred in the pixels before anything is drawn or encoded.
  for (const b of opts.blur ?? []) await blurRegion(data, info.width, info.height, info.channels, b);
  const { width: w, height: h } = info;
  const stroke = Math.max(2, Math.round(Math.min(w, h) / 200));
  const font = Math.max(12, Math.round(Math.min(w, h) / 30));
  if (opts.roi) drawRect(data, w, h, opts.roi, ROI_RGB, stroke);
  const labels: OverlayOptions[] = opts.title ? [label(opts.title, '#ffffff', font, 4, 4, w, h)] : [];
  for (const m of marks) {
    drawRect(data, w, h, m.box, m.rgb, stroke);
    if (!m.label) continue;
    const ty = m.box.y > font + 4 ? m.box.y - font - 4 : m.box.y + m.box.h + 2;
    labels.push(label(m.label, hex(m.rgb), font, m.box.x, ty, w, h));
  }
  return sharp(data, { raw: info }).composite(labels).jpeg({ quality: opts.quality ?? 88 }).toBuffer();
}

/**
 * A frame for the live view: `blur` regions blurred (as in evidence) at full resolution, then
 * scaled down to `width` at most and encoded. Nothing else is drawn.
 */
export async function liveJpeg(image: ImageInput, blur: readonly Roi[], opts: { width: number; quality: number }): Promise<Buffer> {
  if (blur.length === 0) return openImage(image, 'none').resize({ width: opts.width, withoutEnlargement: true }).jpeg({ quality: opts.quality }).toBuffer();
  const { data, info } = await openImage(image, 'none').rotate().removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  for (const b of blur) await blurRegion(data, info.width, info.height, info.channels, b);
  return sharp(data, { raw: info }).resize({ width: opts.width, withoutEnlargement: true }).jpeg({ quality: opts.quality }).toBuffer();
}

/** Stroke a box outline into interleaved RGB pixels, clipped to the image. */
function drawRect(px: Buffer, w: number, h: number, b: Roi, rgb: Rgb, stroke: number): void {
  const x1 = Math.max(0, Math.round(b.x));
  const y1 = Math.max(0, Math.round(b.y));
  const x2 = Math.min(w - 1, Math.round(b.x + b.w));
  const y2 = Math.min(h - 1, Math.round(b.y + b.h));
  if (x2 <= x1 || y2 <= y1) return;
  const paint = (x: number, y: number): void => {
    const i = (y * w + x) * 3;
    px[i] = rgb[0];
    px[i + 1] = rgb[1];
    px[i + 2] = rgb[2];
  };
  for (let t = 0; t < stroke; t++) {
    for (let x = x1; x <= x2; x++) {
      if (y1 + t <= y2) paint(x, y1 + t);
      if (y2 - t >= y1) paint(x, y2 - t);
    }
    for (let y = y1; y <= y2; y++) {
      if (x1 + t <= x2) paint(x1 + t, y);
      if (x2 - t >= x1) paint(x2 - t, y);
    }
  }
}

/** A small text label placed at (x, y), kept inside the image. */
function label(text: string, colour: string, font: number, x: number, y: number, w: number, h: number): OverlayOptions {
  const lw = Math.min(w, Math.ceil(text.length * font * 0.62) + 6);
  const lh = Math.min(h, font + 6);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${lw}" height="${lh}"><text x="2" y="${font}" font-family="DejaVu Sans, sans-serif" font-weight="bold" font-size="${font}" fill="${colour}" stroke="#000" stroke-width="0.7">${escapeXml(text)}</text></svg>`;
  return { input: Buffer.from(svg), left: Math.max(0, Math.min(w - lw, Math.round(x))), top: Math.max(0, Math.min(h - lh, Math.round(y))) };
}

function hex(rgb: Rgb): string {
  return `#${rgb.map((c) => c.toString(16).padStart(2, '0')).join('')}`;
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Blur one region of interleaved pixels in place, strongly enough that a face is not recognisable. */
async function blurRegion(px: Buffer, w: number, h: number, channels: number, b: Roi): Promise<void> {
  const x = Math.max(0, Math.floor(b.x));
  const y = Math.max(0, Math.floor(b.y));
  const bw = Math.min(w, Math.ceil(b.x + b.w)) - x;
  const bh = Math.min(h, Math.ceil(b.y + b.h)) - y;
  if (bw < 2 || bh < 2) return;
  const sigma = Math.max(3, Math.min(bw, bh) / 4);
  const region = await sharp(px, { raw: { width: w, height: h, channels: channels as 3 } }).extract({ left: x, top: y, width: bw, height: bh }).blur(sigma).raw().toBuffer();
  for (let r = 0; r < bh; r++) region.copy(px, ((y + r) * w + x) * channels, r * bw * channels, (r + 1) * bw * channels);
}
