/**
 * The taught anomaly model as an ONNX graph (PaDiM-style, with a local alignment search):
 *
 *   features F = per 8×8 patch (stride 2, model-input pixels) mean and standard deviation of R, G, B,
 *                as percent of the 72×72 surround's mean (lighting cancels)
 *   d²(x)      = Σ_c (F_c(x + s*) − μ_c(x))² · w_c(x), s* = the shift in ±R cells minimising Σ_x d²
 *   anomaly_map = clip(√d² / (2 · threshold), 0, 1)   — so 0.5 is the taught threshold
 *   pred_score  = max of anomaly_map
 *
 * μ and w (inverse shrunk variance) are per patch location, learnt from good parts only. The global
 * shift search registers the card (conveyor jitter) inside the graph; it is the same search the fit
 * uses to align its teaching images. A per-location search was tried first: it let a speck on the
 * foil match a pocket rim nearby and hid it.
 */
import { attr, GraphBuilder } from '../onnx-writer/onnx-writer.js';

export const PATCH = 8;
export const STRIDE = 2;
export const FEATURES = 6;
/** Side of the surround each patch is normalised by (model-input pixels; PATCH + an even margin). */
export const LOCAL = 72;
/** Box smoothing of the distance map, in cells. */
export const SMOOTH = 5;

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
  // Lighting: each patch relative to its surroundings (percent of the LOCAL-pixel mean around it), so
  // exposure, lamp gradients and vignetting cancel and only local contrast and colour remain.
  const pad = (LOCAL - PATCH) / 2;
  const local = b.node('AveragePool', ['image'], ['local_mean'], { kernel_shape: attr.ints([LOCAL, LOCAL]), strides: attr.ints([STRIDE, STRIDE]), pads: attr.ints([pad, pad, pad, pad]) });
  const gain = b.node('Div', [b.floatTensor('percent', [], [100]), b.node('Add', [local, b.floatTensor('local_eps', [], [1])], ['local_mean_eps'])], ['local_gain']);
  const relMean = b.node('Mul', [mean, gain], ['rel_mean']);
  const relSd = b.node('Mul', [sd, gain], ['rel_sd']);
  return b.node('Concat', [relMean, relSd], ['features'], { axis: attr.int(1) });
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
  // One shift for the whole image (the card moves as a whole): the one whose map sums lowest.
  const all = b.node('Concat', dists, ['d2_all'], { axis: attr.int(1) });
  const totals = b.node('ReduceSum', [all, b.int64Tensor('map_axes', [2], [2, 3])], ['d2_totals'], { keepdims: attr.int(1) });
  const lowest = b.node('ReduceMin', [totals], ['d2_lowest'], { axes: attr.ints([1]), keepdims: attr.int(1) });
  const chosen = b.node('Cast', [b.node('Equal', [totals, lowest], ['shift_is_best'])], ['shift_mask'], { to: attr.int(1) });
  const picked = b.node('ReduceSum', [b.node('Mul', [all, chosen], ['d2_masked']), sumAxes], ['d2_picked'], { keepdims: attr.int(1) });
  const ties = b.node('ReduceSum', [chosen, sumAxes], ['shift_ties'], { keepdims: attr.int(1) });
  const best = b.node('Div', [picked, ties], ['d2_min']);
  // Smoothed as PaDiM smooths its map: a defect covers neighbouring patches, a noise spike does not.
  const half = (SMOOTH - 1) / 2;
  const smooth = b.node('AveragePool', [best], ['d2_smooth'], { kernel_shape: attr.ints([SMOOTH, SMOOTH]), strides: attr.ints([1, 1]), pads: attr.ints([half, half, half, half]) });
  const raw = b.node('Sqrt', [smooth], ['raw_map']);
  const scaled = b.node('Mul', [raw, b.floatTensor('norm_scale', [], [1 / (2 * stats.threshold)])], ['scaled_map']);
  b.node('Clip', [scaled, b.floatTensor('clip_min', [], [0]), b.floatTensor('clip_max', [], [1])], ['anomaly_map']);
  const peak = b.node('ReduceMax', ['anomaly_map'], ['peak'], { axes: attr.ints([1, 2, 3]), keepdims: attr.int(0) });
  b.node('Reshape', [peak, b.int64Tensor('score_shape', [1], [1])], ['pred_score']);
  b.output('pred_score', [1]);
  b.output('anomaly_map', [1, 1, fh, fw]);
  return b.encode({ docString: 'lineside teach: PaDiM-style patch colour statistics from good parts, normalised so 0.5 is the threshold', metadata });
}
