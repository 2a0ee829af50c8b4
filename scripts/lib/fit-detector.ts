/**
 * Fits a sliding-window detector: logistic regression per class (or per appearance component of a
 * class) over normalised window features, then rounds of hard-negative mining in which the
 * exported graph itself, run by onnxruntime-node, scans every training image and its confident
 * mistakes become new negatives.
 */
import * as ort from 'onnxruntime-node';
import { Matrix, fit, fold, predict, standardiser, type FitOptions, type LinearModel, type Standardiser } from './logistic.js';
import { Rng } from './rng.js';
import {
  anchorCentre,
  buildDetectorGraph,
  buildFeatureGraph,
  classScores,
  componentsOf,
  extractWindow,
  featureSide,
  gridSide,
  windowAt,
  windowCentre,
  type DetectorSpec,
  type GroupParams,
  type WindowGroup,
} from './window-detector.js';

/** A training image after the runtime's own preprocessing: CHW bytes plus object centres in model pixels. */
export interface TrainImage {
  readonly pixels: Uint8Array;
  readonly objects: readonly { readonly classId: number; readonly x: number; readonly y: number; readonly pose?: number; readonly variant?: number }[];
}

export interface DetectorFitOptions extends FitOptions {
  readonly randomPerImage: number;
  readonly offCentrePerObject: number;
  /** Windows dropped anywhere within a window's width of a random object: foil, rims, gaps. */
  readonly nearPerImage: number;
  readonly mineRounds: number;
  readonly mineEpochs: number;
  readonly mineThreshold: number;
  readonly minePerImage: number;
}

/** A window is a positive for a class within this distance (model px) of an object centre … */
const POSITIVE_WITHIN = 2.9;
/** … a negative beyond this one, and ignored in between (neighbouring anchors of a true object). */
const NEGATIVE_BEYOND = 5;

interface FeatureImage {
  readonly feat: Float32Array;
  readonly img: TrainImage;
}

class GroupSamples {
  readonly m: Matrix;
  /** Per class of the group: 1 positive, 0 negative, -1 ignored. */
  readonly labels: number[][];
  /** Per class: pose of the nearest object of that class (NaN when it has none). */
  readonly poses: number[][];
  /** Per class: drawn variant of the nearest object of that class (NaN when it has none or no variant). */
  readonly variants: number[][];

  constructor(
    readonly group: WindowGroup,
    private readonly side: number,
  ) {
    this.m = new Matrix(3 * group.kernel * group.kernel, 4096);
    this.labels = group.classIds.map(() => []);
    this.poses = group.classIds.map(() => []);
    this.variants = group.classIds.map(() => []);
  }

  /** Add the window at feature pixel (u, v), labelled by distance to each class's nearest object. */
  add(f: FeatureImage, u: number, v: number): void {
    const k = this.group.kernel;
    extractWindow(f.feat, this.side, u, v, k, this.m.data, this.m.addRow());
    const c = windowCentre(u, v, k);
    this.group.classIds.forEach((id, i) => {
      const o = nearestObject(f.img, id, c.x, c.y);
      const d = o ? Math.sqrt((o.x - c.x) ** 2 + (o.y - c.y) ** 2) : Infinity;
      this.labels[i]!.push(d <= POSITIVE_WITHIN ? 1 : d >= NEGATIVE_BEYOND ? 0 : -1);
      this.poses[i]!.push(o?.pose ?? Number.NaN);
      this.variants[i]!.push(o?.variant ?? Number.NaN);
    });
  }

  /**
   * One target row per Conv channel. A class with several components splits its positives by the
   * object's drawn variant where it has one (a speck or a fibre's orientation), else by its pose
   * into equal bins (for a broken tablet, the direction of the missing wedge); the other
   * components' positives are ignored by a component, not counted against it.
   */
  channelTargets(): Int8Array[] {
    const out: Int8Array[] = [];
    componentsOf(this.group).forEach((count, i) => {
      const labels = this.labels[i]!;
      const owner = labels.map((y, r) => (y !== 1 || count === 1 ? 0 : componentOf(this.variants[i]![r]!, this.poses[i]![r]!, count)));
      for (let j = 0; j < count; j++) out.push(Int8Array.from(labels, (y, r) => (y === 1 && owner[r] !== j ? -1 : y)));
    });
    return out;
  }
}

