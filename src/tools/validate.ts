/**
 * `lineside validate`: scores a held-out dataset (good/ and one folder per defect type) with a
 * model through the normal runtime and reports what a QA reviewer asks before approving it:
 * image-level AUROC, recall per defect type and false reject rate at the model's threshold, and the
 * hashes of every image scored. Anomaly models are scored by their anomaly score; detectors by
 * their most confident defect-class detection and classifiers by their most probable defect class,
 * and for those the report also says whether each defect folder was rejected for the right reason.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ErrorCode, LinesideError } from '../domain/errors.js';
import { Model } from '../vision/model.js';
import { mapLimit } from '../vision/tiling.js';
import { listImages } from './teach.js';
import { SCORE_FLOOR, imageReason, reasonReports, supervisedSetup, type ReasonReport, type StationRef } from './validate-reasons.js';
import { auroc, rocCurve } from './validation-metrics.js';
import { writeValidationChart } from './validation-chart.js';

export interface ValidateOptions {
  readonly model: string;
  readonly dataset: string;
  readonly out: string;
  /** Detectors and classifiers: the station whose reject thresholds and codes apply. */
  readonly station?: StationRef;
  /** Detectors and classifiers: folder → classes that are the right reason (default: the class named like the folder). */
  readonly reasons?: Readonly<Record<string, readonly string[]>>;
}

export interface ScoredImage {
  readonly file: string;
  readonly kind: string;
  readonly sha256: string;
  readonly score: number;
  /** Detectors and classifiers: the defect class behind `score` (null when none scored). */
  readonly topClass?: string | null;
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
  /** The model's task; reports of anomaly models leave it out, as before detectors were validated. */
  readonly task?: string;
  /** What the image-level score is. */
  readonly score?: string;
  /** Detectors and classifiers: the classes that reject, their reject codes, and the station they come from. */
  readonly defectClasses?: readonly string[];
  readonly rejectCodes?: Readonly<Record<string, number>>;
  readonly station?: { readonly config: string; readonly id: string };
  /** Detectors and classifiers, per defect folder: was the most confident defect class the right one. */
  readonly reasons?: Readonly<Record<string, ReasonReport>>;
  /** Over all defect images: share whose most confident defect class is a right reason. */
  readonly reasonAccuracy?: number;
  /** Per folder (good included): how many images were rejected with each top class, and how many passed. */
  readonly confusion?: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** Issue 8's targets for defect models, each with whether this run met it; `unmet` names those it did not. */
  readonly targets?: Targets;
}

export interface Targets {
  readonly auroc: { readonly min: number; readonly met: boolean };
  readonly falseRejectRate: { readonly max: number; readonly met: boolean };
  readonly recall: { readonly min: number; readonly met: Readonly<Record<string, boolean>> };
  readonly unmet: readonly string[];
}

/** AUROC ≥ 0.98 and recall ≥ 0.95 per defect type at a false reject rate ≤ 1 %, at the reported threshold. */
export const TARGETS = { auroc: 0.98, falseRejectRate: 0.01, recall: 0.95 } as const;

export function targetsOf(r: Pick<ValidationReport, 'auroc' | 'falseRejectRate' | 'recall'>): Targets {
  const recall = Object.fromEntries(Object.entries(r.recall).map(([k, v]) => [k, v >= TARGETS.recall]));
  const unmet = [
    ...(r.auroc >= TARGETS.auroc ? [] : [`AUROC ${r.auroc.toFixed(4)} < ${TARGETS.auroc}`]),
    ...(r.falseRejectRate <= TARGETS.falseRejectRate ? [] : [`false reject rate ${r.falseRejectRate.toFixed(4)} > ${TARGETS.falseRejectRate}`]),
    ...Object.entries(r.recall).flatMap(([k, v]) => (v >= TARGETS.recall ? [] : [`recall ${k} ${v.toFixed(4)} < ${TARGETS.recall}`])),
  ];
  return { auroc: { min: TARGETS.auroc, met: r.auroc >= TARGETS.auroc }, falseRejectRate: { max: TARGETS.falseRejectRate, met: r.falseRejectRate <= TARGETS.falseRejectRate }, recall: { min: TARGETS.recall, met: recall }, unmet };
}

