import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import sharp, { type OverlayOptions } from 'sharp';
import type { Finding } from '../domain/detection.js';
import type { Roi } from '../domain/geometry.js';
import { openImage, type ImageInput } from '../vision/image.js';

const COLOURS: Record<Finding['effect'], string> = { reject: '#e0182d', inconclusive: '#f5a000', info: '#19a463' };
const RGB: Record<Finding['effect'], readonly [number, number, number]> = { reject: [224, 24, 45], inconclusive: [245, 160, 0], info: [25, 164, 99] };
const ROI_RGB = [47, 125, 246] as const;

export interface EvidenceFile {
  /** Path relative to the data directory. */
  readonly path: string;
  readonly sha256: string;
  readonly bytes: number;
}

/**
 * Writes the evidence JPEG for an inspection: the original frame with every finding's box,
 * label and score drawn, and the ROI outlined. The file's hash goes into the record.
 */
export class EvidenceWriter {
  readonly #dataDir: string;

  constructor(dataDir: string) {
    this.#dataDir = dataDir;
  }

  async write(
    image: ImageInput,
    meta: { stationId: string; inspectionId: number; at: number; verdict: string },
    findings: readonly Finding[],
    roi?: Roi,
  ): Promise<EvidenceFile> {
    const { data, info } = await openImage(image, 'none').rotate().removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const { width: w, height: h } = info;
    // Boxes go straight into the pixels; only the small label texts are rendered by librsvg,
    // which costs a fraction of rasterising a full-frame overlay.
    const stroke = Math.max(2, Math.round(Math.min(w, h) / 200));
    const font = Math.max(12, Math.round(Math.min(w, h) / 30));
    if (roi) drawRect(data, w, h, roi, ROI_RGB, stroke);
    const labels: OverlayOptions[] = [label(meta.verdict.toUpperCase(), '#ffffff', font, 4, 4, w, h)];
    for (const f of findings) {
      if (!f.box) continue;
      drawRect(data, w, h, f.box, RGB[f.effect], stroke);
      // Good objects are outlined only; labels are for what decided the verdict.
      if (f.effect === 'info') continue;
      const ty = f.box.y > font + 4 ? f.box.y - font - 4 : f.box.y + f.box.h + 2;
      labels.push(label(`${f.label} ${f.score.toFixed(2)}`, COLOURS[f.effect], font, f.box.x, ty, w, h));
    }
    const jpeg = await sharp(data, { raw: info }).composite(labels).jpeg({ quality: 88 }).toBuffer();
    const day = new Date(meta.at).toISOString().slice(0, 10);
    const dir = join(this.#dataDir, 'evidence', day, meta.stationId);
    await mkdir(dir, { recursive: true });
    const file = join(dir, `${meta.inspectionId}.jpg`);
    // The hash is of the bytes we write; verify-audit later re-hashes the file.
    await writeFile(file, jpeg, { flag: 'wx' });
    return { path: relative(this.#dataDir, file), sha256: createHash('sha256').update(jpeg).digest('hex'), bytes: jpeg.length };
  }

  absolute(path: string): string {
    return join(this.#dataDir, path);
  }
}

/** Stroke a box outline into interleaved RGB pixels, clipped to the image. */
function drawRect(px: Buffer, w: number, h: number, b: Roi, rgb: readonly [number, number, number], stroke: number): void {
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

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
