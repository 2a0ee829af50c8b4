/**
 * `lineside teach`: builds an anomaly model for a station from images of good parts only, on the
 * box. The result is an ordinary ONNX file (anomalib-style outputs, normalised in the graph so 0.5
 * is the threshold) with its manifest and sha256, loaded by the normal model runtime.
 */
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, extname, join } from 'node:path';
import { ErrorCode, LinesideError } from '../domain/errors.js';
import { findDiscs, fitRim, rimScore } from '../vision/anomaly/disc.fit.js';
import { discLayout, type RimStats } from '../vision/anomaly/disc.graph.js';
import { fitPadim, rawScore, type FeatureMaps, type FitResult } from '../vision/anomaly/padim.fit.js';
import { buildFeatureModel, buildPadimModel, buildPoseModel, buildRimModel, featureSize, FEATURES, LOCAL, PATCH, POOL, STRIDE, type PadimGeometry } from '../vision/anomaly/padim.graph.js';
import { otsu, type Registration } from '../vision/anomaly/register.graph.js';
import type { ManifestInput } from '../vision/manifest.js';
import { Model } from '../vision/model.js';
import { decodeRgb, prepareInput, type InputSpec } from '../vision/preprocess.js';
import { createRunner } from '../vision/tfjs-format.js';
import { mapLimit } from '../vision/tiling.js';

export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png'] as const;
/** Fewer good parts than this cannot give a per-location variance worth the name. */
export const MIN_TEACH_IMAGES = 10;
/** Model input width; the height keeps the images' aspect. */
const INPUT_WIDTH = 640;
/** Residual alignment search after registration: ±1 cell of STRIDE · POOL = 4 input pixels. */
const RADIUS = 1;
/** Margin around the part's equivalent rectangle in the canonical window, input pixels. */
const WINDOW_MARGIN = 16;
/** Below this elongation ((μ20 − μ02) / (μ20 + μ02)) the part's axis is not trusted and only its position is registered. */
const MIN_ELONGATION = 0.15;
/** Every CALIBRATION_EVERY-th teaching image is held back from the first fit to set the threshold. */
const CALIBRATION_EVERY = 5;
/** Threshold = margin × the worst held-back good score. */
const MARGIN = 1.2;

export interface TeachOptions {
  readonly station: string;
  readonly images: string;
  readonly out: string;
  /** When the model is taught (default: now); a fixed time makes a rebuild byte-identical. */
  readonly at?: Date;
}

export interface TeachResult {
  readonly model: string;
  readonly manifest: string;
  readonly sha256: string;
  readonly images: number;
  readonly threshold: { readonly raw: number; readonly rule: string; readonly calibrationScores: readonly number[] };
  readonly seconds: number;
}

/** The image files of a folder, sorted; refuses a missing, non-folder or empty one, naming it. */
export async function listImages(dir: string, what = 'images folder'): Promise<string[]> {
  if (!existsSync(dir)) throw new LinesideError(ErrorCode.badRequest, `${what} ${dir} does not exist`);
  if (!statSync(dir).isDirectory()) throw new LinesideError(ErrorCode.badRequest, `${what} ${dir} is not a folder`);
  const files = (await readdir(dir)).filter((f) => (IMAGE_EXTENSIONS as readonly string[]).includes(extname(f).toLowerCase())).sort();
  if (files.length === 0) throw new LinesideError(ErrorCode.badRequest, `${what} ${dir} holds no images (${IMAGE_EXTENSIONS.join(', ')})`);
  return files.map((f) => join(dir, f));
}