const ANOMALY_THRESHOLD = 0.5;

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
  const anomaly = model.manifest.task === 'anomaly';
  let setup: ReturnType<typeof supervisedSetup> | undefined;
  let images: ScoredImage[];
  try {
    setup = anomaly ? undefined : supervisedSetup(model.manifest, defects, opts.station, opts.reasons);
    const defectClasses = setup?.defectClasses ?? [];
    images = await mapLimit(entries, 4, async (e) => {
      const bytes = await readFile(e.file);
      const common = { file: `${e.kind}/${basename(e.file)}`, kind: e.kind, sha256: createHash('sha256').update(bytes).digest('hex') };
      if (anomaly) {
        const { output } = await model.infer(bytes);
        return { ...common, score: output.kind === 'scores' ? (output.scores[1]?.score ?? NaN) : NaN };
      }
      const { output } = await model.inferDownTo(bytes, SCORE_FLOOR);
      const r = imageReason(output, defectClasses);
      return { ...common, score: r.score, topClass: r.topClass };
    });
  } finally {
    await model.close();
  }
  const THRESHOLD = setup?.threshold.value ?? ANOMALY_THRESHOLD;
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
  const scoreLabel = anomaly ? undefined : model.manifest.task === 'classify' ? 'probability of the most probable defect class' : 'confidence of the most confident defect detection';
  await writeValidationChart(chart, {
    roc: rocCurve(good, bad),
    auroc: rocValue,
    threshold: THRESHOLD,
    scores: images,
    kinds: folders,
    title: `${model.manifest.name} on ${basename(opts.dataset)}`,
    ...(scoreLabel ? { scoreLabel } : {}),
  });
  const reasons = setup && reasonReports(setup, images, THRESHOLD);
  const rightAll = reasons && defects.reduce((n, d) => n + reasons[d]!.reasonAccuracy * counts[d]!, 0) / bad.length;
  const targets = targetsOf({ auroc: rocValue, falseRejectRate: frr, recall });
  const summary = [
    `${model.manifest.name}: AUROC ${rocValue.toFixed(4)} on ${good.length} good + ${bad.length} defective images`,
    `at threshold ${THRESHOLD}: false reject rate ${(100 * frr).toFixed(2)} %, recall ${defects.map((d) => `${d} ${(100 * recall[d]!).toFixed(1)} %`).join(', ')}`,
    `targets (AUROC ≥ ${TARGETS.auroc}, FRR ≤ ${TARGETS.falseRejectRate}, recall ≥ ${TARGETS.recall} per type): ${targets.unmet.length === 0 ? 'all met' : `NOT met: ${targets.unmet.join('; ')}`}`,
    ...(reasons ? [`reason accuracy (most confident defect class is the folder's): ${defects.map((d) => `${d} ${(100 * reasons[d]!.reasonAccuracy).toFixed(1)} %`).join(', ')}`] : []),
    `report ${opts.out}, chart ${chart}`,
  ].join('\n');
  const report: ValidationReport = {
    model: { path: opts.model, version: model.versionTag, sha256: model.manifest.sha256 },
    dataset: { path: opts.dataset, digest, counts },
    threshold: setup?.threshold ?? {
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
    ...(setup && reasons
      ? {
          task: model.manifest.task,
          score: `${scoreLabel} (classes ${setup.defectClasses.join(', ')}; ${model.manifest.task === 'classify' ? '' : `detections decoded down to ${SCORE_FLOOR}, `}0 when none)`,
          defectClasses: setup.defectClasses,
          rejectCodes: setup.codes,
          ...(setup.station ? { station: setup.station } : {}),
          reasons,
          reasonAccuracy: rightAll!,
          confusion: confusionOf(images, folders, THRESHOLD),
        }
      : {}),
    targets,
  };
  await writeFile(opts.out, `${JSON.stringify(report, null, 2)}\n`);
  return report;
}

/** Per folder: rejected images counted by their top class, the rest as "pass". */
function confusionOf(images: readonly ScoredImage[], folders: readonly string[], threshold: number): Record<string, Record<string, number>> {
  return Object.fromEntries(
    folders.map((f) => {
      const row: Record<string, number> = {};
      for (const i of images.filter((x) => x.kind === f)) {
        const k = i.score >= threshold ? (i.topClass ?? 'none') : 'pass';
        row[k] = (row[k] ?? 0) + 1;
      }
      return [f, Object.fromEntries(Object.entries(row).sort(([a], [b]) => a.localeCompare(b)))];
    }),
  );
}
