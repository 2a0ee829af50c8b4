import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import sharp from 'sharp';
import type { Finding } from '../domain/detection.js';
import type { Roi } from '../domain/geometry.js';

const COLOURS: Record<Finding['effect'], string> = { reject: '#e0182d', inconclusive: '#f5a000', info: '#19a463' };

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
    image: Buffer,
    meta: { stationId: string; inspectionId: number; at: number; verdict: string },
    findings: readonly Finding[],
    roi?: Roi,
  ): Promise<EvidenceFile> {
    const img = sharp(image, { failOn: 'none' }).rotate();
    const { width = 0, height = 0 } = await img.metadata();
    const svg = overlay(width, height, findings, roi, meta.verdict);
    const jpeg = await img
      .composite([{ input: Buffer.from(svg), top: 0, left: 0 }])
      .jpeg({ quality: 88 })
      .toBuffer();
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

function overlay(w: number, h: number, findings: readonly Finding[], roi: Roi | undefined, verdict: string): string {
  const stroke = Math.max(2, Math.round(Math.min(w, h) / 200));
  const font = Math.max(12, Math.round(Math.min(w, h) / 30));
  const parts: string[] = [];
  if (roi) parts.push(`<rect x="${roi.x}" y="${roi.y}" width="${roi.w}" height="${roi.h}" fill="none" stroke="#2f7df6" stroke-width="${stroke}" stroke-dasharray="8 6"/>`);
  for (const f of findings) {
    if (!f.box) continue;
    const c = COLOURS[f.effect];
    const { x, y, w: bw, h: bh } = f.box;
    parts.push(`<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${bw.toFixed(1)}" height="${bh.toFixed(1)}" fill="none" stroke="${c}" stroke-width="${stroke}"/>`);
    const ty = y > font + 4 ? y - 4 : y + bh + font;
    parts.push(`<text x="${x.toFixed(1)}" y="${ty.toFixed(1)}" font-family="DejaVu Sans, sans-serif" font-size="${font}" fill="${c}" stroke="#000" stroke-width="0.6">${escapeXml(f.label)} ${f.score.toFixed(2)}</text>`);
  }
  parts.push(`<text x="8" y="${font + 6}" font-family="DejaVu Sans, sans-serif" font-weight="bold" font-size="${font}" fill="#fff" stroke="#000" stroke-width="0.8">${escapeXml(verdict.toUpperCase())}</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}">${parts.join('')}</svg>`;
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