export async function teach(opts: TeachOptions): Promise<TeachResult> {
  const t0 = performance.now();
  const files = await listImages(opts.images);
  if (files.length < MIN_TEACH_IMAGES) {
    throw new LinesideError(ErrorCode.badRequest, `images folder ${opts.images} holds ${files.length} image(s); teaching needs at least ${MIN_TEACH_IMAGES} good parts`);
  }
  const images = await Promise.all(files.map((f) => readFile(f)));
  const first = await decodeRgb(images[0]!);
  const height = Math.max(16, 2 * Math.round((INPUT_WIDTH * first.raw.height) / first.raw.width / 2));
  const spec: InputSpec = { name: 'image', width: INPUT_WIDTH, height, layout: 'NCHW', channels: 'RGB', scale: '0-255', mean: [0, 0, 0], std: [1, 1, 1], resize: 'stretch', letterboxAlign: 'center', padValue: 114 };
  const register = await chooseRegistration(images, spec, opts.images);
  const geometry: PadimGeometry = { width: INPUT_WIDTH, height, radius: RADIUS, register };
  const features = await extractFeatures(images, spec, geometry);
  const { fw, fh } = featureSize(geometry);

  // Threshold from good parts the first fit did not see; the shipped statistics then use every image.
  const held = features.maps.filter((_, i) => i % CALIBRATION_EVERY === CALIBRATION_EVERY - 1);
  const fitFold = features.maps.filter((_, i) => i % CALIBRATION_EVERY !== CALIBRATION_EVERY - 1);
  const trial = fitPadim({ fw, fh, maps: fitFold }, geometry);
  const roiTrial = withRoi(trial, features.roi);
  const calibrationScores = held.map((m) => rawScore(m, roiTrial, fw, fh, RADIUS));
  const raw = MARGIN * Math.max(...calibrationScores);
  const rule = `${MARGIN} × the highest score of ${held.length} good teaching images held back from a fit on the other ${fitFold.length} (every ${CALIBRATION_EVERY}th image); then refit on all ${files.length}`;
  const stats = withRoi(fitPadim(features, geometry), features.roi);
  const rim = await teachRim(images, spec, { ...geometry, register }, features.canonicalGrey);

  const hashes = await Promise.all(images.map((b, i) => ({ file: basename(files[i]!), sha256: createHash('sha256').update(b).digest('hex') })));
  const setDigest = createHash('sha256').update(hashes.map((h) => `${h.sha256}  ${h.file}\n`).join('')).digest('hex');
  const name = basename(opts.out).replace(/\.onnx$/i, '');
  const taughtAt = (opts.at ?? new Date()).toISOString();
  const bytes = buildPadimModel(geometry, { ...stats, threshold: raw, ...(rim ? { rim: rim.stats } : {}) }, { task: 'anomaly', station: opts.station, threshold: String(raw) });
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const manifest: ManifestInput = {
    name,
    version: `1.0.0+taught.${taughtAt.slice(0, 10)}`,
    task: 'anomaly',
    decoder: 'anomalib',
    input: spec,
    outputs: ['pred_score', 'anomaly_map'],
    classes: ['good', 'defect'],
    thresholds: { score: 0.5, iou: 0.45 },
    anomalib: { normalization: 'in-model' },
    intendedUse: `Anomaly (defect) model for station ${opts.station}, taught on the box from ${files.length} images of good parts; validate it on held-out good and defective parts (lineside validate) before approving it.`,
    licence: 'Taught on site from the plant’s own images; no third-party weights.',
    sha256,
    provenance: {
      tool: 'lineside teach',
      station: opts.station,
      method: `PaDiM-style on the registered part: the part is found as a blob (threshold ${register.threshold.toFixed(1)}, ${register.polarity > 0 ? 'brighter' : 'darker'} than its background), its centroid${register.rotate ? ' and principal axis (±45°)' : ''} resample it into an upright ${register.width}×${register.height} window; per-location mean and shrunk diagonal variance of ${FEATURES} patch features (R, G, B mean and sd over ${PATCH}×${PATCH} pixels of the window downsampled ${POOL}×, stride ${STRIDE}, relative to the ${LOCAL}×${LOCAL} surround), with a ±${RADIUS}-cell residual alignment search; score = max smoothed Mahalanobis distance${rim ? `; plus a rim check of the ${rim.stats.layout.discs.length} round sub-parts found in the mean good part (radius ${rim.stats.layout.radius} px): each disc centred on itself and its outline compared with its own ring, angle by angle, against per-angle statistics of good parts` : ''}`,
      registration: register,
      imagesFolder: opts.images,
      images: files.length,
      imagesDigest: setDigest,
      imageHashes: hashes,
      threshold: { raw, rule, calibrationScores },
      ...(rim ? { rimCheck: { discs: rim.stats.layout.discs.map((d) => ({ x: round1(d.x), y: round1(d.y), r: round1(d.r) })), threshold: { raw: rim.stats.threshold, rule: rim.rule, calibrationScores: rim.calibrationScores } } } : {}),
      taughtAt,
    },
  };
  await mkdir(dirname(opts.out), { recursive: true });
  await writeFile(opts.out, bytes);
  const manifestPath = opts.out.replace(/\.onnx$/i, '') + '.json';
  await writeFile(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);

  // Prove it runs in the normal runtime (load checks, warm-up, decoder) before anyone relies on it.
  const model = await Model.load(name, { path: opts.out, manifest: manifestPath, workers: 1, threads: 1 });
  await model.close();
  return { model: opts.out, manifest: manifestPath, sha256, images: files.length, threshold: { raw, rule, calibrationScores }, seconds: (performance.now() - t0) / 1000 };
}

