/**
 * A minimal TF.js graph-model writer: a GraphDef in JSON (the form tensorflowjs_converter writes
 * into model.json, proto3 JSON mapping: int64 as strings, bytes as base64) plus one weights shard
 * and its weightsManifest. Enough to build small test models that TF.js's graph executor runs.
 *
 * `writeBrightnessModel` writes the project's test model: an NHWC RGB image in [0,1] classified
 * dark/bright by its mean luma, with outputs computable exactly by `brightnessExpected`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export type TfDtype = 'float32' | 'int32';
const DT: Record<TfDtype, string> = { float32: 'DT_FLOAT', int32: 'DT_INT32' };

/** AttrValue in proto3 JSON. */
export type AttrJson =
  | { type: string }
  | { shape: { dim?: Array<{ size: string }>; unknownRank?: boolean } }
  | { list: { i: string[] } }
  | { s: string }
  | { b: boolean }
  | { i: string }
  | { f: number };

export const tfAttr = {
  dtype: (d: TfDtype): AttrJson => ({ type: DT[d] }),
  /** null or -1: an unknown dimension. */
  shape: (dims: ReadonlyArray<number | null>): AttrJson => ({ shape: { dim: dims.map((d) => ({ size: String(d ?? -1) })) } }),
  ints: (v: readonly number[]): AttrJson => ({ list: { i: v.map(String) } }),
  string: (s: string): AttrJson => ({ s: Buffer.from(s, 'utf8').toString('base64') }),
  bool: (b: boolean): AttrJson => ({ b }),
  int: (i: number): AttrJson => ({ i: String(i) }),
  float: (f: number): AttrJson => ({ f }),
};

interface NodeDef {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, AttrJson>;
}

interface Weight {
  name: string;
  shape: number[];
  dtype: TfDtype;
  values: Float32Array | Int32Array;
}

export interface GraphModelFiles {
  /** The model.json object. */
  readonly modelJson: Record<string, unknown>;
  /** The single weights shard. */
  readonly weights: Uint8Array;
  readonly shardName: string;
}

/** Builds a GraphDef node by node; Const values go to the weights shard, in order. */
export class TfjsGraphBuilder {
  readonly #nodes: NodeDef[] = [];
  readonly #weights: Weight[] = [];

  placeholder(name: string, shape: ReadonlyArray<number | null>, dtype: TfDtype = 'float32'): string {
    this.#nodes.push({ name, op: 'Placeholder', attr: { dtype: tfAttr.dtype(dtype), shape: tfAttr.shape(shape) } });
    return name;
  }

  /** A Const node; its values live in the weights shard under the node's name. */
  constant(name: string, shape: readonly number[], values: readonly number[] | Float32Array | Int32Array, dtype: TfDtype = 'float32'): string {
    const n = shape.reduce((a, b) => a * b, 1);
    if (values.length !== n) throw new Error(`constant ${name}: ${values.length} values for shape [${shape.join(',')}]`);
    const typed = dtype === 'int32' ? Int32Array.from(values) : Float32Array.from(values);
    this.#nodes.push({ name, op: 'Const', attr: { dtype: tfAttr.dtype(dtype), value: { tensor: { dtype: DT[dtype], tensorShape: { dim: shape.map((d) => ({ size: String(d) })) } } } as unknown as AttrJson } });
    this.#weights.push({ name, shape: [...shape], dtype, values: typed });
    return name;
  }

  op(name: string, op: string, inputs: readonly string[], attr: Record<string, AttrJson> = {}): string {
    this.#nodes.push({ name, op, input: [...inputs], attr });
    return name;
  }

