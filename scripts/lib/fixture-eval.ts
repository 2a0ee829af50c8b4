/**
 * Runs a demo model over a committed fixture set with onnxruntime-node and judges every image
 * against labels.json. Shared by scripts/make-models.ts (the printed table) and the model test.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { Manifest } from '../../src/vision/manifest.js';
import { prepareInput } from '../../src/vision/preprocess.js';
import { argmax, checkDetections, decodeYolov8 } from './evaluate.js';
import type { FixtureSet } from './labels.js';

export interface ImageVerdict {
  readonly file: string;
  /** Truth label from labels.json (good/defective, compliant/violation, clean/residue). */
  readonly truth: string;
  /** The model raised at least one watched finding (or, for a classifier, predicted the reject class). */
  readonly flagged: boolean;
  /** Every watched truth object found and nothing spurious (classifier: the right class). */
  readonly correct: boolean;
  readonly note: string;
}

export interface SetReport {
  readonly set: string;
  readonly images: readonly ImageVerdict[];
  /** Recall per class over every labelled object, as "found/total". */
  readonly recall: Readonly<Record<string, string>>;
}

export async function loadFixtureSet(dir: string): Promise<FixtureSet> {
  return JSON.parse(await readFile(join(dir, 'labels.json'), 'utf8')) as FixtureSet;
}

async function run(session: ort.InferenceSession, manifest: Manifest, image: Buffer) {
  const prepared = await prepareInput(image, manifest.input);
  const input = new ort.Tensor('float32', prepared.tensor, [...prepared.dims]);
  const result = await session.run({ [manifest.input.name ?? session.inputNames[0]!]: input });
  const out = result[manifest.outputs?.[0] ?? session.outputNames[0]!]!;
  return { data: out.data as Float32Array, dims: out.dims, transform: prepared.transform };
}

/** Detector: an image is flagged when any `watched` class (defects, violations) is detected. */
export async function evaluateDetectorSet(session: ort.InferenceSession, manifest: Manifest, dir: string, watched: readonly string[]): Promise<SetReport> {
  const set = await loadFixtureSet(dir);
  const found = new Map<string, [number, number]>(manifest.classes.map((c) => [c, [0, 0]]));
  const images: ImageVerdict[] = [];
  for (const truth of set.images) {
    const out = await run(session, manifest, await readFile(join(dir, truth.file)));
    const dets = decodeYolov8(out.data, out.dims, manifest.classes, out.transform);
    for (const c of manifest.classes) {
      const check = checkDetections(dets, truth, [c]);
      const tally = found.get(c)!;
      tally[0] += check.found;
      tally[1] += check.found + check.missed.length;
    }
    const check = checkDetections(dets, truth, watched);
    const note = [...check.missed.map((o) => `missed ${o.class}`), ...check.spurious.map((d) => `spurious ${d.label} ${d.score.toFixed(2)}`)].join(', ');
    images.push({ file: truth.file, truth: truth.label, flagged: dets.some((d) => watched.includes(d.label)), correct: check.correct, note });
  }
  return { set: set.set, images, recall: Object.fromEntries([...found].map(([c, [f, t]]) => [c, `${f}/${t}`])) };
}

/** Classifier: the top class must equal the image's label. */
export async function evaluateClassifierSet(session: ort.InferenceSession, manifest: Manifest, dir: string, rejectClass: string): Promise<SetReport> {
  const set = await loadFixtureSet(dir);
  const images: ImageVerdict[] = [];
  for (const truth of set.images) {
    const out = await run(session, manifest, await readFile(join(dir, truth.file)));
    const top = manifest.classes[argmax(out.data)]!;
    const note = manifest.classes.map((c, i) => `${c} ${out.data[i]!.toFixed(3)}`).join(' ');
    images.push({ file: truth.file, truth: truth.label, flagged: top === rejectClass, correct: top === truth.label, note });
  }
  return { set: set.set, images, recall: {} };
}