/**
 * How the part is found: Otsu's threshold over the teaching images' cell greys, the polarity the
 * image centre has, then the pose of every image under it for the window size and whether the
 * part is elongated enough to register its angle. Refuses images in which no part stands out.
 */
async function chooseRegistration(images: readonly Buffer[], spec: InputSpec, folder: string): Promise<Registration> {
  const size = { width: spec.width, height: spec.height };
  const probe = { threshold: 128, polarity: 1 as const, rotate: false };
  const cells = await runGraph(buildPoseModel(size, probe), images.slice(0, 20), spec);
  const greys = cells.flatMap((o) => Array.from(o.reg_cells!));
  const threshold = otsu(greys);
  const cw = Math.floor(spec.width / 4);
  const ch = Math.floor(spec.height / 4);
  let centre = 0;
  let n = 0;
  for (const o of cells) {
    for (let y = Math.floor(ch / 3); y < Math.ceil((2 * ch) / 3); y++) {
      for (let x = Math.floor(cw / 3); x < Math.ceil((2 * cw) / 3); x++, n++) centre += o.reg_cells![y * cw + x]!;
    }
  }
  const polarity = centre / n >= threshold ? 1 : -1;
  const poses = await runGraph(buildPoseModel(size, { threshold, polarity, rotate: true }), images, spec);
  const median = (k: string): number => {
    const v = poses.map((o) => o[k]![0]!).sort((a, b) => a - b);
    return v[Math.floor(v.length / 2)]!;
  };
  const area = median('area');
  if (!(area > 0.02 && area < 0.9)) {
    throw new LinesideError(
      ErrorCode.badRequest,
      `images folder ${folder}: no part stands out from the background (the part covers ${(100 * area).toFixed(0)} % of the image at grey threshold ${threshold.toFixed(0)}); teaching registers the part as a blob, so the camera must see the whole part against a contrasting background`,
    );
  }
  const mu20 = median('mu20');
  const mu02 = median('mu02');
  const even = (v: number): number => 8 * Math.ceil(v / 8);
  const width = Math.min(even(2 * (Math.sqrt(3 * mu20) + WINDOW_MARGIN)), even(spec.width));
  const height = Math.min(even(2 * (Math.sqrt(3 * mu02) + WINDOW_MARGIN)), even(spec.height));
  const rotate = Math.abs(mu20 - mu02) / (mu20 + mu02) >= MIN_ELONGATION;
  if ((width / POOL - PATCH) / STRIDE < 4 * SMOOTH_MIN || (height / POOL - PATCH) / STRIDE < 4 * SMOOTH_MIN) {
    throw new LinesideError(ErrorCode.badRequest, `images folder ${folder}: the part is only ${width}×${height} pixels at model scale; use images in which the part fills more of the frame`);
  }
  return { threshold, polarity, rotate, width, height };
}

