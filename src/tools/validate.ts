/**
 * `lineside validate`: scores a held-out dataset (good/ and one folder per defect type) with a
 * model through the normal runtime and reports what a QA reviewer asks before approving it:
 * image-level AUROC, recall per defect type and false reject rate at the model's threshold, and the
 * hashes of every image scored.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ErrorCode, LinesideError } from '../domain/errors.js';
import { Model } from '../vision/model.js';
import { mapLimit } from '../vision/tiling.js';
import { listImages } from './teach.js';
import { auroc, rocCurve } from './validation-metrics.js';
import { writeValidationChart } from './validation-chart.js';

export interface ValidateOptions {
  readonly model: string;
  readonly dataset: string;
  readonly out: string;
}

export interface ScoredImage {
  readonly file: string;
  readonly kind: string;
  readonly sha256: string;
  readonly score: number;
}

export interface ValidationReport {
  readonly model: { readonly path: string; readonly version: string; readonly sha256: string };
  readonly dataset: { readonly path: string; readonly digest: string; readonly counts: Readonly<Record<string, number>> };
  readonly threshold: { readonly value: number; readonly why: string };
  readonly auroc: number;
  readonly falseRejectRate: number;
  readonly recall: Readonly<Record<string, number>>;
  readonly recallAll: number;
  /** For information: the lowest threshold that keeps this set's false reject rate ≤ 1 %, and recall there. */
  readonly atOnePercentFrr: { readonly threshold: number; readonly falseRejectRate: number; readonly recall: Readonly<Record<string, number>> };
  readonly images: readonly ScoredImage[];
  readonly chart: string;
  readonly summary: string;
}

const THRESHOLD = 0.5;

export async function validate(opts: ValidateOptions): Promise<ValidationReport> {
  const folders = (await readdir(opts.dataset, { withFileTypes: true }).catch((cause: unknown) => {
    throw new LinesideError(ErrorCode.badRequest, `dataset folder ${opts.dataset} does not exist or cannot be read`, { cause });
  }))
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  if (!folders.includes('good')) throw new LinesideError(ErrorCode.badRequest, `dataset folder ${opts.dataset} has no good/ folder (found: ${folders.join(', ') || 'nothing'})`);
  const defects = folders.filter((f) => f !== 'good');
  if (defects.length === 0) throw new LinesideError(ErrorCode.badRequest, `dataset folder ${opts.dataset} has no defect folders beside good/`);
  const entries: Array<{ file: string; kind: string }> = [];
  for (const kind of folders) for (const file of await listImages(join(opts.dataset, kind), `${kind} folder`)) entries.push({ file, kind });

  const model = await Model.load(basename(opts.model), { path: opts.model, workers: 2, threads: 1 });
  let images: ScoredImage[];
  try {
    images = await mapLimit(entries, 4, async (e) => {
      const bytes = await readFile(e.file);
      const { output } = await model.infer(bytes);
      const score = output.kind === 'scores' ? (output.scores[1]?.score ?? NaN) : NaN;
      return { file: `${e.kind}/${basename(e.file)}`, kind: e.kind, sha256: createHash('sha256').update(bytes).digest('hex'), score };
    });
  } finally {
    await model.close();
  }
  const good = images.filter((i) => i.kind === 'good').map((i) => i.score);
  const bad = images.filter((i) => i.kind !== 'good').map((i) => i.score);
  const recallAt = (t: number): Record<string, number> =>
    Object.fromEntries(defects.map((d) => {
      const s = images.filter((i) => i.kind === d);
      return [d, s.filter((i) => i.score >= t).length / s.length];
    }));
  const frrAt = (t: number): number => good.filter((s) => s >= t).length / good.length;
  // Lowest threshold (just above a good score) with at most 1 % of good parts rejected.
  const sortedGood = [...good].sort((a, b) => b - a);
  const allowed = Math.floor(0.01 * good.length);
  const t1 = Math.min(1, (sortedGood[allowed] ?? 0) + 1e-6);
  const counts = Object.fromEntries(folders.map((f) => [f, images.filter((i) => i.kind === f).length]));
  const digest = createHash('sha256').update(images.map((i) => `${i.sha256}  ${i.file}\n`).join('')).digest('hex');
  const rocValue = auroc(good, bad);
  const recall = recallAt(THRESHOLD);
  const frr = frrAt(THRESHOLD);
  const chart = opts.out.replace(/\.json$/i, '') + '.png';
  await writeValidationChart(chart, { roc: rocCurve(good, bad), auroc: rocValue, threshold: THRESHOLD, scores: images, kinds: folders, title: `${model.manifest.name} on ${basename(opts.dataset)}` });
  const summary = [
    `${model.manifest.name}: AUROC ${rocValue.toFixed(4)} on ${good.length} good + ${bad.length} defective images`,
    `at threshold ${THRESHOLD}: false reject rate ${(100 * frr).toFixed(2)} %, recall ${defects.map((d) => `${d} ${(100 * recall[d]!).toFixed(1)} %`).join(', ')}`,
    `report ${opts.out}, chart ${chart}`,
  ].join('\n');
  const report: ValidationReport = {
    model: { path: opts.model, version: model.versionTag, sha256: model.manifest.sha256 },
    dataset: { path: opts.dataset, digest, counts },
    threshold: {
      value: THRESHOLD,
      why: `the model's own operating threshold: its outputs are normalised so 0.5 is the threshold set when it was taught (${String((model.manifest.provenance?.threshold as { rule?: string } | undefined)?.rule ?? 'see the manifest')}); it is not tuned on this validation set`,
    },
    auroc: rocValue,
    falseRejectRate: frr,
    recall,
    recallAll: bad.filter((s) => s >= THRESHOLD).length / bad.length,
    atOnePercentFrr: { threshold: t1, falseRejectRate: frrAt(t1), recall: recallAt(t1) },
    images,
    chart,
    summary,
  };
  await writeFile(opts.out, `${JSON.stringify(report, null, 2)}\n`);
  return report;
}
