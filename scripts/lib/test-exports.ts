/**
 * Small ONNX models with the output layouts of real exports (Ultralytics YOLOv8 detect/segment and
 * classify, YOLOv5, SSD, anomalib) and known content, for tests of the whole path: preprocessing →
 * worker → decoder → original-image coordinates. Nothing is learnt: each graph measures the image.
 *
 * Detectors: a pixel is *bright* when a channel reaches BRIGHT (0–1 scale). The model input is
 * split at its vertical centre line into a left and a right half, each reporting one object: the
 * bounding box of its bright pixels (exact model-input pixel edges), and scores
 * `white_cap` = white pixels / (bright pixels + SCORE_PRIOR) and `red_cap` = red pixels / (bright
 * pixels + SCORE_PRIOR), where white is bright in all channels and red in red only. A dark or grey
 * image scores 0. A third anchor repeats the left object shifted by DUPLICATE.shift with its scores
 * × DUPLICATE.factor: a duplicate NMS must remove. The other anchors are fixed low-score filler,
 * so no output is ever constant.
 */
import { GraphBuilder, attr, type Attribute } from '../../src/vision/onnx-writer/onnx-writer.js';
import { writeModel } from './model-files.js';
import type { ManifestInput } from '../../src/vision/manifest.js';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const BRIGHT = 0.75;
export const SCORE_PRIOR = 100;
export const DETECT_CLASSES = ['white_cap', 'red_cap'] as const;
export const DUPLICATE = { shift: [2, 1] as const, factor: 0.9 };
/** Ultralytics' package version written into `version` (autofill records it as the model version). */
export const ULTRALYTICS_VERSION = '8.3.40';
/** Segment: prototypes at 1/4 of the input; prototype 0 = 20 × (bright share of the cell − 0.5). */
export const PROTO_STRIDE = 4;
/** anomalib: raw pixel score = ANOMALY_GAIN × |max channel − 0.5|; pred_score = the map's maximum. */
export const ANOMALY_GAIN = 20;
export const ANOMALIB_NORMALIZATION = { threshold: 6, pixelThreshold: 5, min: 1, max: 11 } as const;
/** Classify: probabilities = softmax(CLASSIFY_GAIN × mean of each channel + CLASSIFY_BIAS). */
export const CLASSIFY_CLASSES = ['red', 'green', 'blue'] as const;
export const CLASSIFY_GAIN = 10;
export const CLASSIFY_BIAS = [0, 0.5, 1] as const;

/** Anchors of an Ultralytics head: one per cell of the stride 8, 16 and 32 grids. */
export function anchorCount(width: number, height = width): number {
  return [8, 16, 32].reduce((n, s) => n + Math.ceil(width / s) * Math.ceil(height / s), 0);
}

/** Named-by-counter nodes and constants over a GraphBuilder. */
class Net {
  #n = 0;
  constructor(readonly g: GraphBuilder) {}
  op(type: string, inputs: readonly string[], attributes: Record<string, Attribute> = {}, out?: string): string {
    return this.g.node(type, inputs, [out ?? `${type.toLowerCase()}_${this.#n++}`], attributes);
  }
  f(values: number | readonly number[], dims?: readonly number[]): string {
    const v = typeof values === 'number' ? [values] : values;
    return this.g.floatTensor(`c${this.#n++}`, dims ?? (typeof values === 'number' ? [] : [v.length]), v);
  }
  i64(values: readonly number[]): string {
    return this.g.int64Tensor(`i${this.#n++}`, [values.length], values);
  }
  reduce(type: string, x: string, axes?: readonly number[]): string {
    return this.op(type, [x], axes ? { axes: attr.ints(axes), keepdims: attr.int(1) } : { keepdims: attr.int(1) });
  }
  sum(x: string, axes?: readonly number[]): string {
    return this.op('ReduceSum', axes ? [x, this.i64(axes)] : [x], { keepdims: attr.int(1) });
  }
  slice(x: string, start: number, end: number, axis: number): string {
    return this.op('Slice', [x, this.i64([start]), this.i64([end]), this.i64([axis])]);
  }
  /** `[1, k, 1]` from `[1, kᵢ, 1, 1]` parts (one anchor's column). */
  column(parts: readonly string[]): string {
    return this.op('Reshape', [this.op('Concat', parts, { axis: attr.int(1) }), this.i64([1, -1, 1])]);
  }
}

interface PixelMaps {
  readonly bright: string;
  readonly white: string;
  readonly red: string;
}

