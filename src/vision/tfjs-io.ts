/**
 * TF.js graph models from the file system. `tf.loadGraphModel('file://…')` works only with
 * tfjs-node; this IOHandler reads model.json and its weight shards with node:fs on any backend.
 * Also: the IoInfo a graph model reports, and one inference from a Float32 wire tensor to
 * Float32 wire tensors — shared by the worker and the tests.
 */
import * as tf from '@tensorflow/tfjs';
import { ErrorCode, LinesideError } from '../domain/errors.js';
import { readTfjsGraphModelFiles, readTfjsWeights, type TfjsModelFiles } from './tfjs-model-files.js';
import type { IoInfo, WireTensor } from './worker-protocol.js';

/** An io.IOHandler that loads the graph model at `path` (model.json, or its folder) from disk. */
export function tfjsFileHandler(path: string): tf.io.IOHandler {
  return {
    load: async () => artifactsOf(await readTfjsGraphModelFiles(path)),
  };
}

async function artifactsOf(files: TfjsModelFiles): Promise<tf.io.ModelArtifacts> {
  const weightData = await readTfjsWeights(files);
  return tf.io.getModelArtifactsForJSON(files.json as unknown as tf.io.ModelJSON, async (manifest) => [tf.io.getWeightSpecs(manifest), weightData]);
}

export interface LoadedGraphModel {
  readonly model: tf.GraphModel;
  readonly files: TfjsModelFiles;
}

/**
 * Load and compile a graph model. Throws LINESIDE_ERR_MODEL_LOAD naming the file: the file
 * checks of readTfjsGraphModelFiles, weights that do not decode, an op TF.js does not support.
 */
export async function loadTfjsGraphModel(path: string): Promise<LoadedGraphModel> {
  const files = await readTfjsGraphModelFiles(path);
  const artifacts = await artifactsOf(files);
  try {
    const model = await tf.loadGraphModel({ load: async () => artifacts });
    return { model, files };
  } catch (cause) {
    throw new LinesideError(ErrorCode.modelLoad, `${files.modelJson}: TF.js cannot load this graph: ${(cause as Error).message}`, { cause });
  }
}

/** A TF.js dimension (-1 or null when unknown) as IoInfo has it: a number, or a symbolic name. */
function dimOf(d: number | null | undefined, i: number): number | string {
  return typeof d === 'number' && d >= 0 ? d : i === 0 ? 'batch' : `dim${i}`;
}

function shapeOf(shape: ReadonlyArray<number | null> | undefined): Array<number | string> {
  return shape ? shape.map((d, i) => dimOf(d, i)) : [];
}

/** Output names the runner reports and keys results by: node names, `:k` kept for a node's k-th output. */
export function outputNamesOf(model: tf.GraphModel): string[] {
  return model.outputs.map((o, i) => {
    const node = model.outputNodes[i] ?? o.name;
    const k = /:(\d+)$/.exec(node)?.[1];
    return k !== undefined && k !== '0' && !o.name.endsWith(`:${k}`) ? `${o.name}:${k}` : o.name;
  });
}

/** A signature entry's shape (converter output: `{ tensorShape: { dim: [{ size: '-1' }, …] } }`). */
function signatureShape(model: tf.GraphModel, node: string, name: string): Array<number | null> | undefined {
  const outputs = (model.modelSignature as { outputs?: Record<string, unknown> } | undefined)?.outputs;
  if (!outputs) return undefined;
  const entry = (outputs[node] ?? Object.values(outputs).find((e) => isEntryFor(e, name))) as { tensorShape?: { dim?: Array<{ size?: string | number }>; unknownRank?: boolean } } | undefined;
  const ts = entry?.tensorShape;
  if (!ts || ts.unknownRank || !ts.dim) return undefined;
  return ts.dim.map((d) => {
    const n = Number(d.size ?? -1);
    return Number.isFinite(n) && n >= 0 ? n : null;
  });
}

function isEntryFor(e: unknown, name: string): boolean {
  const n = (e as { name?: unknown } | undefined)?.name;
  return typeof n === 'string' && (n === name || n === `${name}:0`);
}

