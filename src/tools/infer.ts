import { readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import type { ModelOutput } from '../domain/detection.js';
import { reasonOf } from '../domain/errors.js';
import { annotate, type Mark, type Rgb } from '../vision/annotate.js';
import { manifestPathFor, Model } from '../vision/model.js';

export interface InferOptions {
  readonly model: string;
  readonly manifest?: string;
  readonly images: readonly string[];
  /** Where annotated copies go; default beside each image. */
  readonly outDir?: string;
}

export type ImageReport =
  | { readonly image: string; readonly width: number; readonly height: number; readonly inferMs: number; readonly output: ModelOutput; readonly annotated: string }
  | { readonly image: string; readonly error: string };

export interface InferReport {
  readonly model: string;
  readonly manifest: string;
  readonly version: string;
  /** Things the engineer should know about how the manifest was used. */
  readonly notes: readonly string[];
  readonly images: readonly ImageReport[];
}

/** A fixed palette so each class keeps its colour across images. */
const PALETTE: readonly Rgb[] = [
  [230, 25, 75], [60, 180, 75], [255, 225, 25], [0, 130, 200], [245, 130, 48], [145, 30, 180], [70, 240, 240], [240, 50, 230], [210, 245, 60], [250, 190, 212],
];

/**
 * `lineside infer`: runs a model on images exactly as a station would (same preprocessing,
 * worker, decoder, load checks) and reports what it decodes, with an annotated copy of each image.
 * The tool a vision engineer uses to check a new export before deploying it. An image that cannot
 * be read is reported, and the others still run.
 */
export async function inferImages(opts: InferOptions): Promise<InferReport> {
  const notes: string[] = [];
  const model = await Model.load('infer', { path: opts.model, manifest: opts.manifest, workers: 1, threads: 1 }, { allowUnpinned: true, notes });
  try {
    const images: ImageReport[] = [];
    for (const image of opts.images) {
      try {
        const bytes = await readFile(image);
        const t = performance.now();
        const r = await model.infer(bytes);
        const inferMs = performance.now() - t;
        const marks: Mark[] =
          r.output.kind === 'detections'
            ? r.output.detections.map((d) => ({ box: d.box, rgb: PALETTE[d.classId % PALETTE.length]!, label: `${d.label} ${d.score.toFixed(2)}` }))
            : [];
        const title = r.output.kind === 'scores' ? r.output.scores.map((s) => `${s.label} ${s.score.toFixed(2)}`).join('  ') : `${marks.length} detections`;
        const annotated = join(opts.outDir ?? dirname(image), `${basename(image, extname(image))}.lineside.jpg`);
        await writeFile(annotated, await annotate(bytes, marks, { title, quality: 90 }));
        images.push({ image, width: r.transform.srcWidth, height: r.transform.srcHeight, inferMs: round(inferMs), output: rounded(r.output), annotated });
      } catch (e) {
        images.push({ image, error: reasonOf(e) });
      }
    }
    return { model: opts.model, manifest: opts.manifest ?? manifestPathFor(opts.model) ?? `metadata of ${opts.model}`, version: model.versionTag, notes, images };
  } finally {
    await model.close();
  }
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

/** Numbers to 3 decimals, for output a person reads. */
function rounded<T>(v: T): T {
  return JSON.parse(JSON.stringify(v, (_k, x: unknown) => (typeof x === 'number' ? round(x) : x))) as T;
}