/** Per-pixel 0/1 maps `[1,1,H,W]`: bright (any channel ≥ BRIGHT), white (all), red (red only). */
function pixelMaps(net: Net, images: string): PixelMaps {
  const b = net.op('Clip', [net.op('Mul', [net.op('Sub', [images, net.f(BRIGHT)]), net.f(1000)]), net.f(0), net.f(1)]);
  const red = net.op('Relu', [net.sum(net.op('Mul', [b, net.f([1, -1, -1], [1, 3, 1, 1])]), [1])]);
  return { bright: net.reduce('ReduceMax', b, [1]), white: net.reduce('ReduceMin', b, [1]), red };
}

/** One object's measures, each `[1,1,1,1]`, in model-input pixels. */
interface ObjectMeasures {
  readonly x1: string;
  readonly y1: string;
  readonly x2: string;
  readonly y2: string;
  readonly cx: string;
  readonly cy: string;
  readonly w: string;
  readonly h: string;
  /** Bright pixels / (bright pixels + SCORE_PRIOR). */
  readonly conf: string;
  readonly white: string;
  readonly red: string;
  /** Share of the bright pixels that are white / red (YOLOv5 class probabilities). */
  readonly whiteShare: string;
  readonly redShare: string;
}

/** Bounding box and scores of the bright pixels in columns [x0, x1) of a width × height input. */
function measure(net: Net, px: PixelMaps, width: number, height: number, x0: number, x1: number): ObjectMeasures {
  const cols = x1 - x0;
  const m = net.slice(px.bright, x0, x1, 3);
  const far = (any: string): string => net.op('Mul', [net.op('Sub', [net.f(1), any]), net.f(4 * Math.max(width, height))]);
  const colFar = far(net.reduce('ReduceMax', m, [2]));
  const rowFar = far(net.reduce('ReduceMax', m, [3]));
  const xs = (d: number) => net.f(Array.from({ length: cols }, (_, i) => x0 + i + d), [1, 1, 1, cols]);
  const ys = (d: number) => net.f(Array.from({ length: height }, (_, j) => j + d), [1, 1, height, 1]);
  const left = net.reduce('ReduceMin', net.op('Add', [xs(0), colFar]));
  const right = net.reduce('ReduceMax', net.op('Sub', [xs(1), colFar]));
  const top = net.reduce('ReduceMin', net.op('Add', [ys(0), rowFar]));
  const bottom = net.reduce('ReduceMax', net.op('Sub', [ys(1), rowFar]));
  const count = net.sum(m);
  const nWhite = net.sum(net.slice(px.white, x0, x1, 3));
  const nRed = net.sum(net.slice(px.red, x0, x1, 3));
  const prior = net.op('Add', [count, net.f(SCORE_PRIOR)]);
  const some = net.op('Add', [count, net.f(1e-6)]);
  const half = (a: string, b: string) => net.op('Mul', [net.op('Add', [a, b]), net.f(0.5)]);
  return {
    x1: left, y1: top, x2: right, y2: bottom,
    cx: half(left, right), cy: half(top, bottom), w: net.op('Sub', [right, left]), h: net.op('Sub', [bottom, top]),
    conf: net.op('Div', [count, prior]), white: net.op('Div', [nWhite, prior]), red: net.op('Div', [nRed, prior]),
    whiteShare: net.op('Div', [nWhite, some]), redShare: net.op('Div', [nRed, some]),
  };
}

/** The left and right halves' objects. */
function halves(net: Net, images: string, width: number, height = width): [ObjectMeasures, ObjectMeasures] {
  const px = pixelMaps(net, images);
  const mid = Math.floor(width / 2);
  return [measure(net, px, width, height, 0, mid), measure(net, px, width, height, mid, width)];
}

/** A fixed pseudo-random value in [0, 1) for filler anchors. */
function noise(i: number, row: number): number {
  const s = Math.sin(i * 12.9898 + row * 78.233) * 43758.5453;
  return s - Math.floor(s);
}

/** Filler for detect-style rows: boxes spread over the input, scores below 0.05. */
function boxFiller(size: number, boxRows: number): (i: number, row: number) => number {
  return (i, row) => (row < 2 ? 16 + noise(i, row) * (size - 32) : row < boxRows ? 8 + noise(i, row) * 24 : noise(i, row) * 0.05);
}

/**
 * `[1, rows, n]`: the given anchor columns at their indices, the rest filler. The left object sits
 * at 60 % of the anchors, the right one at 75 %, the duplicate last (where a head's stride-32 cells are).
 */