  /** model.json (format graph-model) and its shard. `signature` is written as given, if any. */
  build(opts: { shardName?: string; signature?: Record<string, unknown> } = {}): GraphModelFiles {
    const shardName = opts.shardName ?? 'group1-shard1of1.bin';
    const bytes = new Uint8Array(this.#weights.reduce((a, w) => a + w.values.byteLength, 0));
    let at = 0;
    for (const w of this.#weights) {
      bytes.set(new Uint8Array(w.values.buffer, w.values.byteOffset, w.values.byteLength), at);
      at += w.values.byteLength;
    }
    const modelJson: Record<string, unknown> = {
      format: 'graph-model',
      generatedBy: 'lineside scripts/lib/tfjs-writer.ts',
      convertedBy: null,
      modelTopology: { node: this.#nodes, library: {}, versions: { producer: 1, minConsumer: 0 } },
      weightsManifest: [{ paths: [shardName], weights: this.#weights.map((w) => ({ name: w.name, shape: w.shape, dtype: w.dtype })) }],
    };
    if (opts.signature) modelJson['signature'] = opts.signature;
    return { modelJson, weights: bytes, shardName };
  }
}

/** Write model.json and its shard into `dir` (created); returns model.json's path. */
export async function writeGraphModel(dir: string, files: GraphModelFiles): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, 'model.json');
  await writeFile(path, JSON.stringify(files.modelJson));
  await writeFile(join(dir, files.shardName), files.weights);
  return path;
}

/** The test model's fixed facts. */
export const BRIGHTNESS = {
  height: 8,
  width: 8,
  classes: ['dark', 'bright'] as const,
  /** Luma weights of the 1×1 convolution (BT.601). */
  luma: [0.299, 0.587, 0.114] as const,
  /** Logit slope: logit(bright) − logit(dark) = 2·GAIN·(mean luma − THRESHOLD). */
  gain: 10,
  threshold: 0.5,
  input: 'image',
  outputs: ['probs', 'label'] as const,
};

/**
 * image [N,8,8,3] (N free) → Conv2D 1×1 (luma) → Relu → Mean over H,W → [N,1]
 * → MatMul [1,2] → BiasAdd → `probs` = Softmax [N,2] and `label` = ArgMax (int32) [N]
 * (g = `gain`, default BRIGHTNESS.gain).
 * logits = [−g·(m−t), g·(m−t)] for mean luma m, so probs[1] = σ(2g(m−t)).
 */
export function brightnessGraph(gain: number = BRIGHTNESS.gain): TfjsGraphBuilder {
  const { threshold: t, luma } = BRIGHTNESS;
  const g = gain;
  const b = new TfjsGraphBuilder();
  const x = b.placeholder(BRIGHTNESS.input, [null, BRIGHTNESS.height, BRIGHTNESS.width, 3]);
  const k = b.constant('luma/kernel', [1, 1, 3, 1], luma);
  const conv = b.op('luma/Conv2D', 'Conv2D', [x, k], {
    T: tfAttr.dtype('float32'),
    strides: tfAttr.ints([1, 1, 1, 1]),
    padding: tfAttr.string('VALID'),
    data_format: tfAttr.string('NHWC'),
    dilations: tfAttr.ints([1, 1, 1, 1]),
  });
  const relu = b.op('luma/Relu', 'Relu', [conv], { T: tfAttr.dtype('float32') });
  const axes = b.constant('mean/axes', [2], [1, 2], 'int32');
  const mean = b.op('mean/Mean', 'Mean', [relu, axes], { T: tfAttr.dtype('float32'), Tidx: tfAttr.dtype('int32'), keep_dims: tfAttr.bool(false) });
  const w = b.constant('dense/kernel', [1, 2], [-g, g]);
  const bias = b.constant('dense/bias', [2], [g * t, -g * t]);
  const mm = b.op('dense/MatMul', 'MatMul', [mean, w], { T: tfAttr.dtype('float32'), transpose_a: tfAttr.bool(false), transpose_b: tfAttr.bool(false) });
  const logits = b.op('dense/BiasAdd', 'BiasAdd', [mm, bias], { T: tfAttr.dtype('float32'), data_format: tfAttr.string('NHWC') });
  b.op('probs', 'Softmax', [logits], { T: tfAttr.dtype('float32') });
  const dim = b.constant('label/dimension', [], [1], 'int32');
  b.op('label', 'ArgMax', [logits, dim], { T: tfAttr.dtype('float32'), Tidx: tfAttr.dtype('int32'), output_type: tfAttr.dtype('int32') });
  return b;
}

/** `gain` 0 gives a dead model: probs are [0.5, 0.5] whatever the image. */
export function writeBrightnessModel(dir: string, gain: number = BRIGHTNESS.gain): Promise<string> {
  return writeGraphModel(dir, brightnessGraph(gain).build());
}

/** The outputs the brightness model must give for `image` (NHWC float data, N images), in float64. */
export function brightnessExpected(image: ArrayLike<number>, n = 1): { probs: number[]; label: number[]; meanLuma: number[] } {
  const { height: h, width: w, luma, gain: g, threshold: t } = BRIGHTNESS;
  const probs: number[] = [];
  const label: number[] = [];
  const meanLuma: number[] = [];
  for (let b = 0; b < n; b++) {
    let sum = 0;
    for (let p = 0; p < h * w; p++) {
      const o = (b * h * w + p) * 3;
      sum += Math.max(0, luma[0] * image[o]! + luma[1] * image[o + 1]! + luma[2] * image[o + 2]!);
    }
    const m = sum / (h * w);
    const z = g * (m - t);
    const pBright = 1 / (1 + Math.exp(-2 * z));
    probs.push(1 - pBright, pBright);
    label.push(z > 0 ? 1 : 0);
    meanLuma.push(m);
  }
  return { probs, label, meanLuma };
}

/** A layers-model model.json (what tf.loadLayersModel reads): the graph runner must refuse it. */
export function layersModelJson(): Record<string, unknown> {
  return {
    format: 'layers-model',
    generatedBy: 'keras v2.15.0',
    convertedBy: 'TensorFlow.js Converter v4.22.0',
    modelTopology: {
      class_name: 'Sequential',
      config: { name: 'sequential', layers: [{ class_name: 'Dense', config: { units: 2, activation: 'softmax', batch_input_shape: [null, 3] } }] },
      keras_version: '2.15.0',
      backend: 'tensorflow',
    },
    weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: [{ name: 'dense/kernel', shape: [3, 2], dtype: 'float32' }, { name: 'dense/bias', shape: [2], dtype: 'float32' }] }],
  };
}