/**
 * Inputs and outputs as the runner reports them. Input shapes come from the Placeholders; output
 * shapes from the model's signature, else from one probe run on zeros when the input shape is
 * known apart from the batch (batch 1; an output's first dim then counts as `batch`), else [].
 */
export async function graphIoInfo(model: tf.GraphModel): Promise<{ inputs: IoInfo[]; outputs: IoInfo[] }> {
  const inputs = model.inputs.map((t) => ({ name: t.name, shape: shapeOf(t.shape) }));
  const names = outputNamesOf(model);
  const outputs: IoInfo[] = model.outputs.map((o, i) => {
    const sig = signatureShape(model, model.outputNodes[i] ?? o.name, o.name);
    return { name: names[i]!, shape: shapeOf(sig ?? o.shape) };
  });
  const first = model.inputs[0];
  const unknown = outputs.some((o) => o.shape.length === 0);
  const probeable = model.inputs.length === 1 && first?.shape !== undefined && first.shape.every((d, i) => i === 0 || (typeof d === 'number' && d >= 0));
  if (unknown && probeable && first?.shape) {
    const batchSymbolic = !(typeof first.shape[0] === 'number' && first.shape[0] >= 0);
    const dims = first.shape.map((d, i) => (i === 0 && batchSymbolic ? 1 : (d as number)));
    const x = tf.zeros(dims, first.dtype === 'int32' ? 'int32' : 'float32');
    try {
      const out = await executeGraph(model, x);
      out.forEach((t, i) => {
        const o = outputs[i];
        if (o && o.shape.length === 0) o.shape = t.shape.map((d, j) => (j === 0 && batchSymbolic && d === 1 ? 'batch' : d));
        t.dispose();
      });
    } catch {
      // A graph that cannot run on zeros still loads; its outputs' shapes stay unknown.
    } finally {
      x.dispose();
    }
  }
  return { inputs, outputs };
}

/** A model that needs executeAsync (control flow, dynamic shapes) is remembered after the first try. */
const needsAsync = new WeakSet<tf.GraphModel>();

/** Run the graph on `x`; every output tensor, in `model.outputNodes` order. */
export async function executeGraph(model: tf.GraphModel, x: tf.Tensor): Promise<tf.Tensor[]> {
  const feed = { [model.inputNodes[0]!]: x };
  let r: tf.Tensor | tf.Tensor[];
  if (needsAsync.has(model)) r = await model.executeAsync(feed, model.outputNodes);
  else {
    try {
      r = model.execute(feed, model.outputNodes);
    } catch (e) {
      if (!/executeAsync/.test((e as Error).message)) throw e;
      needsAsync.add(model);
      r = await model.executeAsync(feed, model.outputNodes);
    }
  }
  return Array.isArray(r) ? r : [r];
}

/** The input tensor for a wire tensor, in the Placeholder's dtype (an int32 input gets rounded values). */
export function inputTensor(model: tf.GraphModel, input: WireTensor): tf.Tensor {
  const dtype = model.inputs[0]?.dtype;
  if (dtype === 'int32') return tf.tensor(Int32Array.from(input.data, Math.round), input.dims, 'int32');
  if (dtype !== undefined && dtype !== 'float32') throw new Error(`input ${model.inputs[0]?.name} is ${dtype}; lineside feeds float32 (or int32)`);
  return tf.tensor(input.data, input.dims, 'float32');
}

/** Output tensors as wire tensors in fresh buffers (transferable); int and bool values as numbers. */
export async function toWire(names: readonly string[], out: readonly tf.Tensor[]): Promise<Record<string, WireTensor>> {
  const result: Record<string, WireTensor> = {};
  for (let i = 0; i < out.length; i++) {
    const t = out[i]!;
    if (t.dtype === 'string') throw new Error(`output ${names[i]} is a string tensor; lineside reads numbers`);
    const values = (await t.data()) as Float32Array | Int32Array | Uint8Array;
    result[names[i] ?? `output${i}`] = { data: Float32Array.from(values), dims: [...t.shape] };
  }
  return result;
}
