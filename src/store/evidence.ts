import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Finding } from '../domain/detection.js';
import type { Roi } from '../domain/geometry.js';
import { annotate, type Rgb } from '../vision/annotate.js';
import type { ImageInput } from '../vision/image.js';

const RGB: Record<Finding['effect'], Rgb> = { reject: [224, 24, 45], inconclusive: [245, 160, 0], info: [25, 164, 99] };

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
    blur: readonly Roi[] = [],
  ): Promise<EvidenceFile> {
    // Every finding is outlined; labels are for what decided the verdict, not for good objects.
    const marks = findings.flatMap((f) => (f.box ? [{ box: f.box, rgb: RGB[f.effect], label: f.effect === 'info' ? undefined : `${f.label} ${f.score.toFixed(2)}` }] : []));
    const jpeg = await annotate(image, marks, { title: meta.verdict.toUpperCase(), roi, blur });
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