function anchorsTensor(net: Net, rows: number, n: number, cols: readonly string[], filler: (i: number, row: number) => number): string {
  const at = [Math.floor(n * 0.6), Math.floor(n * 0.75), n - 1].slice(0, cols.length);
  const parts: string[] = [];
  let next = 0;
  const fill = (end: number) => {
    if (end <= next) return;
    const len = end - next;
    const v = new Float32Array(rows * len);
    for (let r = 0; r < rows; r++) for (let i = 0; i < len; i++) v[r * len + i] = filler(next + i, r);
    parts.push(net.f(Array.from(v), [1, rows, len]));
  };
  at.forEach((index, k) => {
    fill(index);
    parts.push(cols[k]!);
    next = index + 1;
  });
  fill(n);
  return net.op('Concat', parts, { axis: attr.int(2) });
}

/** The left object's column again, box rows + `shift`, rows 4…4+scoreRows × DUPLICATE.factor. */
function duplicateOf(net: Net, col: string, rows: number, scoreRows: number, shift: readonly number[] = [...DUPLICATE.shift, 0, 0]): string {
  const scale = Array.from({ length: rows }, (_, r) => (r >= 4 && r < 4 + scoreRows ? DUPLICATE.factor : 1));
  const add = Array.from({ length: rows }, (_, r) => shift[r] ?? 0);
  return net.op('Add', [net.op('Mul', [col, net.f(scale, [1, rows, 1])]), net.f(add, [1, rows, 1])]);
}

/** Python's repr of a str, as in str(dict). */
function pyStr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  return quote + s.replace(/\\/g, '\\\\').replace(new RegExp(quote, 'g'), `\\${quote}`) + quote;
}

/** metadata_props as Ultralytics' exporter writes them (str() of Python values); `imgsz` is [h, w]. */
export function ultralyticsMetadata(task: 'detect' | 'segment' | 'classify', names: readonly string[], width: number, height = width): Record<string, string> {
  const model = task === 'detect' ? 'YOLOv8n' : `YOLOv8n-${task === 'segment' ? 'seg' : 'cls'}`;
  return {
    description: `Ultralytics ${model} model trained on lineside-caps.yaml`,
    author: 'Ultralytics',
    date: '2025-01-15T10:00:00.000000',
    version: ULTRALYTICS_VERSION,
    license: 'AGPL-3.0 License (https://ultralytics.com/license)',
    docs: 'https://docs.ultralytics.com',
    stride: '32',
    task,
    batch: '1',
    imgsz: `[${height}, ${width}]`,
    names: `{${names.map((n, i) => `${i}: ${pyStr(n)}`).join(', ')}}`,
    args: "{'batch': 1, 'half': False, 'int8': False, 'dynamic': False, 'simplify': True, 'nms': False}",
    channels: '3',
  };
}

/**
 * Ultralytics YOLOv8 detect: `images` [1,3,h,w] → `output0` [1, 4 + nc, N], rows cx, cy, w, h,
 * class scores. `dynamic`: the shapes are symbolic (`export(dynamic=True)`), so only `imgsz` says
 * the input size (the graph itself still needs width × height).
 */
export function yolov8DetectExport(opts: { width?: number; height?: number; dynamic?: boolean } = {}): Uint8Array {
  const width = opts.width ?? 320;
  const height = opts.height ?? width;
  const n = anchorCount(width, height);
  const rows = 4 + DETECT_CLASSES.length;
  const g = new GraphBuilder('main_graph')
    .input('images', opts.dynamic ? ['batch', 3, 'height', 'width'] : [1, 3, height, width])
    .output('output0', opts.dynamic ? ['batch', rows, 'anchors'] : [1, rows, n]);
  const net = new Net(g);
  const cols = halves(net, 'images', width, height).map((o) => net.column([o.cx, o.cy, o.w, o.h, o.white, o.red]));
  const head = anchorsTensor(net, rows, n, [...cols, duplicateOf(net, cols[0]!, rows, 2)], boxFiller(Math.min(width, height), 4));
  net.op('Identity', [head], {}, 'output0');
  return g.encode({ producerVersion: '1.17.0', metadata: ultralyticsMetadata('detect', DETECT_CLASSES, width, height) });
}

/**
 * YOLOv5: `images` → `output0` [1, N, 5 + nc], columns cx, cy, w, h, objectness (= bright pixels /
 * (bright + SCORE_PRIOR)), class probabilities (share of white / red among the bright pixels).
 * With `metadata`, YOLOv5's own metadata_props (`stride`, `names`; no `task`).
 */