const SMOOTH_MIN = 2;

const round1 = (v: number): number => Math.round(v * 10) / 10;

/**
 * The rim check, when the mean good part has round sub-parts (tablets in their pockets): their
 * per-disc, per-angle statistics and a threshold set like the main one, on held-back images.
 */
async function teachRim(
  images: readonly Buffer[],
  spec: InputSpec,
  g: PadimGeometry & { register: Registration },
  greys: readonly Float32Array[],
): Promise<{ stats: RimStats; rule: string; calibrationScores: number[] } | undefined> {
  const { width, height } = g.register;
  const mean = new Float32Array(width * height);
  for (const grey of greys) for (let i = 0; i < mean.length; i++) mean[i]! += grey[i]! / greys.length;
  const layout = discLayout(findDiscs(mean, width, height), g.register);
  if (!layout) return undefined;
  const rims = (await runGraph(buildRimModel(g, layout), images, spec)).map((o) => o.disc_rim!);
  const held = rims.filter((_, i) => i % CALIBRATION_EVERY === CALIBRATION_EVERY - 1);
  const trial = fitRim(rims.filter((_, i) => i % CALIBRATION_EVERY !== CALIBRATION_EVERY - 1));
  const calibrationScores = held.map((r) => rimScore(r, trial));
  const threshold = MARGIN * Math.max(...calibrationScores);
  const rule = `${MARGIN} × the highest rim score of the same ${held.length} held-back good images, from a fit on the other ${rims.length - held.length}; then refit on all ${rims.length}`;
  return { stats: { layout, ...fitRim(rims), threshold }, rule, calibrationScores };
}

/** Weights zeroed outside the scored region (every channel of a location). */
function withRoi(fit: FitResult, roi: Float32Array): FitResult {
  const plane = roi.length;
  return { mean: fit.mean, weight: fit.weight.map((w, i) => w * roi[i % plane]!) };
}

/** Runs a graph (the model's own ops) through the ONNX runner on every image; the outputs by name. */
async function runGraph(bytes: Uint8Array, images: readonly Buffer[], spec: InputSpec): Promise<Array<Record<string, Float32Array>>> {
  const dir = await mkdtemp(join(tmpdir(), 'lineside-teach-'));
  const path = join(dir, 'graph.onnx');
  await writeFile(path, bytes);
  const runner = await createRunner(path, { workers: 2, threads: 1 });
  try {
    return await mapLimit(images, 4, async (img) => {
      const input = await prepareInput(img, spec);
      const out = await runner.run({ data: input.tensor, dims: [...input.dims] });
      return Object.fromEntries(Object.entries(out.outputs).map(([k, t]) => [k, t.data as Float32Array]));
    });
  } finally {
    await runner.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs the feature graph (the model's own first ops, registration included) on every image. */
async function extractFeatures(images: readonly Buffer[], spec: InputSpec, g: PadimGeometry): Promise<FeatureMaps & { roi: Float32Array; canonicalGrey: Float32Array[] }> {
  const outs = await runGraph(buildFeatureModel(g), images, spec);
  const { fw, fh } = featureSize(g);
  // Scored: the patches that are the part in (nearly) every teaching image. Patches across its
  // outline mix in the background, whose blanked grey does not follow the lighting.
  const roi = new Float32Array(fw * fh).fill(1);
  if (g.register) {
    for (let p = 0; p < roi.length; p++) {
      let s = 0;
      for (const o of outs) s += o.coverage![p]!;
      roi[p] = s / outs.length >= ROI_COVERAGE ? 1 : 0;
    }
  }
  return { fw, fh, maps: outs.map((o) => o.features!), roi, canonicalGrey: g.register ? outs.map((o) => o.canonical_grey!) : [] };
}

/** A patch is scored when on average this share of it is the part. */
const ROI_COVERAGE = 0.95;
