/**
 * The cleaning classifier: how far does this view differ from a clean tray, where it matters?
 * A fitted mean clean image is subtracted, slow lighting changes (exposure, the sheen band, the
 * lamp gradient) are removed by a local-mean high-pass, the absolute residual is pooled into 8×8
 * cells inside the tray, and the peak and mean cell per channel feed a softmax regression. Residue
 * is local, so a peak survives where a whole-image average would drown it in lighting variation.
 */
import * as ort from 'onnxruntime-node';
import type { InputSpec } from '../../src/vision/preprocess.js';
import { Matrix, fit, fold, predict, standardiser } from './logistic.js';
import { GraphBuilder, attr } from '../../src/vision/onnx-writer/onnx-writer.js';
import type { ClassifierSample } from './train-data.js';

const CELL = 8;
const HIGH_PASS = 25;
/** Cells this far from the border see the tray rim, whose position jitters from view to view. */
const RIM_CELLS = 1;

export interface CleaningParams {
  readonly width: number;
  readonly height: number;
  readonly mean: Float32Array;
  readonly weights?: Float32Array;
  readonly bias?: Float32Array;
}

/** With `complete` false the graph stops at the six features (used while fitting). */
export function buildCleaningGraph(p: CleaningParams, complete: boolean): Uint8Array {
  const g = new GraphBuilder('cleaning-classifier');
  const { width: w, height: h } = p;
  const cw = w / CELL;
  const ch = h / CELL;
  g.input('images', [1, 3, h, w]);
  const diff = g.node('Sub', ['images', g.floatTensor('mean_clean', [1, 3, h, w], p.mean)], ['diff']);
  const half = (HIGH_PASS - 1) / 2;
  const local = g.node('AveragePool', [diff], ['local_mean'], {
    kernel_shape: attr.ints([HIGH_PASS, HIGH_PASS]),
    strides: attr.ints([1, 1]),
    pads: attr.ints([half, half, half, half]),
    count_include_pad: attr.int(0),
  });
  const detail = g.node('Abs', [g.node('Sub', [diff, local], ['high_pass'])], ['abs_residual']);
  const cells = g.node('AveragePool', [detail], ['cells'], { kernel_shape: attr.ints([CELL, CELL]), strides: attr.ints([CELL, CELL]) });
  const roi = Float32Array.from({ length: cw * ch }, (_, i) => {
    const x = i % cw;
    const y = Math.floor(i / cw);
    return x >= RIM_CELLS && y >= RIM_CELLS && x < cw - RIM_CELLS && y < ch - RIM_CELLS ? 1 : 0;
  });
  const inside = g.node('Mul', [cells, g.floatTensor('tray_roi', [1, 1, ch, cw], roi)], ['tray_cells']);
  const peak = g.node('GlobalMaxPool', [inside], ['peak']);
  const level = g.node('GlobalAveragePool', [inside], ['level']);
  const features = g.node('Flatten', [g.node('Concat', [peak, level], ['pooled'], { axis: attr.int(1) })], ['features'], { axis: attr.int(1) });
  if (!complete || !p.weights || !p.bias) {
    g.output(features, [1, 6]);
    return g.encode();
  }
  const logits = g.node('Gemm', [features, g.floatTensor('gemm_weight', [2, 6], p.weights), g.floatTensor('gemm_bias', [2], p.bias)], ['logits'], { transB: attr.int(1) });
  g.node('Softmax', [logits], ['probabilities'], { axis: attr.int(1) });
  g.output('probabilities', [1, 2]);
  return g.encode({
    producerVersion: '1.0.0',
    metadata: { description: 'Cleaning verification classifier: clean / residue', task: 'classify', imgsz: `[${h}, ${w}]`, names: "{0: 'clean', 1: 'residue'}" },
  });
}

export async function fitCleaning(samples: readonly ClassifierSample[], input: InputSpec, seed: number): Promise<{ params: CleaningParams; metrics: Record<string, unknown> }> {
  const size = 3 * input.width * input.height;
  const mean = new Float32Array(size);
  const clean = samples.filter((s) => s.classId === 0);
  for (const s of clean) for (let i = 0; i < size; i++) mean[i]! += s.tensor[i]! / clean.length;
  const base: CleaningParams = { width: input.width, height: input.height, mean };

  // Features come from the exported graph itself, so fitting and inference cannot disagree.
  const session = await ort.InferenceSession.create(Buffer.from(buildCleaningGraph(base, false)));
  const m = new Matrix(6, samples.length);
  try {
    for (const s of samples) {
      const out = await session.run({ images: new ort.Tensor('float32', s.tensor, [1, 3, input.height, input.width]) });
      m.data.set(out.features!.data as Float32Array, m.addRow());
    }
  } finally {
    await session.release();
  }
  const targets = [Int8Array.from(samples, (s) => s.classId)];
  const st = standardiser(m);
  const model = fit(m, st, targets, 'softmax', 2, { epochs: 300, learningRate: 0.05, l2: 1e-3, batch: 32, seed });
  let right = 0;
  for (let r = 0; r < m.rows; r++) if (predict(model, st, m, r, 'softmax')[1]! >= 0.5 === (targets[0]![r] === 1)) right++;
  const folded = fold(model, st);
  const weights = new Float32Array(12);
  folded.weights.forEach((w, k) => weights.set(w, k * 6));
  return {
    params: { ...base, weights, bias: folded.bias },
    metrics: { trainAccuracy: Math.round((right / m.rows) * 10000) / 10000, features: ['peak R', 'peak G', 'peak B', 'mean R', 'mean G', 'mean B'] },
  };
}