export function yolov5Export(opts: { size?: number; metadata?: boolean } = {}): Uint8Array {
  const size = opts.size ?? 320;
  const n = 3 * anchorCount(size);
  const rows = 5 + DETECT_CLASSES.length;
  const g = new GraphBuilder('main_graph').input('images', [1, 3, size, size]).output('output0', [1, n, rows]);
  const net = new Net(g);
  const cols = halves(net, 'images', size).map((o) => net.column([o.cx, o.cy, o.w, o.h, o.conf, o.whiteShare, o.redShare]));
  const head = anchorsTensor(net, rows, n, [...cols, duplicateOf(net, cols[0]!, rows, 1)], boxFiller(size, 4));
  net.op('Transpose', [head], { perm: attr.ints([0, 2, 1]) }, 'output0');
  const names = `{${DETECT_CLASSES.map((c, i) => `${i}: ${pyStr(c)}`).join(', ')}}`;
  return g.encode({ producerVersion: '1.13.1', ...(opts.metadata ? { metadata: { stride: '32', names } } : {}) });
}

/**
 * Ultralytics YOLOv8-seg: `output0` [1, 4 + nc + nm, N] and prototypes `output1` [1, nm, s/4, s/4].
 * Prototype 0 is 20 × (bright share of the 4×4 cell − 0.5) and the objects' coefficients are
 * [1, 0, …]: an object's mask is the cells at least half bright inside its box.
 */
export function yolov8SegExport(size = 320, nm = 32): Uint8Array {
  const n = anchorCount(size);
  const nc = DETECT_CLASSES.length;
  const rows = 4 + nc + nm;
  const ps = size / PROTO_STRIDE;
  const g = new GraphBuilder('main_graph').input('images', [1, 3, size, size]).output('output0', [1, rows, n]).output('output1', [1, nm, ps, ps]);
  const net = new Net(g);
  const coeffs = net.f([1, ...new Array<number>(nm - 1).fill(0)], [1, nm, 1, 1]);
  const cols = halves(net, 'images', size).map((o) => net.column([o.cx, o.cy, o.w, o.h, o.white, o.red, coeffs]));
  const head = anchorsTensor(net, rows, n, [...cols, duplicateOf(net, cols[0]!, rows, nc)], (i, r) =>
    r < 4 + nc ? boxFiller(size, 4)(i, r) : noise(i, r) - 0.5,
  );
  net.op('Identity', [head], {}, 'output0');
  const bright = pixelMaps(net, 'images').bright;
  const pooled = net.op('AveragePool', [bright], { kernel_shape: attr.ints([PROTO_STRIDE, PROTO_STRIDE]), strides: attr.ints([PROTO_STRIDE, PROTO_STRIDE]) });
  const proto0 = net.op('Mul', [net.op('Sub', [pooled, net.f(0.5)]), net.f(20)]);
  const rest = Array.from({ length: nm - 1 }, (_, j) => j);
  const others = net.op('Add', [
    net.op('Mul', [proto0, net.f(rest.map((j) => 0.1 + 0.01 * j), [1, nm - 1, 1, 1])]),
    net.f(rest.map((j) => noise(j, 99) - 0.5), [1, nm - 1, 1, 1]),
  ]);
  net.op('Concat', [proto0, others], { axis: attr.int(1) }, 'output1');
  return g.encode({ producerVersion: '1.17.0', metadata: ultralyticsMetadata('segment', DETECT_CLASSES, size) });
}

export type SsdBoxFormat = 'xyxy' | 'yxyx' | 'cxcywh';
export const SSD_CLASSES = ['background', ...DETECT_CLASSES] as const;

/**
 * SSD-style: `boxes` [1, N, 4] normalised to 0–1 of the input in `format`, `scores` [1, N, 3]
 * probabilities [background, white_cap, red_cap] (background = 1 − the others). Input s × s.
 */
