/**
 * Logistic regression fitted by mini-batch Adam, in plain TypeScript: one-vs-rest sigmoids for the
 * window detectors and a multinomial softmax for the cleaning classifier. Features are centred per
 * column and scaled by one global factor during fitting; `fold` turns the result back into weights
 * on raw inputs so the exported graph needs no normalisation step.
 */
import { Rng } from './rng.js';

/** Row-major feature matrix that can grow (hard negatives are appended between rounds). */
export class Matrix {
  data: Float32Array;
  rows = 0;

  constructor(
    readonly cols: number,
    capacity = 1024,
  ) {
    this.data = new Float32Array(cols * capacity);
  }

  /** Reserve the next row and return its offset for the caller to fill. */
  addRow(): number {
    if ((this.rows + 1) * this.cols > this.data.length) {
      const grown = new Float32Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    return this.rows++ * this.cols;
  }
}

export interface Standardiser {
  readonly mean: Float64Array;
  readonly scale: number;
}

export function standardiser(m: Matrix): Standardiser {
  const mean = new Float64Array(m.cols);
  for (let r = 0; r < m.rows; r++) for (let j = 0; j < m.cols; j++) mean[j]! += m.data[r * m.cols + j]!;
  for (let j = 0; j < m.cols; j++) mean[j]! /= m.rows;
  let ss = 0;
  for (let r = 0; r < m.rows; r++) for (let j = 0; j < m.cols; j++) ss += (m.data[r * m.cols + j]! - mean[j]!) ** 2;
  return { mean, scale: Math.sqrt(ss / (m.rows * m.cols)) || 1 };
}

export interface FitOptions {
  readonly epochs: number;
  readonly learningRate: number;
  /** L2 penalty on the weights (not the bias), per sample. */
  readonly l2: number;
  readonly batch: number;
  readonly seed: number;
  /** One-vs-rest: share of the total sample weight given to positives (0.5 balances the classes). */
  readonly positiveShare?: number;
}

export interface LinearModel {
  /** weights[k][j] on standardised features; use `fold` for raw-input weights. */
  readonly weights: Float64Array[];
  readonly bias: Float64Array;
}

/**
 * Targets: for one-vs-rest, targets[k][row] is 1, 0, or -1 (ignored for class k); for softmax,
 * targets[0][row] is the class index. Each class's positives and negatives are weighted to equal
 * total weight so rare defects are not drowned by background windows.
 */
export function fit(
  m: Matrix,
  st: Standardiser,
  targets: readonly Int8Array[],
  kind: 'ovr' | 'softmax',
  classes: number,
  opts: FitOptions,
  start?: LinearModel,
): LinearModel {
  const d = m.cols;
  const weights = start ? start.weights.map((w) => Float64Array.from(w)) : Array.from({ length: classes }, () => new Float64Array(d));
  const bias = start ? Float64Array.from(start.bias) : new Float64Array(classes);
  const sampleWeight = balance(targets, kind, classes, m.rows, opts.positiveShare ?? 0.5);
  const mW = weights.map(() => new Float64Array(d));
  const vW = weights.map(() => new Float64Array(d));
  const mB = new Float64Array(classes);
  const vB = new Float64Array(classes);
  const grad = weights.map(() => new Float64Array(d));
  const gB = new Float64Array(classes);
  const xs = standardise(m, st);
  const z = new Float64Array(classes);
  const rng = new Rng(opts.seed);
  const b1 = 0.9;
  const b2 = 0.999;
  let step = 0;

  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    const order = rng.shuffle([...Array(m.rows).keys()]);
    for (let at = 0; at < order.length; at += opts.batch) {
      const batch = order.slice(at, at + opts.batch);
      for (const g of grad) g.fill(0);
      gB.fill(0);
      let wsum = 0;
      for (const row of batch) {
        const off = row * d;
        for (let k = 0; k < classes; k++) {
          const w = weights[k]!;
          let s = bias[k]!;
          for (let j = 0; j < d; j++) s += w[j]! * xs[off + j]!;
          z[k] = s;
        }
        const errs = errors(z, targets, row, kind, classes);
        for (let k = 0; k < classes; k++) {
          const e = errs[k]!;
          if (e === 0) continue;
          const sw = sampleWeight[k]![row]! * e;
          const g = grad[k]!;
          for (let j = 0; j < d; j++) g[j]! += sw * xs[off + j]!;
          gB[k]! += sw;
        }
        wsum += 1;
      }
      step++;
      const lr = (opts.learningRate * Math.sqrt(1 - b2 ** step)) / (1 - b1 ** step);
      for (let k = 0; k < classes; k++) {
        const w = weights[k]!;
        const g = grad[k]!;
        const mk = mW[k]!;
        const vk = vW[k]!;
        for (let j = 0; j < d; j++) {
          const gj = g[j]! / wsum + opts.l2 * w[j]!;
          mk[j] = b1 * mk[j]! + (1 - b1) * gj;
          vk[j] = b2 * vk[j]! + (1 - b2) * gj * gj;
          w[j]! -= (lr * mk[j]!) / (Math.sqrt(vk[j]!) + 1e-8);
        }
        const gb = gB[k]! / wsum;
        mB[k] = b1 * mB[k]! + (1 - b1) * gb;
        vB[k] = b2 * vB[k]! + (1 - b2) * gb * gb;
        bias[k]! -= (lr * mB[k]!) / (Math.sqrt(vB[k]!) + 1e-8);
      }
    }
  }
  return { weights, bias };
}

