/**
 * The taught anomaly model as an ONNX graph (PaDiM-style, with a local alignment search):
 *
 *   features F = per 8×8 patch (stride 2, model-input pixels) mean and standard deviation of R, G, B
 *   d²(x)      = min over shifts s in ±R cells of Σ_c (F_c(x + s) − μ_c(x))² · w_c(x)
 *   anomaly_map = clip(√d² / (2 · threshold), 0, 1)   — so 0.5 is the taught threshold
 *   pred_score  = max of anomaly_map
 *
 * μ and w (inverse shrunk variance) are per patch location, learnt from good parts only. The shift
 * search lets the card sit a few millimetres off (conveyor jitter, slight rotation) without a
 * separate registration step; it is the same search the fit uses to align its teaching images.
 */
import { attr, GraphBuilder } from '../onnx-writer/onnx-writer.js';

export const PATCH = 8;
export const STRIDE = 2;
export const FEATURES = 6;

export interface PadimGeometry {
  /** Model input size (the manifest's input.width/height). */
  readonly width: number;
  readonly height: number;
  /** Alignment search radius in feature cells (each STRIDE input pixels). */
  readonly radius: number;
}

export function featureSize(g: PadimGeometry): { fw: number; fh: number } {
  return { fw: Math.floor((g.width - PATCH) / STRIDE) + 1, fh: Math.floor((g.height - PATCH) / STRIDE) + 1 };
}

export interface PadimStats {
  /** [FEATURES, fh, fw] per-location means. */
  readonly mean: Float32Array;
  /** [FEATURES, fh, fw] per-location weights (inverse shrunk variance). */
  readonly weight: Float32Array;
  /** Raw distance (√d²) that maps to 0.5. */
  readonly threshold: number;
}

/** Adds the feature extractor to `b`, reading input "image" [1,3,H,W]; returns the feature tensor's name. */
function addFeatures(b: GraphBuilder, g: PadimGeometry): string {
  b.input('image', [1, 3, g.height, g.width]);
  const pool = { kernel_shape: attr.ints([PATCH, PATCH]), strides: attr.ints([STRIDE, STRIDE]) };
  const sq = b.node('Mul', ['image', 'image'], ['image_sq']);
  const mean = b.node('AveragePool', ['image'], ['patch_mean'], pool);
  const meanSq = b.node('AveragePool', [sq], ['patch_mean_sq'], pool);
  const m2 = b.node('Mul', [mean, mean], ['patch_mean_2']);
  const variance = b.node('Relu', [b.node('Sub', [meanSq, m2], ['patch_var_raw'])], ['patch_var']);
  const eps = b.floatTensor('var_eps', [], [1e-3]);
  const sd = b.node('Sqrt', [b.node('Add', [variance, eps], ['patch_var_eps'])], ['patch_sd']);
  return b.node('Concat', [mean, sd], ['features'], { axis: attr.int(1) });
}

/** Just the features [1, 6, fh, fw]: what the fit reads, computed by the very ops the model runs. */
export function buildFeatureModel(g: PadimGeometry): Uint8Array {
  const b = new GraphBuilder('padim_features');
  addFeatures(b, g);
  const { fw, fh } = featureSize(g);
  b.output('features', [1, FEATURES, fh, fw]);
  return b.encode({ docString: 'lineside teach: patch colour features (fit only)' });
}

/** The whole model: features, alignment search, Mahalanobis map, normalised map and score. */
export function buildPadimModel(g: PadimGeometry, stats: PadimStats, metadata: Record<string, string>): Uint8Array {
  const b = new GraphBuilder('padim_anomaly');
  const features = addFeatures(b, g);
  const { fw, fh } = featureSize(g);
  const r = g.radius;
  const mu = b.floatTensor('mu', [1, FEATURES, fh, fw], stats.mean);
  const w = b.floatTensor('w', [1, FEATURES, fh, fw], stats.weight);
  const padded = b.node('Pad', [features, b.int64Tensor('pads', [8], [0, 0, r, r, 0, 0, r, r])], ['features_padded'], { mode: attr.string('edge') });
  const axes = b.int64Tensor('slice_axes', [2], [2, 3]);
  const sumAxes = b.int64Tensor('sum_axes', [1], [1]);
  const dists: string[] = [];
  for (let dy = -r; dy <= r; dy++) {
    for (let dx = -r; dx <= r; dx++) {
      const k = `${dy + r}_${dx + r}`;
      const starts = b.int64Tensor(`start_${k}`, [2], [r + dy, r + dx]);
      const ends = b.int64Tensor(`end_${k}`, [2], [r + dy + fh, r + dx + fw]);
      const shifted = b.node('Slice', [padded, starts, ends, axes], [`shift_${k}`]);
      const diff = b.node('Sub', [shifted, mu], [`diff_${k}`]);
      const weighted = b.node('Mul', [b.node('Mul', [diff, diff], [`sq_${k}`]), w], [`wsq_${k}`]);
      dists.push(b.node('ReduceSum', [weighted, sumAxes], [`d2_${k}`], { keepdims: attr.int(1) }));
    }
  }
  const all = b.node('Concat', dists, ['d2_all'], { axis: attr.int(1) });
  const best = b.node('ReduceMin', [all], ['d2_min'], { axes: attr.ints([1]), keepdims: attr.int(1) });
  const raw = b.node('Sqrt', [best], ['raw_map']);
  const scaled = b.node('Mul', [raw, b.floatTensor('norm_scale', [], [1 / (2 * stats.threshold)])], ['scaled_map']);
  b.node('Clip', [scaled, b.floatTensor('clip_min', [], [0]), b.floatTensor('clip_max', [], [1])], ['anomaly_map']);
  const peak = b.node('ReduceMax', ['anomaly_map'], ['peak'], { axes: attr.ints([1, 2, 3]), keepdims: attr.int(0) });
  b.node('Reshape', [peak, b.int64Tensor('score_shape', [1], [1])], ['pred_score']);
  b.output('pred_score', [1]);
  b.output('anomaly_map', [1, 1, fh, fw]);
  return b.encode({ docString: 'lineside teach: PaDiM-style patch colour statistics from good parts, normalised so 0.5 is the threshold', metadata });
}
