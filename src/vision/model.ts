import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { ModelConfig } from '../config/schema.js';
import type { Detection, ModelOutput } from '../domain/detection.js';
import { ErrorCode, isLinesideError, LinesideError, reasonOf } from '../domain/errors.js';
import type { Roi } from '../domain/geometry.js';
import { HealthCell, HealthState } from '../domain/health.js';
import { checkOutputShape, decode } from './decoders/decoder.js';
import type { ImageInput } from './image.js';
import { runCanary } from './canary.js';
import type { Manifest, Tiling } from './manifest.js';
import { resolveManifest, resolveTfjsManifest, type ResolvedManifest } from './model-manifest.js';
import type { ModelRunner, RunResult } from './model-runner.js';
import { prepareInput, prepareTiles, type InputTransform } from './preprocess.js';
import { createRunner } from './tfjs-format.js';
import { modelJsonPathFor, readTfjsGraphModelFiles, tfjsManifestCandidates, tfjsModelSha256 } from './tfjs-model-files.js';
import { mapLimit, mergeTileDetections, type TileDetections } from './tiling.js';

/** Constant outputs in a row before the model is marked unhealthy (each such frame is already not inspected). */
const DEAD_OUTPUT_RUN = 5;

export interface InferResult {
  readonly output: ModelOutput;
  /**
   * Model input → original image. With tiling there is one per tile; this one then only gives the
   * image size and the ROI offset (scale 1).
   */
  readonly transform: InputTransform;
  /** With tiling: decoding once plus preparing every tile (summed, though tiles overlap in time). */
  readonly preprocessMs: number;
  /** Time inside the worker's session.run(); with tiling, summed over the tiles. */
  readonly inferMs: number;
  /** With tiling: every tile's decode plus the merge. */
  readonly decodeMs: number;
  /** Tiles inferred (manifest `input.tiling`); absent without tiling. */
  readonly tiles?: number;
}

/**
 * Manifest beside the model: for an ONNX file the same path with .json, .yaml or .yml; for a
 * TF.js model (model.json or its folder) `<stem>.manifest.yaml|yml|json` beside model.json.
 */
export function manifestPathFor(modelPath: string): string | undefined {
  if (modelJsonPathFor(modelPath) !== undefined) return tfjsManifestCandidates(modelPath).find((p) => existsSync(p));
  const stem = modelPath.replace(/\.onnx$/i, '');
  return ['.json', '.yaml', '.yml'].map((ext) => stem + ext).find((p) => existsSync(p));
}

/**
 * The manifest and the runner for `cfg.path`: a TF.js graph model (model.json or a folder) opens
 * in TfjsRunner, anything else must be ONNX. Both are hash-checked against the manifest first.
 */
async function openModel(cfg: ModelConfig, opts: { allowUnpinned?: boolean }): Promise<{ resolved: ResolvedManifest; manifestPath: string | undefined; runner: () => Promise<ModelRunner> }> {
  const manifestPath = cfg.manifest ?? manifestPathFor(cfg.path);
  if (modelJsonPathFor(cfg.path) !== undefined) {
    const files = await readTfjsGraphModelFiles(cfg.path);
    const sha = await tfjsModelSha256(files);
    const resolved = await resolveTfjsManifest(files.modelJson, sha, manifestPath, opts);
    if (sha !== resolved.manifest.sha256) {
      throw new LinesideError(
        ErrorCode.modelLoad,
        `TF.js model ${files.modelJson} (with ${files.weightFiles.length} weight file${files.weightFiles.length === 1 ? '' : 's'}) has sha256 ${sha.slice(0, 12)}…, manifest says ${resolved.manifest.sha256.slice(0, 12)}…`,
      );
    }
    return { resolved, manifestPath, runner: () => createRunner(cfg.path, { workers: cfg.workers, threads: cfg.threads, ...(cfg.backend ? { tfjsBackend: cfg.backend } : {}) }) };
  }
  if (cfg.backend !== undefined) throw new LinesideError(ErrorCode.modelLoad, `model ${cfg.path}: backend applies to TF.js models only (this path is not a model.json or a folder)`);
  let bytes: Buffer;
  try {
    bytes = await readFile(cfg.path);
  } catch (cause) {
    throw new LinesideError(ErrorCode.modelLoad, existsSync(cfg.path) ? `model file ${cfg.path} cannot be read` : `model file ${cfg.path} does not exist`, { cause });
  }
  const resolved = await resolveManifest(cfg.path, bytes, manifestPath, opts);
  const sha = createHash('sha256').update(bytes).digest('hex');
  if (sha !== resolved.manifest.sha256) {
    throw new LinesideError(ErrorCode.modelLoad, `model file ${cfg.path} has sha256 ${sha.slice(0, 12)}…, manifest says ${resolved.manifest.sha256.slice(0, 12)}…`);
  }
  return { resolved, manifestPath, runner: () => createRunner(cfg.path, { workers: cfg.workers, threads: cfg.threads }) };
}

