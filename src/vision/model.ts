import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { ModelConfig } from '../config/schema.js';
import type { ModelOutput } from '../domain/detection.js';
import { ErrorCode, isLinesideError, LinesideError, reasonOf } from '../domain/errors.js';
import type { Roi } from '../domain/geometry.js';
import { HealthCell, HealthState } from '../domain/health.js';
import { checkOutputShape, decode } from './decoders/decoder.js';
import type { ImageInput } from './image.js';
import type { Manifest } from './manifest.js';
import { resolveManifest } from './model-manifest.js';
import type { ModelRunner, RunResult } from './model-runner.js';
import { OnnxRunner } from './onnx.runner.js';
import { prepareInput, type InputTransform } from './preprocess.js';

/** Constant outputs in a row before the model is marked unhealthy (each such frame is already not inspected). */
const DEAD_OUTPUT_RUN = 5;

export interface InferResult {
  readonly output: ModelOutput;
  readonly transform: InputTransform;
  readonly preprocessMs: number;
  readonly inferMs: number;
  readonly decodeMs: number;
}

/** Manifest beside the model: same path with .json, .yaml or .yml. */
export function manifestPathFor(modelPath: string): string | undefined {
  const stem = modelPath.replace(/\.onnx$/i, '');
  return ['.json', '.yaml', '.yml'].map((ext) => stem + ext).find((p) => existsSync(p));
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
  #deadRun = 0;

  private constructor(key: string, manifest: Manifest, runner: ModelRunner) {
    this.key = key;
    this.manifest = manifest;
    this.#runner = runner;
    this.versionTag = `${manifest.name}@${manifest.version}+${manifest.sha256.slice(0, 12)}`;
  }

  /**
   * Load and check a model. Errors are LINESIDE_ERR_MODEL_LOAD and name the file. The manifest is
   * the file beside the model (or `cfg.manifest`) over what the ONNX file says about itself; with
   * neither, the load fails saying what is missing. `notes` receives what was assumed.
   */
  static async load(key: string, cfg: ModelConfig, opts: { allowUnpinned?: boolean; notes?: string[] } = {}): Promise<Model> {
    let bytes: Buffer;
    try {
      bytes = await readFile(cfg.path);
    } catch (cause) {
      throw new LinesideError(ErrorCode.modelLoad, existsSync(cfg.path) ? `model file ${cfg.path} cannot be read` : `model file ${cfg.path} does not exist`, { cause });
    }
    const resolved = await resolveManifest(cfg.path, bytes, cfg.manifest ?? manifestPathFor(cfg.path), opts);
    opts.notes?.push(...resolved.notes);
    const manifest = resolved.manifest;
    const sha = createHash('sha256').update(bytes).digest('hex');
    if (sha !== manifest.sha256) {
      throw new LinesideError(ErrorCode.modelLoad, `model file ${cfg.path} has sha256 ${sha.slice(0, 12)}…, manifest says ${manifest.sha256.slice(0, 12)}…`);
    }
    const runner = await OnnxRunner.open(cfg.path, { workers: cfg.workers, threads: cfg.threads });
    const model = new Model(key, manifest, runner);
    try {
      await model.#check(cfg.path);
    } catch (e) {
      await runner.close();
      throw e;
    }
    return model;
  }

  /** Decode → tensor → worker → decoded output. Throws LinesideError with a stable code. */
  async infer(image: ImageInput, roi?: Roi): Promise<InferResult> {
    const t0 = performance.now();
    const input = await prepareInput(image, this.manifest.input, roi);
    const t1 = performance.now();
    let run;
    try {
      run = await this.#runner.run({ data: input.tensor, dims: [...input.dims] });
    } catch (e) {
      // Down until a run succeeds again: the station answers not-inspected meanwhile.
      this.health.set(HealthState.down, reasonOf(e));
      throw e;
    }
    const t2 = performance.now();
    this.#checkInformative(run.outputs);
    let output: ModelOutput;
    try {
      output = decode(run.outputs, { manifest: this.manifest, transform: input.transform });
    } catch (e) {
      if (isLinesideError(e, ErrorCode.modelUnhealthy)) this.health.set(HealthState.down, e.message);
      throw e;
    }
    this.health.set(HealthState.ok);
    return { output, transform: input.transform, preprocessMs: t1 - t0, inferMs: run.inferMs, decodeMs: performance.now() - t2 };
  }

  /**
   * An output whose values are all equal (all zeros, all NaN-free but flat) says nothing about the
   * image: it is never decoded into a verdict. A run of them marks the model unhealthy (alarm,
   * Ready cleared) until it produces a real output again.
   */
  #checkInformative(outputs: RunResult['outputs']): void {
    const name = this.manifest.outputs?.[0] ?? this.#runner.outputs[0]?.name;
    const t = name === undefined ? undefined : outputs[name];
    if (!t || t.data.length < 2) return;
    const flat = constantValue(t.data);
    if (flat === null) {
      this.#deadRun = 0;
      return;
    }
    this.#deadRun++;
    const why = `model ${this.manifest.name}: output ${name} carries no information (all ${t.data.length} values are ${flat})`;
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

  /** Shapes agree with the manifest and decoder, and a warm-up run gives finite outputs. */
  async #check(path: string): Promise<void> {
    const spec = this.manifest.input;
    const input = this.#runner.inputs[0];
    if (!input) throw new LinesideError(ErrorCode.modelLoad, `model ${path} has no inputs`);
    const want = spec.layout === 'NCHW' ? [1, 3, spec.height, spec.width] : [1, spec.height, spec.width, 3];
    const fixed = input.shape.every((d) => typeof d === 'number');
    if (fixed && input.shape.some((d, i) => i > 0 && d !== want[i])) {
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
