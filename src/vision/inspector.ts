import type { Detection, ModelOutput } from '../domain/detection.js';
import type { Roi } from '../domain/geometry.js';
import { HealthState, type ComponentHealth } from '../domain/health.js';
import type { ImageInput } from './image.js';
import type { InferResult, Model } from './model.js';

/** What a station runs on a frame: one model, or a detector whose regions feed a second model. */
export interface Inspector {
  /** Down when any model it uses is down. */
  readonly health: { readonly value: ComponentHealth };
  /** Every model used, key → `name@version+sha`, recorded with each inspection. */
  readonly versions: Readonly<Record<string, string>>;
  infer(image: ImageInput, roi?: Roi): Promise<InferResult>;
}

/** Down when either is; the second's trouble is named as `what`. */
function bothHealthy(main: { readonly value: ComponentHealth }, other: { readonly value: ComponentHealth }, what: string): { readonly value: ComponentHealth } {
  return {
    get value(): ComponentHealth {
      const a = main.value;
      const b = other.value;
      if (a.state !== HealthState.ok) return a;
      if (b.state !== HealthState.ok) return { ...b, detail: `${what}: ${b.detail ?? b.state}` };
      return a;
    },
  };
}

export function singleStage(model: Model): Inspector {
  return { health: model.health, versions: { [model.key]: model.versionTag }, infer: (image, roi) => model.infer(image, roi) };
}

export interface SecondStageOptions {
  /** Detections of these labels are cropped and passed on (all labels when empty). */
  readonly classes: readonly string[];
  /** Only detections scoring at least this are passed on. */
  readonly minScore: number;
  /** Crop margin around each box, as a fraction of its width and height. */
  readonly pad: number;
  /** At most this many regions per frame go to the second model (highest scores first). */
  readonly maxRegions: number;
}

/**
 * Two models in a row, by configuration alone: the first finds regions (tablets, faces, persons),
 * each region is cropped from the original frame and judged by the second (a classifier or an
 * anomaly model). The second model's verdict comes back as a detection on the same box labelled
 * `<region>/<verdict>` (e.g. `face/no_mask`), so station rules name it like any other class; the
 * region itself stays in the output.
 */
export function twoStage(first: Model, second: Model, opts: SecondStageOptions): Inspector {
  return {
    health: bothHealthy(first.health, second.health, `second stage ${second.key}`),
    versions: { [first.key]: first.versionTag, [second.key]: second.versionTag },
    async infer(image, roi) {
      const r = await first.infer(image, roi);
      if (r.output.kind !== 'detections') return r;
      const regions = r.output.detections
        .filter((d) => d.score >= opts.minScore && (opts.classes.length === 0 || opts.classes.includes(d.label)))
        .sort((a, b) => b.score - a.score)
        .slice(0, opts.maxRegions);
      const width = r.transform.srcWidth;
      const height = r.transform.srcHeight;
      // Regions run concurrently: a second model with several workers judges them in parallel.
      const judged = await Promise.all(regions.map((d) => second.infer(image, padded(d.box, opts.pad, width, height))));
      const derived: Detection[] = [];
      let inferMs = r.inferMs;
      let preprocessMs = r.preprocessMs;
      let decodeMs = r.decodeMs;
      judged.forEach((j, i) => {
        inferMs += j.inferMs;
        preprocessMs += j.preprocessMs;
        decodeMs += j.decodeMs;
        const top = topClass(j.output);
        const region = regions[i]!;
        if (top) derived.push({ classId: top.classId, label: `${region.label}/${top.label}`, score: top.score, box: region.box });
      });
      const output: ModelOutput = { ...r.output, detections: [...r.output.detections, ...derived] };
      return { ...r, output, inferMs, preprocessMs, decodeMs };
    },
  };
}

export interface AlongsideOptions {
  /** Label the alongside model's regions get as detections. */
  readonly label: string;
  /** Labels of the main model's detections that explain a region (it is then not reported again). */
  readonly explainedBy: readonly string[];
}

/**
 * The station's inspector and a whole-frame model beside it, on the same frame at the same time
 * (each has its own workers). The alongside model's anomaly regions — or, for a classifier or a
 * model without a map, its top non-normal class — join the main output as detections labelled
 * `opts.label`, except regions a detection of an `explainedBy` label already accounts for. Its
 * health and version are part of the station's.
 */
export function withAlongside(main: Inspector, other: Model, opts: AlongsideOptions): Inspector {
  return {
    health: bothHealthy(main.health, other.health, `alongside model ${other.key}`),
    versions: { ...main.versions, [other.key]: other.versionTag },
    async infer(image, roi) {
      const [r, o] = await Promise.all([main.infer(image, roi), other.infer(image, roi)]);
      const base = r.output.kind === 'detections' ? r.output.detections : [];
      const explains = base.filter((d) => opts.explainedBy.includes(d.label));
      const found = alongsideDetections(o.output, opts.label, o.transform.srcWidth, o.transform.srcHeight).filter((a) => !explains.some((d) => overlaps(a.box, d.box)));
      const output: ModelOutput =
        r.output.kind === 'detections' ? { ...r.output, detections: [...base, ...found] } : { ...r.output, regions: [...(r.output.regions ?? []), ...found] };
      // The two ran side by side: the frame waited for the slower of them.
      return { ...r, output, inferMs: Math.max(r.inferMs, o.inferMs), preprocessMs: Math.max(r.preprocessMs, o.preprocessMs), decodeMs: r.decodeMs + o.decodeMs };
    },
  };
}

function alongsideDetections(out: ModelOutput, label: string, width: number, height: number): Detection[] {
  if (out.kind === 'detections') return out.detections.map((d) => ({ ...d, label }));
  if (out.regions && out.regions.length > 0) return out.regions.map((d) => ({ ...d, label }));
  // No map: the frame as a whole, with the defect class's score (the last class of [normal, anomaly]).
  const defect = out.scores[out.scores.length - 1];
  return defect && out.scores.length > 1 ? [{ classId: defect.classId, label, score: defect.score, box: { x: 0, y: 0, w: width, h: height } }] : [];
}

/** Either box's centre inside the other. */
function overlaps(a: Roi, b: Roi): boolean {
  const inside = (p: Roi, q: Roi): boolean => {
    const cx = p.x + p.w / 2;
    const cy = p.y + p.h / 2;
    return cx >= q.x && cx <= q.x + q.w && cy >= q.y && cy <= q.y + q.h;
  };
  return inside(a, b) || inside(b, a);
}

/** The second model's answer for a region: its top class, or its best detection. */
function topClass(out: ModelOutput): { classId: number; label: string; score: number } | null {
  const items = out.kind === 'scores' ? out.scores : out.detections;
  let best: { classId: number; label: string; score: number } | null = null;
  for (const c of items) if (!best || c.score > best.score) best = c;
  return best;
}

/** A box grown by `pad` of its size on every side, in whole pixels, kept inside the image. */
export function padded(b: Roi, pad: number, width: number, height: number): Roi {
  const x = Math.max(0, Math.floor(b.x - b.w * pad));
  const y = Math.max(0, Math.floor(b.y - b.h * pad));
  const x2 = Math.min(width, Math.ceil(b.x + b.w * (1 + pad)));
  const y2 = Math.min(height, Math.ceil(b.y + b.h * (1 + pad)));
  return { x, y, w: Math.max(1, x2 - x), h: Math.max(1, y2 - y) };
}
