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
import { fitPadim, rawScore, type FeatureMaps } from '../vision/anomaly/padim.fit.js';
import { buildFeatureModel, buildPadimModel, featureSize, FEATURES, type PadimGeometry } from '../vision/anomaly/padim.graph.js';
import type { ManifestInput } from '../vision/manifest.js';
import { Model } from '../vision/model.js';
import { decodeRgb, prepareInput, type InputSpec } from '../vision/preprocess.js';
import { createRunner } from '../vision/tfjs-format.js';
import { mapLimit } from '../vision/tiling.js';

export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png'] as const;
/** Fewer good parts than this cannot give a per-location variance worth the name. */
export const MIN_TEACH_IMAGES = 10;
/** Model input width; the height keeps the images' aspect. Half of the 640-px fixture cameras. */
const INPUT_WIDTH = 320;
/** Alignment search: ±5 cells of 2 input pixels = ±20 pixels of a 640-px image (conveyor jitter plus a slight rotation). */
const RADIUS = 5;
/** Every CALIBRATION_EVERY-th teaching image is held back from the first fit to set the threshold. */
const CALIBRATION_EVERY = 5;
/** Threshold = margin × the worst held-back good score. */
const MARGIN = 1.2;

export interface TeachOptions {
  readonly station: string;
  readonly images: string;
  readonly out: string;
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
  const geometry: PadimGeometry = { width: INPUT_WIDTH, height, radius: RADIUS };
  const spec: InputSpec = { name: 'image', width: INPUT_WIDTH, height, layout: 'NCHW', channels: 'RGB', scale: '0-255', mean: [0, 0, 0], std: [1, 1, 1], resize: 'stretch', letterboxAlign: 'center', padValue: 114 };
  const features = await extractFeatures(images, spec, geometry);
  const { fw, fh } = featureSize(geometry);

  // Threshold from good parts the first fit did not see; the shipped statistics then use every image.
  const held = features.maps.filter((_, i) => i % CALIBRATION_EVERY === CALIBRATION_EVERY - 1);
  const fitFold = features.maps.filter((_, i) => i % CALIBRATION_EVERY !== CALIBRATION_EVERY - 1);
  const trial = fitPadim({ fw, fh, maps: fitFold }, geometry);
  const calibrationScores = held.map((m) => rawScore(m, trial, fw, fh, RADIUS));
  const raw = MARGIN * Math.max(...calibrationScores);
  const rule = `${MARGIN} × the highest score of ${held.length} good teaching images held back from a fit on the other ${fitFold.length} (every ${CALIBRATION_EVERY}th image); then refit on all ${files.length}`;
  const stats = fitPadim(features, geometry);

  const hashes = await Promise.all(images.map((b, i) => ({ file: basename(files[i]!), sha256: createHash('sha256').update(b).digest('hex') })));
  const setDigest = createHash('sha256').update(hashes.map((h) => `${h.sha256}  ${h.file}\n`).join('')).digest('hex');
  const name = basename(opts.out).replace(/\.onnx$/i, '');
  const bytes = buildPadimModel(geometry, { ...stats, threshold: raw }, { task: 'anomaly', station: opts.station, threshold: String(raw) });
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const manifest: ManifestInput = {
    name,
    version: `1.0.0+taught.${new Date().toISOString().slice(0, 10)}`,
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
      method: `PaDiM-style: per-location mean and shrunk diagonal variance of ${FEATURES} patch features (R, G, B mean and sd over 8×8 input pixels, stride 2, relative to the 72×72 surround), with a ±${RADIUS}-cell alignment search; score = max Mahalanobis distance`,
      imagesFolder: opts.images,
      images: files.length,
      imagesDigest: setDigest,
      imageHashes: hashes,
      threshold: { raw, rule, calibrationScores },
      taughtAt: new Date().toISOString(),
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

/** Runs the feature graph (the model's own first ops) through the ONNX runner on every image. */
async function extractFeatures(images: readonly Buffer[], spec: InputSpec, g: PadimGeometry): Promise<FeatureMaps> {
  const dir = await mkdtemp(join(tmpdir(), 'lineside-teach-'));
  const path = join(dir, 'features.onnx');
  await writeFile(path, buildFeatureModel(g));
  const runner = await createRunner(path, { workers: 2, threads: 1 });
  try {
    const maps = await mapLimit(images, 4, async (img) => {
        const input = await prepareInput(img, spec);
        const out = await runner.run({ data: input.tensor, dims: [...input.dims] });
        return out.outputs.features!.data;
    });
    return { ...featureSize(g), maps };
  } finally {
    await runner.close();
    await rm(dir, { recursive: true, force: true });
  }
}