export interface DetectorFit {
  readonly params: GroupParams[];
  readonly metrics: Record<string, unknown>;
}

export async function fitDetector(spec: DetectorSpec, images: readonly TrainImage[], opts: DetectorFitOptions): Promise<DetectorFit> {
  const rng = new Rng(opts.seed);
  const feats = await featureMaps(spec, images);
  const sets = spec.groups.map((g) => new GroupSamples(g, featureSide(spec)));
  for (const f of feats) for (const s of sets) seedSamples(s, f, spec, rng, opts);

  const stds = sets.map((s) => standardiser(s.m));
  const fitAll = (o: FitOptions, start?: LinearModel[]): LinearModel[] =>
    sets.map((s, i) => {
      const t = s.channelTargets();
      return fit(s.m, stds[i]!, t, 'ovr', t.length, o, start?.[i]);
    });
  let models = fitAll(opts);
  const mined: number[] = [];
  for (let round = 0; round < opts.mineRounds; round++) {
    mined.push(await mineHardNegatives(spec, feats, sets, exportParams(models, stds), opts));
    // Warm start at a third of the rate: a fresh Adam at full rate undid part of the previous round.
    models = fitAll({ ...opts, epochs: opts.mineEpochs, learningRate: opts.learningRate / 3, seed: opts.seed + round + 1 }, models);
  }
  const params = exportParams(models, stds);
  const remaining = await mineHardNegatives(spec, feats, [], params, { ...opts, mineThreshold: 0.5 });
  return {
    params,
    metrics: {
      trainImages: images.length,
      trainWindows: sets.reduce((a, s) => a + s.m.rows, 0),
      hardNegativesPerRound: mined,
      trainFalseAnchorsAbove50: remaining,
      trainWindowAccuracy: Object.fromEntries(sets.flatMap((s, i) => windowAccuracy(spec, s, models[i]!, stds[i]!))),
    },
  };
}

/** Normalised feature maps from the graph's own front end, so fitting and inference agree exactly. */
async function featureMaps(spec: DetectorSpec, images: readonly TrainImage[]): Promise<FeatureImage[]> {
  const session = await ort.InferenceSession.create(Buffer.from(buildFeatureGraph(spec)), { intraOpNumThreads: 2 });
  try {
    const out: FeatureImage[] = [];
    for (const img of images) {
      const res = await session.run({ images: tensorOf(spec, img) });
      out.push({ feat: Float32Array.from(res.features!.data as Float32Array), img });
    }
    return out;
  } finally {
    await session.release();
  }
}

function tensorOf(spec: DetectorSpec, img: TrainImage): ort.Tensor {
  const data = new Float32Array(img.pixels.length);
  for (let i = 0; i < data.length; i++) data[i] = img.pixels[i]! / 255;
  return new ort.Tensor('float32', data, [1, 3, spec.size, spec.size]);
}

function exportParams(models: readonly LinearModel[], stds: readonly Standardiser[]): GroupParams[] {
  return models.map((m, i) => {
    const f = fold(m, stds[i]!);
    const d = f.weights[0]!.length;
    const weights = new Float32Array(d * f.weights.length);
    f.weights.forEach((w, k) => weights.set(w, k * d));
    return { weights, bias: f.bias };
  });
}

/** Initial windows: jittered positives, near misses around every object, and random anchors. */
function seedSamples(s: GroupSamples, f: FeatureImage, spec: DetectorSpec, rng: Rng, opts: DetectorFitOptions): void {
  const k = s.group.kernel;
  const at = (x: number, y: number): void => {
    const w = windowAt(x, y, k);
    s.add(f, w.u, w.v);
  };
  for (const o of f.img.objects) {
    const own = s.group.classIds.includes(o.classId);
    for (let j = own ? 2 : 1; j > 0; j--) at(o.x + rng.uniform(-2, 2), o.y + rng.uniform(-2, 2));
    // Near misses of the group's own objects teach it to peak at the centre; windows across
    // other groups' objects (a forehead is skin too) teach it what it must not fire on at all.
    for (let j = 0; j < opts.offCentrePerObject; j++) {
      const a = rng.uniform(0, 2 * Math.PI);
      const r = own ? rng.uniform(NEGATIVE_BEYOND + 1, k + 4) : rng.uniform(0, k);
      at(o.x + r * Math.cos(a), o.y + r * Math.sin(a));
    }
  }
  const reach = k * 2;
  for (let j = 0; j < opts.nearPerImage && f.img.objects.length > 0; j++) {
    const o = rng.pick(f.img.objects);
    at(o.x + rng.uniform(-reach, reach), o.y + rng.uniform(-reach, reach));
  }
  const side = gridSide(spec);
  for (let j = 0; j < opts.randomPerImage; j++) {
    const c = anchorCentre(spec, rng.int(0, side * side - 1));
    at(c.x, c.y);
  }
}