/** Scores (sigmoid for ovr, softmax probabilities otherwise) of one raw feature row. */
export function predict(model: LinearModel, st: Standardiser, m: Matrix, row: number, kind: 'ovr' | 'softmax'): number[] {
  const d = m.cols;
  const z = model.weights.map((w, k) => {
    let s = model.bias[k]!;
    for (let j = 0; j < d; j++) s += w[j]! * ((m.data[row * d + j]! - st.mean[j]!) / st.scale);
    return s;
  });
  if (kind === 'ovr') return z.map(sigmoid);
  const top = Math.max(...z);
  const e = z.map((v) => Math.exp(v - top));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

/** Weights and biases that act on raw (unstandardised) features, for export. */
export function fold(model: LinearModel, st: Standardiser): { weights: Float32Array[]; bias: Float32Array } {
  const weights = model.weights.map((w) => Float32Array.from(w, (v) => v / st.scale));
  const bias = Float32Array.from(model.bias, (b, k) => {
    let s = b;
    const w = model.weights[k]!;
    for (let j = 0; j < w.length; j++) s -= (w[j]! * st.mean[j]!) / st.scale;
    return s;
  });
  return { weights, bias };
}

function errors(z: Float64Array, targets: readonly Int8Array[], row: number, kind: 'ovr' | 'softmax', classes: number): number[] {
  if (kind === 'ovr') {
    return targets.map((t, k) => {
      const y = t[row]!;
      return y < 0 ? 0 : sigmoid(z[k]!) - y;
    });
  }
  const y = targets[0]![row]!;
  let top = -Infinity;
  for (let k = 0; k < classes; k++) top = Math.max(top, z[k]!);
  let sum = 0;
  const p: number[] = [];
  for (let k = 0; k < classes; k++) {
    p.push(Math.exp(z[k]! - top));
    sum += p[k]!;
  }
  return p.map((v, k) => v / sum - (k === y ? 1 : 0));
}

/** Per-class sample weights giving positives the chosen share of the total weight (mean weight 1). */
function balance(targets: readonly Int8Array[], kind: 'ovr' | 'softmax', classes: number, rows: number, share: number): Float32Array[] {
  if (kind === 'softmax') {
    const counts = new Array<number>(classes).fill(0);
    for (let r = 0; r < rows; r++) counts[targets[0]![r]!]! += 1;
    const w = Float32Array.from({ length: rows }, (_, r) => rows / (classes * counts[targets[0]![r]!]!));
    return Array.from({ length: classes }, () => w);
  }
  return targets.map((t) => {
    let pos = 0;
    let neg = 0;
    for (let r = 0; r < rows; r++) {
      if (t[r] === 1) pos++;
      else if (t[r] === 0) neg++;
    }
    return Float32Array.from({ length: rows }, (_, r) => (t[r] === 1 ? ((pos + neg) * share) / pos : t[r] === 0 ? ((pos + neg) * (1 - share)) / neg : 0));
  });
}

/** One standardised copy per fit: the epochs then read plain floats instead of recomputing. */
function standardise(m: Matrix, st: Standardiser): Float32Array {
  const d = m.cols;
  const out = new Float32Array(m.rows * d);
  for (let r = 0; r < m.rows; r++) for (let j = 0; j < d; j++) out[r * d + j] = (m.data[r * d + j]! - st.mean[j]!) / st.scale;
  return out;
}

export function sigmoid(v: number): number {
  return 1 / (1 + Math.exp(-v));
}
