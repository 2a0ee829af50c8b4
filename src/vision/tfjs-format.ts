/**
 * Which runner opens a model path: a TF.js model (a model.json, or a folder holding one) goes to
 * TfjsRunner, anything else to OnnxRunner. Neither runtime is loaded on this thread.
 */
import type { ModelRunner } from './model-runner.js';
import { OnnxRunner } from './onnx.runner.js';
import { modelJsonPathFor, peekTfjsModelKind } from './tfjs-model-files.js';
import type { TfjsBackendChoice } from './tfjs-protocol.js';
import { TfjsRunner, type TfjsRunnerOptions } from './tfjs.runner.js';

/**
 * True when `path` is a TF.js model: a `model.json` file, or a folder containing one, whose JSON
 * says `format: 'graph-model'` (or `'layers-model'`) or has `modelTopology` and `weightsManifest`.
 * Layers models count: they are TF.js's to refuse (TfjsRunner says how to convert one).
 */
export function isTfjsModel(path: string): boolean {
  return peekTfjsModelKind(path) !== undefined;
}

export interface CreateRunnerOptions {
  workers: number;
  threads: number;
  /** TF.js only; default `auto` (tensorflow, else wasm). */
  tfjsBackend?: TfjsBackendChoice;
}

/**
 * The runner for `path`: TfjsRunner for a TF.js model, and for any folder or `.json` file (so a
 * folder without model.json, or a JSON that is no graph model, fails with TF.js's clear error
 * rather than ONNX Runtime's); OnnxRunner for everything else. Errors: LINESIDE_ERR_MODEL_LOAD.
 */
export function createRunner(path: string, opts: CreateRunnerOptions): Promise<ModelRunner> {
  // modelJsonPathFor: any existing folder, or a `.json` file.
  if (modelJsonPathFor(path) !== undefined) {
    const o: TfjsRunnerOptions = { workers: opts.workers, threads: opts.threads };
    if (opts.tfjsBackend !== undefined) o.backend = opts.tfjsBackend;
    return TfjsRunner.open(path, o);
  }
  return OnnxRunner.open(path, { workers: opts.workers, threads: opts.threads });
}