/**
 * A loaded, checked model: manifest, hash-verified file, a worker pool, and a health state that
 * turns to down when its outputs stop being trustworthy.
 */
export class Model {
  readonly key: string;
  readonly manifest: Manifest;
  /** `name@version+sha256[0..12]`, recorded with every inspection. */
  readonly versionTag: string;
  readonly health = new HealthCell(HealthState.ok);
  readonly #runner: ModelRunner;
  /** Tiles of one image in flight at once: one per worker, and one more being prepared. */
  readonly #tilesInFlight: number;
  #deadRun = 0;

  private constructor(key: string, manifest: Manifest, runner: ModelRunner, workers: number) {
    this.key = key;
    this.manifest = manifest;
    this.#runner = runner;
    this.#tilesInFlight = Math.max(1, workers) + 1;
    this.versionTag = `${manifest.name}@${manifest.version}+${manifest.sha256.slice(0, 12)}`;
  }

  /**
   * Load and check a model (ONNX, or a TF.js graph model: see openModel). Errors are
   * LINESIDE_ERR_MODEL_LOAD and name the file. The manifest is the file beside the model (or
   * `cfg.manifest`) over what an ONNX file says about itself; with neither, the load fails saying
   * what is missing (a TF.js model always needs its manifest). `notes` receives what was assumed. A manifest
   * `canary` (its image relative to the manifest file) must give its expected answer.
   */
  static async load(key: string, cfg: ModelConfig, opts: { allowUnpinned?: boolean; notes?: string[] } = {}): Promise<Model> {
    const opened = await openModel(cfg, opts);
    opts.notes?.push(...opened.resolved.notes);
    const manifest = opened.resolved.manifest;
    const manifestPath = opened.manifestPath;
    const runner = await opened.runner();
    const model = new Model(key, manifest, runner, cfg.workers);
    try {
      await model.#check(cfg.path, manifestPath);
    } catch (e) {
      await runner.close();
      throw e;
    }
    return model;
  }

  /**
   * Decode → tensor → worker → decoded output; with `input.tiling`, every tile of the image (or ROI)
   * through the worker pool and the detections merged. Throws LinesideError with a stable code.
   */
  infer(image: ImageInput, roi?: Roi): Promise<InferResult> {
    return this.#infer(image, roi, this.manifest);
  }

  /**
   * `infer`, but reporting detections down to `minScore` rather than the manifest's threshold:
   * `lineside validate` needs the scores below the operating point to draw the ROC curve.
   */
  inferDownTo(image: ImageInput, minScore: number): Promise<InferResult> {
    return this.#infer(image, undefined, { ...this.manifest, thresholds: { ...this.manifest.thresholds, score: Math.min(minScore, this.manifest.thresholds.score) } });
  }