export function ssdExport(opts: { size?: number; format?: SsdBoxFormat } = {}): Uint8Array {
  const size = opts.size ?? 300;
  const format = opts.format ?? 'xyxy';
  const n = 500;
  const g = new GraphBuilder('ssd').input('input', [1, 3, size, size]).output('boxes', [1, n, 4]).output('scores', [1, n, SSD_CLASSES.length]);
  const net = new Net(g);
  const cols = halves(net, 'input', size).map((o) => {
    const box = { xyxy: [o.x1, o.y1, o.x2, o.y2], yxyx: [o.y1, o.x1, o.y2, o.x2], cxcywh: [o.cx, o.cy, o.w, o.h] }[format];
    const bg = net.op('Sub', [net.op('Sub', [net.f(1), o.white]), o.red]);
    return net.column([...box, bg, o.white, o.red]);
  });
  // The duplicate moves DUPLICATE.shift (x, y) in model pixels, whichever the column order.
  const [dx, dy] = DUPLICATE.shift;
  const shift = { xyxy: [dx, dy, dx, dy], yxyx: [dy, dx, dy, dx], cxcywh: [dx, dy, 0, 0] }[format];
  const filler = (i: number, r: number) => (r < 4 ? noise(i, r) * size * 0.9 : r === 4 ? 1 : noise(i, r) * 0.05);
  const pixels = anchorsTensor(net, 7, n, [...cols, duplicateOf(net, cols[0]!, 7, 3, shift)], filler);
  const normalised = net.op('Mul', [pixels, net.f([...new Array<number>(4).fill(1 / size), 1, 1, 1], [1, 7, 1])]);
  const all = net.op('Transpose', [normalised], { perm: attr.ints([0, 2, 1]) });
  net.op('Slice', [all, net.i64([0]), net.i64([4]), net.i64([2])], {}, 'boxes');
  net.op('Slice', [all, net.i64([4]), net.i64([7]), net.i64([2])], {}, 'scores');
  return g.encode({ producerVersion: '2.2.0' });
}

/**
 * anomalib-style: `input` [1,3,s,s] → `pred_score` [1] and `anomaly_map` [1,1,s,s]; raw pixel
 * score ANOMALY_GAIN × |max channel − 0.5| (grey ≈ 0, white or black 10), pred_score its maximum.
 * `normalization`: `metadata` writes ANOMALIB_NORMALIZATION as anomalib's keys (image_threshold,
 * pixel_threshold, min, max); `none` writes nothing; `in-model` normalises inside the graph.
 */
export function anomalibExport(opts: { size?: number; normalization?: 'metadata' | 'none' | 'in-model' } = {}): Uint8Array {
  const size = opts.size ?? 256;
  const how = opts.normalization ?? 'metadata';
  const g = new GraphBuilder('torch_jit').input('input', [1, 3, size, size]).output('pred_score', [1]).output('anomaly_map', [1, 1, size, size]);
  const net = new Net(g);
  const raw = net.op('Mul', [net.op('Abs', [net.op('Sub', [net.reduce('ReduceMax', 'input', [1]), net.f(0.5)])]), net.f(ANOMALY_GAIN)]);
  const score = net.op('Reshape', [net.reduce('ReduceMax', raw), net.i64([1])]);
  const { threshold, pixelThreshold, min, max } = ANOMALIB_NORMALIZATION;
  const norm = (x: string, t: number) => net.op('Clip', [net.op('Add', [net.op('Mul', [net.op('Sub', [x, net.f(t)]), net.f(1 / (max - min))]), net.f(0.5)]), net.f(0), net.f(1)]);
  net.op('Identity', [how === 'in-model' ? norm(score, threshold) : score], {}, 'pred_score');
  net.op('Identity', [how === 'in-model' ? norm(raw, pixelThreshold) : raw], {}, 'anomaly_map');
  const metadata = { image_threshold: String(threshold), pixel_threshold: String(pixelThreshold), min: String(min), max: String(max) };
  return g.encode({ producerVersion: '2.1.0', ...(how === 'metadata' ? { metadata } : {}) });
}

/** Ultralytics classify: `images` [1,3,s,s] → `output0` [1,3] = softmax(CLASSIFY_GAIN × channel means + CLASSIFY_BIAS). */
export function classifyExport(size = 224): Uint8Array {
  const g = new GraphBuilder('main_graph').input('images', [1, 3, size, size]).output('output0', [1, CLASSIFY_CLASSES.length]);
  const net = new Net(g);
  const means = net.op('ReduceMean', ['images'], { axes: attr.ints([2, 3]), keepdims: attr.int(0) });
  const logits = net.op('Add', [net.op('Mul', [means, net.f(CLASSIFY_GAIN)]), net.f(CLASSIFY_BIAS, [1, 3])]);
  net.op('Softmax', [logits], { axis: attr.int(-1) }, 'output0');
  return g.encode({ producerVersion: '1.17.0', metadata: ultralyticsMetadata('classify', CLASSIFY_CLASSES, size) });
}

/**
 * `<dir>/<name>.onnx`, and with a manifest (sha256 added, checked by the appliance's schema) the
 * `<name>.json` beside it. Without one the model must describe itself.
 */
export async function writeTestExport(dir: string, name: string, onnx: Uint8Array, manifest?: Omit<ManifestInput, 'sha256' | 'name'>): Promise<string> {
  if (manifest) await writeModel(dir, onnx, { ...manifest, name });
  else await writeFile(join(dir, `${name}.onnx`), onnx);
  return join(dir, `${name}.onnx`);
}