/**
 * Run the current graph on every training image; anchors scoring above the threshold for a class
 * with no object of that class nearby become negatives (the strongest few per image and class).
 * Returns how many such anchors were found; with no sample sets it only counts.
 */
async function mineHardNegatives(spec: DetectorSpec, feats: readonly FeatureImage[], sets: GroupSamples[], params: GroupParams[], opts: DetectorFitOptions): Promise<number> {
  const session = await ort.InferenceSession.create(Buffer.from(buildDetectorGraph(spec, params)), { intraOpNumThreads: 2 });
  const n = gridSide(spec) ** 2;
  const total = n * spec.groups.length;
  let found = 0;
  try {
    for (const f of feats) {
      const out = (await session.run({ images: tensorOf(spec, f.img) })).output0!.data as Float32Array;
      spec.groups.forEach((group, gi) => {
        for (const id of group.classIds) {
          const hits: { a: number; score: number }[] = [];
          for (let a = 0; a < n; a++) {
            const score = out[(4 + id) * total + gi * n + a]!;
            if (score < opts.mineThreshold) continue;
            const c = anchorCentre(spec, a);
            if (nearest(f.img, id, c.x, c.y) >= NEGATIVE_BEYOND) hits.push({ a, score });
          }
          found += hits.length;
          const s = sets[gi];
          if (!s) continue;
          hits.sort((p, q) => q.score - p.score);
          for (const h of hits.slice(0, opts.minePerImage)) {
            const c = anchorCentre(spec, h.a);
            const w = windowAt(c.x, c.y, group.kernel);
            s.add(f, w.u, w.v);
          }
        }
      });
    }
  } finally {
    await session.release();
  }
  return found;
}

/** Share of labelled windows each class gets right at 0.5, taking the best component's score. */
function windowAccuracy(spec: DetectorSpec, s: GroupSamples, model: LinearModel, st: Standardiser): [string, number][] {
  const right = s.group.classIds.map(() => 0);
  const seen = s.group.classIds.map(() => 0);
  for (let r = 0; r < s.m.rows; r++) {
    const scores = classScores(s.group, predict(model, st, s.m, r, 'ovr'));
    s.group.classIds.forEach((_, i) => {
      const y = s.labels[i]![r]!;
      if (y < 0) return;
      seen[i]!++;
      if (scores[i]! >= 0.5 === (y === 1)) right[i]!++;
    });
  }
  return s.group.classIds.map((id, i) => [spec.classes[id]!, Math.round((right[i]! / Math.max(1, seen[i]!)) * 10000) / 10000]);
}

function componentOf(variant: number, pose: number, count: number): number {
  if (Number.isNaN(variant)) return poseBin(pose, count);
  if (variant < 0 || variant >= count) throw new Error(`variant ${variant} outside the class's ${count} components`);
  return variant;
}

function poseBin(pose: number, bins: number): number {
  if (Number.isNaN(pose)) throw new Error('a class with several components needs a pose on every object');
  return Math.floor((((pose % 360) + 360) % 360) / (360 / bins));
}

function nearestObject(img: TrainImage, classId: number, x: number, y: number): TrainImage['objects'][number] | undefined {
  let best: TrainImage['objects'][number] | undefined;
  let bestD = Infinity;
  for (const o of img.objects) {
    if (o.classId !== classId) continue;
    const d = (o.x - x) ** 2 + (o.y - y) ** 2;
    if (d < bestD) {
      bestD = d;
      best = o;
    }
  }
  return best;
}

function nearest(img: TrainImage, classId: number, x: number, y: number): number {
  let best = Infinity;
  for (const o of img.objects) if (o.classId === classId) best = Math.min(best, Math.sqrt((o.x - x) ** 2 + (o.y - y) ** 2));
  return best;
}
