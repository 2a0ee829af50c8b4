/**
 * Sliding-window detector shape shared by fitting and export. The input is 2×2 average-pooled and
 * photometrically normalised (local luminance mean and contrast), then each class is scored by one
 * or more linear classifiers over a k×k×3 window: one output channel each of a strided Conv. A
 * class with several classifiers (one per appearance, such as the direction a tablet broke) takes
 * their maximum. The graph emits the tensor of an Ultralytics YOLOv8 detect export,
 * [1, 4 + nc, N] with rows cx, cy, w, h and class scores, so the yolov8 decoder reads it unchanged.
 */
import { GraphBuilder, attr } from '../../src/vision/onnx-writer/onnx-writer.js';

/** Classes that share a window size; their class ids must be contiguous. */
export interface WindowGroup {
  readonly classIds: readonly number[];
  /** Window side in pooled pixels (even, so the window centre lands on the anchor grid). */
  readonly kernel: number;
  /** Linear classifiers per class (their maximum is the class score); 1 when absent. */
  readonly components?: readonly number[];
}

export interface DetectorSpec {
  readonly name: string;
  readonly version: string;
  readonly classes: readonly string[];
  readonly groups: readonly WindowGroup[];
  /** Square model input side in pixels. */
  readonly size: number;
  /** Anchor spacing in model pixels. */
  readonly stride: number;
  /** Side of the local window (pooled pixels, odd) for luminance normalisation. */
  readonly normaliseWindow: number;
  readonly description: string;
  readonly licence: string;
}

/** Input pixels averaged per feature pixel (each side). */
export const POOL = 2;

/** One group's classifiers on the normalised feature map, laid out like Conv weights [channels, 3, k, k]. */
export interface GroupParams {
  readonly weights: Float32Array;
  readonly bias: Float32Array;
}

export function componentsOf(group: WindowGroup): number[] {
  return group.classIds.map((_, i) => group.components?.[i] ?? 1);
}

/** Conv output channels of a group. */
export function channelCount(group: WindowGroup): number {
  return componentsOf(group).reduce((a, b) => a + b, 0);
}

/** Class scores from one window's channel probabilities, as the graph combines them. */
export function classScores(group: WindowGroup, channels: readonly number[]): number[] {
  let at = 0;
  return componentsOf(group).map((count) => {
    const best = Math.max(...channels.slice(at, at + count));
    at += count;
    return best;
  });
}

export function featureSide(spec: DetectorSpec): number {
  return spec.size / POOL;
}

/** Anchors per side; the Conv pads make every window size produce the same grid. */
export function gridSide(spec: DetectorSpec): number {
  return Math.floor((spec.size - 4) / spec.stride) + 1;
}

/** Anchor centre in model pixels: stride·i + 2 on both axes. */
export function anchorCentre(spec: DetectorSpec, index: number): { x: number; y: number } {
  const side = gridSide(spec);
  return { x: (index % side) * spec.stride + 2, y: Math.floor(index / side) * spec.stride + 2 };
}

/** Top-left feature pixel of the k-window centred (to the nearest pixel) on a model-pixel point. */
export function windowAt(x: number, y: number, k: number): { u: number; v: number } {
  return { u: Math.round(x / POOL - k / 2), v: Math.round(y / POOL - k / 2) };
}

/** Model-pixel centre of the k-window whose top-left feature pixel is (u, v). */
export function windowCentre(u: number, v: number, k: number): { x: number; y: number } {
  return { x: POOL * (u + k / 2), y: POOL * (v + k / 2) };
}

/** Copy the k×k window at (u, v) of a CHW feature map into `out`; outside reads 0 as Conv pads do. */
export function extractWindow(feat: Float32Array, side: number, u: number, v: number, k: number, out: Float32Array, offset: number): void {
  let o = offset;
  for (let c = 0; c < 3; c++) {
    const plane = c * side * side;
    for (let y = v; y < v + k; y++) {
      const inside = y >= 0 && y < side;
      for (let x = u; x < u + k; x++) out[o++] = inside && x >= 0 && x < side ? feat[plane + y * side + x]! : 0;
    }
  }
}

/** Pooling and normalisation, shared by the detector and the feature graph used while fitting. */
function addFeatures(g: GraphBuilder, spec: DetectorSpec): string {
  const pooled = g.node('AveragePool', ['images'], ['pooled'], { kernel_shape: attr.ints([POOL, POOL]), strides: attr.ints([POOL, POOL]) });
  const n = spec.normaliseWindow;
  const h = (n - 1) / 2;
  // A box mean done as a row pass then a column pass: the same average (padding excluded) for a
  // fraction of the work of one n×n pool.
  const boxMean = (input: string, name: string): string => {
    const rows = g.node('AveragePool', [input], [`${name}_rows`], { kernel_shape: attr.ints([1, n]), strides: attr.ints([1, 1]), pads: attr.ints([0, h, 0, h]), count_include_pad: attr.int(0) });
    return g.node('AveragePool', [rows], [name], { kernel_shape: attr.ints([n, 1]), strides: attr.ints([1, 1]), pads: attr.ints([h, 0, h, 0]), count_include_pad: attr.int(0) });
  };
  const lum = g.node('ReduceMean', [pooled], ['luminance'], { axes: attr.ints([1]), keepdims: attr.int(1) });
  const centred = g.node('Sub', [pooled, boxMean(lum, 'local_mean')], ['centred']);
  const power = g.node('ReduceMean', [g.node('Mul', [centred, centred], ['squared'])], ['power'], { axes: attr.ints([1]), keepdims: attr.int(1) });
  const variance = boxMean(power, 'local_variance');
  // The floor keeps flat regions (letterbox padding, conveyor) from being amplified into noise.
  const spread = g.node('Sqrt', [g.node('Add', [variance, g.floatTensor('contrast_floor', [1], [0.001])], ['variance_floored'])], ['local_contrast']);
  return g.node('Div', [centred, spread], ['features']);
}

