import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import type { ClassScore, Detection, ModelOutput } from '../domain/detection.js';
import { ErrorCode, isLinesideError, LinesideError, reasonOf } from '../domain/errors.js';
import type { Canary, CanaryClass, CanaryCount, Manifest } from './manifest.js';

/**
 * The canary check at load (manifest `canary`): an image with a known answer goes through the
 * model's whole path (preprocessing, worker, decoder, tiling), and a model that gets it wrong is
 * refused — a wrong export, a swapped class order or preprocessing that disagrees with training
 * shows here, before any part is judged.
 */

/** Score threshold of the second, diagnostic run that says how close a short count came. */
export const DIAGNOSTIC_SCORE = 0.01;

export interface CanaryRun {
  /** The model file, as configured (named in every message). */
  readonly modelPath: string;
  /** The manifest file the canary path is relative to; without one, the model file's folder. */
  readonly manifestPath: string | undefined;
  readonly manifest: Manifest;
  /** The image through the model's whole path, decoded with `manifest` (the model's own or a diagnostic copy). */
  readonly infer: (image: Buffer, manifest: Manifest) => Promise<ModelOutput>;
}

/** The canary image's path: relative to the manifest file's folder (else the model file's), or absolute. */
export function canaryImagePath(canary: Canary, manifestPath: string | undefined, modelPath: string): string {
  return resolve(dirname(manifestPath ?? modelPath), canary.image);
}

/** A path for messages: relative to the working directory when inside it, else absolute. */
export function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

/** Run the manifest's canary, if any. Throws LINESIDE_ERR_MODEL_LOAD naming the model and the image. */
export async function runCanary(run: CanaryRun): Promise<void> {
  const canary = run.manifest.canary;
  if (!canary) return;
  const path = canaryImagePath(canary, run.manifestPath, run.modelPath);
  const shown = displayPath(path);
  const where = run.manifestPath ? ` (canary.image of ${run.manifestPath})` : '';
  let image: Buffer;
  try {
    image = await readFile(path);
  } catch (cause) {
    const missing = (cause as NodeJS.ErrnoException).code === 'ENOENT';
    throw new LinesideError(ErrorCode.modelLoad, `model ${run.modelPath}: canary image ${shown} ${missing ? 'does not exist' : 'cannot be read'}${where}`, { cause });
  }
  const infer = async (manifest: Manifest): Promise<ModelOutput> => {
    try {
      return await run.infer(image, manifest);
    } catch (cause) {
      const why = isLinesideError(cause, ErrorCode.imageDecode) ? `canary image ${shown} cannot be decoded${where}` : `canary ${shown} could not be run: ${reasonOf(cause)}`;
      throw new LinesideError(ErrorCode.modelLoad, `model ${run.modelPath}: ${why}`, { cause });
    }
  };
  const output = await infer(run.manifest);
  let verdict = checkCanary(canary.expect, output, run.manifest);
  if (verdict.failures.length === 0) return;
  if (verdict.short) {
    // How close did it come? The same image again, reporting everything down to DIAGNOSTIC_SCORE.
    const low = { ...run.manifest, thresholds: { ...run.manifest.thresholds, score: Math.min(DIAGNOSTIC_SCORE, run.manifest.thresholds.score) } };
    verdict = checkCanary(canary.expect, output, run.manifest, await infer(low));
  }
  throw new LinesideError(ErrorCode.modelLoad, `model ${run.modelPath} failed its canary ${shown}: ${verdict.failures.join('; ')}`, {
    details: { canary: path, failures: verdict.failures },
  });
}

export interface CanaryVerdict {
  /** "expected …, found …", one per unmet expectation; empty when the canary passes. */
  readonly failures: readonly string[];
  /** Some count fell short of its minimum (a lower-threshold run can tell how close it came). */
  readonly short: boolean;
}

/**
 * Judge a canary's output against its expectation. `diagnostic` (the same image decoded at a low
 * score threshold) only adds the best score that did not count to a short count's message.
 */
export function checkCanary(expect: Canary['expect'], output: ModelOutput, manifest: Manifest, diagnostic?: ModelOutput): CanaryVerdict {
  if (!Array.isArray(expect)) return { failures: checkTopClass(expect, output), short: false };
  if (output.kind !== 'detections') return { failures: ['expected detections, the model gave class scores'], short: false };
  const failures: string[] = [];
  let short = false;
  for (const e of expect) {
    const floor = e.minScore ?? manifest.thresholds.score;
    const hits = output.detections.filter((d) => d.label === e.label && d.score >= floor);
    const n = hits.length;
    const expected = `expected ${countText(e)} ${e.label} ≥ ${f2(floor)}`;
    if (n < e.min) {
      short = true;
      const pool: readonly Detection[] = diagnostic?.kind === 'detections' ? diagnostic.detections : output.detections;
      const below = pool.filter((d) => d.label === e.label && d.score < floor).map((d) => d.score);
      const best = below.length > 0 ? ` (${n === 0 ? 'best' : 'next best'} ${f2(Math.max(...below))})` : diagnostic ? ` (none ≥ ${f2(DIAGNOSTIC_SCORE)})` : '';
      failures.push(`${expected}, found ${n}${best}`);
    } else if (e.max !== undefined && n > e.max) {
      const scores = hits.map((d) => d.score).sort((a, b) => b - a);
      failures.push(`${expected}, found ${n} (${scores.slice(0, 5).map(f2).join(', ')}${scores.length > 5 ? ', …' : ''})`);
    }
  }
  return { failures, short };
}

function checkTopClass(e: CanaryClass, output: ModelOutput): string[] {
  if (output.kind !== 'scores') return ['expected class scores, the model gave detections'];
  const expected = `expected top class ${e.label}${e.minScore === undefined ? '' : ` ≥ ${f2(e.minScore)}`}`;
  const top = output.scores.reduce<ClassScore | undefined>((best, s) => (best === undefined || s.score > best.score ? s : best), undefined);
  const own = output.scores.find((s) => s.label === e.label);
  if (!top || !own) return [`${expected}, found no score for it`];
  if (top.label === e.label && (e.minScore === undefined || own.score >= e.minScore)) return [];
  return [`${expected}, found ${e.label} ${f2(own.score)}${top.label === e.label ? ' (top)' : `, top ${top.label} ${f2(top.score)}`}`];
}

function countText(e: CanaryCount): string {
  if (e.max === undefined) return `≥${e.min}`;
  if (e.min === 0) return `≤${e.max}`;
  return e.min === e.max ? `${e.min}` : `${e.min}–${e.max}`;
}

function f2(v: number): string {
  return v.toFixed(2);
}