  /** `infer` decoding with `manifest` (the model's own, or the canary's diagnostic copy). */
  #infer(image: ImageInput, roi: Roi | undefined, manifest: Manifest): Promise<InferResult> {
    const tiling = manifest.input.tiling;
    return tiling ? this.#inferTiled(image, roi, manifest, tiling) : this.#inferWhole(image, roi, manifest);
  }

  async #inferWhole(image: ImageInput, roi: Roi | undefined, manifest: Manifest): Promise<InferResult> {
    const t0 = performance.now();
    const input = await prepareInput(image, manifest.input, roi);
    const t1 = performance.now();
    const run = await this.#run(input.tensor, input.dims);
    const t2 = performance.now();
    this.#checkInformative([run.outputs]);
    const output = this.#decode(run.outputs, manifest, input.transform);
    this.health.set(HealthState.ok);
    return { output, transform: input.transform, preprocessMs: t1 - t0, inferMs: run.inferMs, decodeMs: performance.now() - t2 };
  }

  /**
   * Tiles of `tiling.tile` original pixels over the image or ROI (tiling.ts), cut from the image
   * decoded (and resized) once, inferred as inputs of their own through the worker pool — one per
   * worker in flight, and one more being prepared; their detections, in original coordinates,
   * merged by tile-aware NMS.
   */
  async #inferTiled(image: ImageInput, roi: Roi | undefined, manifest: Manifest, tiling: Tiling): Promise<InferResult> {
    const t0 = performance.now();
    const tiled = await prepareTiles(image, manifest.input, tiling, roi);
    const { width, height, region, tiles } = tiled;
    let preprocessMs = performance.now() - t0;
    let inferMs = 0;
    const runs = await mapLimit(tiles, this.#tilesInFlight, async (tile, i) => {
      const a = performance.now();
      const input = await tiled.prepare(i);
      preprocessMs += performance.now() - a;
      const run = await this.#run(input.tensor, input.dims);
      inferMs += run.inferMs;
      return { tile, transform: input.transform, outputs: run.outputs };
    });
    const t2 = performance.now();
    this.#checkInformative(runs.map((r) => r.outputs));
    const found: TileDetections[] = runs.map((r) => {
      const out = this.#decode(r.outputs, manifest, r.transform);
      return { tile: r.tile, detections: out.kind === 'detections' ? out.detections : [] };
    });
    const detections: Detection[] = mergeTileDetections(found, region, {
      iou: manifest.thresholds.iou,
      classAgnostic: manifest.nms.classAgnostic,
      maxDetections: manifest.nms.maxDetections,
    });
    this.health.set(HealthState.ok);
    return {
      output: { kind: 'detections', detections },
      transform: { srcWidth: width, srcHeight: height, scaleX: 1, scaleY: 1, padX: 0, padY: 0, offsetX: region.x, offsetY: region.y, cropWidth: region.w, cropHeight: region.h },
      preprocessMs,
      inferMs,
      decodeMs: performance.now() - t2,
      tiles: tiles.length,
    };
  }

  /** One tensor through the worker pool; a failed run marks the model down until a run succeeds again. */
  async #run(tensor: Float32Array, dims: readonly number[]): Promise<RunResult> {
    try {
      return await this.#runner.run({ data: tensor, dims: [...dims] });
    } catch (e) {
      // Down until a run succeeds again: the station answers not-inspected meanwhile.
      this.health.set(HealthState.down, reasonOf(e));
      throw e;
    }
  }

  #decode(outputs: RunResult['outputs'], manifest: Manifest, transform: InputTransform): ModelOutput {
    try {
      return decode(outputs, { manifest, transform });
    } catch (e) {
      if (isLinesideError(e, ErrorCode.modelUnhealthy)) this.health.set(HealthState.down, e.message);
      throw e;
    }
  }

  /**
   * An output whose values are all equal (all zeros, all NaN-free but flat) says nothing about the
   * image: it is never decoded into a verdict. A run of them marks the model unhealthy (alarm,
   * Ready cleared) until it produces a real output again. With tiling, one flat tile makes the
   * frame flat (a box head's coordinates alone differ between anchors of a working model).
   */
  #checkInformative(runs: readonly RunResult['outputs'][]): void {
    const name = this.manifest.outputs?.[0] ?? this.#runner.outputs[0]?.name;
    let checked = false;
    let flatOne: { readonly value: number; readonly n: number } | undefined;
    for (const outputs of runs) {
      const t = name === undefined ? undefined : outputs[name];
      if (!t || t.data.length < 2) continue;
      checked = true;
      const value = constantValue(t.data);
      if (value !== null) {
        flatOne = { value, n: t.data.length };
        break;
      }
    }
    if (!checked) return;
    if (!flatOne) {
      this.#deadRun = 0;
      return;
    }
    this.#deadRun++;
    const why = `model ${this.manifest.name}: output ${name} carries no information (all ${flatOne.n} values are ${flatOne.value})${runs.length > 1 ? ' in a tile' : ''}`;
    if (this.#deadRun >= DEAD_OUTPUT_RUN) this.health.set(HealthState.down, `${why} for ${this.#deadRun} frames in a row`);
    throw new LinesideError(ErrorCode.modelUnhealthy, why);
  }

  /** Raw throughput of the model on one prepared tensor, inside a worker (benchmarks). */
  async benchRaw(image: ImageInput, iterations: number): Promise<{ times: readonly number[]; wallMs: number }> {
    const input = await prepareInput(image, this.manifest.input);
    return this.#runner.bench({ data: input.tensor, dims: [...input.dims] }, iterations);
  }

  close(): Promise<void> {
    return this.#runner.close();
  }

  /**
   * Shapes agree with the manifest and decoder, a warm-up run gives finite outputs, the same input
   * twice gives the same outputs, and the manifest's canary (if any) gives its expected answer.
   */
  async #check(path: string, manifestPath: string | undefined): Promise<void> {
    const spec = this.manifest.input;
    const input = this.#runner.inputs[0];
    if (!input) throw new LinesideError(ErrorCode.modelLoad, `model ${path} has no inputs`);
    const want = spec.layout === 'NCHW' ? [1, 3, spec.height, spec.width] : [1, spec.height, spec.width, 3];
    // Dims the model states (a symbolic batch or size is left to the model) must match the manifest.
    const stated = input.shape.length > 0;
    if (stated && (input.shape.length !== want.length || input.shape.some((d, i) => i > 0 && typeof d === 'number' && d !== want[i]))) {
      throw new LinesideError(ErrorCode.modelLoad, `model ${path}: input ${input.name} is [${input.shape.join(',')}], manifest says [${want.join(',')}]`);
    }
    const zeros = new Float32Array(want.reduce((a, b) => a * b, 1));
    const warm = await this.#runner.run({ data: zeros, dims: want });
    // Every output the decoder reads has the shape it expects, and nothing is NaN/Inf.
    const problem = checkOutputShape(warm.outputs, this.manifest);
    if (problem) throw new LinesideError(ErrorCode.modelLoad, `model ${path}: ${problem}`);
    for (const [name, t] of Object.entries(warm.outputs)) {
      if (!t.data.every(Number.isFinite)) throw new LinesideError(ErrorCode.modelLoad, `model ${path}: warm-up produced non-finite values in output ${name}`);
    }

    // Determinism: the same input twice must give the same outputs, or no record could be trusted.
    const probe = probeTensor(want);
    const a = await this.#runner.run({ data: probe.slice(), dims: want });
    const b = await this.#runner.run({ data: probe.slice(), dims: want });
    for (const [name, ta] of Object.entries(a.outputs)) {
      const tb = b.outputs[name];
      const i = tb ? firstDifference(ta.data, tb.data) : 0;
      if (i >= 0) {
        throw new LinesideError(ErrorCode.modelLoad, `model ${path} is not deterministic: the same input gave different values in output ${name}${tb ? ` (index ${i}: ${ta.data[i]} vs ${tb.data[i]})` : ''}`);
      }
    }

    // Canary: a known image through the whole path (preprocessing, worker, decoder, tiling).
    await runCanary({
      modelPath: path,
      manifestPath,
      manifest: this.manifest,
      infer: async (image, manifest) => (await this.#infer(image, undefined, manifest)).output,
    });
  }
}

/** The value every element has, or null when they differ. */
function constantValue(d: Float32Array): number | null {
  const v = d[0]!;
  for (let i = 1; i < d.length; i++) if (d[i] !== v) return null;
  return v;
}

/** Index of the first element that differs (by more than rounding), or -1. */
function firstDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x !== y && !(Math.abs(x - y) <= 1e-5 * Math.max(1, Math.abs(x), Math.abs(y)))) return i;
  }
  return -1;
}

/** A fixed, image-like input (smooth gradients in 0..1) for load checks. */
function probeTensor(dims: readonly number[]): Float32Array {
  const n = dims.reduce((p, d) => p * d, 1);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = 0.5 + 0.5 * Math.sin(i * 0.0137) * Math.cos(i * 0.00071);
  return out;
}