/** The normalised feature map alone, [1, 3, size/2, size/2], for extracting training windows. */
export function buildFeatureGraph(spec: DetectorSpec): Uint8Array {
  const g = new GraphBuilder(`${spec.name}-features`);
  g.input('images', [1, 3, spec.size, spec.size]);
  const f = addFeatures(g, spec);
  g.output(f, [1, 3, featureSide(spec), featureSide(spec)]);
  return g.encode();
}

export function buildDetectorGraph(spec: DetectorSpec, params: readonly GroupParams[]): Uint8Array {
  const g = new GraphBuilder(spec.name);
  const side = gridSide(spec);
  const n = side * side;
  const nc = spec.classes.length;
  const total = n * spec.groups.length;
  g.input('images', [1, 3, spec.size, spec.size]);
  const features = addFeatures(g, spec);

  const boxes = new Float32Array(4 * total);
  const perGroup: string[] = [];
  spec.groups.forEach((group, gi) => {
    const k = group.kernel;
    const p = params[gi]!;
    const comps = componentsOf(group);
    const channels = channelCount(group);
    const pad = k / 2 - 2 / POOL;
    const conv = g.node('Conv', [features, g.floatTensor(`g${gi}_weight`, [channels, 3, k, k], p.weights), g.floatTensor(`g${gi}_bias`, [channels], p.bias)], [`g${gi}_conv`], {
      kernel_shape: attr.ints([k, k]),
      strides: attr.ints([spec.stride / POOL, spec.stride / POOL]),
      pads: attr.ints([pad, pad, pad, pad]),
    });
    let prob = g.node('Sigmoid', [conv], [`g${gi}_sigmoid`]);
    if (channels > group.classIds.length) prob = maxPerClass(g, `g${gi}`, prob, comps);
    const flat = g.node('Reshape', [prob, g.int64Tensor(`g${gi}_shape`, [3], [1, group.classIds.length, n])], [`g${gi}_scores`]);
    const first = group.classIds[0]!;
    const rows = [zeros(g, `g${gi}_above`, first, n), flat, zeros(g, `g${gi}_below`, nc - first - group.classIds.length, n)].filter((r) => r !== undefined);
    perGroup.push(rows.length === 1 ? flat : g.node('Concat', rows, [`g${gi}_rows`], { axis: attr.int(1) }));
    for (let a = 0; a < n; a++) {
      const { x, y } = anchorCentre(spec, a);
      const col = gi * n + a;
      boxes[col] = x;
      boxes[total + col] = y;
      boxes[2 * total + col] = k * POOL;
      boxes[3 * total + col] = k * POOL;
    }
  });
  const scores = perGroup.length === 1 ? perGroup[0]! : g.node('Concat', perGroup, ['scores'], { axis: attr.int(2) });
  g.node('Concat', [g.floatTensor('anchor_boxes', [1, 4, total], boxes), scores], ['output0'], { axis: attr.int(1) });
  g.output('output0', [1, 4 + nc, total]);

  const names = spec.classes.map((c, i) => `${i}: '${c}'`).join(', ');
  return g.encode({
    producerVersion: spec.version,
    docString: spec.description,
    metadata: {
      description: spec.description,
      author: 'lineside (scripts/make-models.ts)',
      version: spec.version,
      license: spec.licence,
      task: 'detect',
      stride: String(spec.stride),
      batch: '1',
      imgsz: `[${spec.size}, ${spec.size}]`,
      names: `{${names}}`,
    },
  });
}

/** Split the sigmoid channels by class and keep each class's best component. */
function maxPerClass(g: GraphBuilder, prefix: string, prob: string, comps: readonly number[]): string {
  const parts = comps.map((_, i) => `${prefix}_class${i}_parts`);
  g.node('Split', [prob, g.int64Tensor(`${prefix}_split`, [comps.length], [...comps])], parts, { axis: attr.int(1) });
  const best = parts.map((p, i) => (comps[i] === 1 ? p : g.node('ReduceMax', [p], [`${prefix}_class${i}_best`], { axes: attr.ints([1]), keepdims: attr.int(1) })));
  return g.node('Concat', best, [`${prefix}_classes`], { axis: attr.int(1) });
}

/** Rows of zero scores for the classes another group answers, made by Expand rather than stored. */
function zeros(g: GraphBuilder, name: string, rows: number, n: number): string | undefined {
  if (rows === 0) return undefined;
  const scalar = g.floatTensor(`${name}_zero`, [1, 1, 1], [0]);
  return g.node('Expand', [scalar, g.int64Tensor(`${name}_shape`, [3], [1, rows, n])], [name]);
}
