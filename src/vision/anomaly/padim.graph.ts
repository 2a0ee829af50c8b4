/**
 * The taught anomaly model as an ONNX graph (PaDiM-style, on the registered part):
 *
 *   registration = the part found as a blob, resampled upright and centred (register.graph.ts)
 *   features F   = per patch, R, G, B mean and standard deviation over 8×8 pixels of the part
 *                  downsampled 2× (16×16 camera-scale pixels) and over 8×8 pixels at full
 *                  resolution, on one grid every 4 pixels, as percent of the 72×72 (downsampled)
 *                  surround's mean, so lighting cancels
 *   d²(x)        = Σ_c (F_c(x + s*) − μ_c(x))² · w_c(x), s* = the shift in ±R cells minimising Σ_x d²
 *   anomaly_map  = clip(√(box-smoothed d²) / (2 · threshold), 0, 1) — so 0.5 is the taught threshold —
 *                  resampled back onto the camera image
 *   pred_score   = max of the map (before resampling)
 *
 * μ and w (inverse shrunk variance, zero outside the part's outline) are per location, learnt from
 * good parts only. The residual shift search mops up what registration leaves (a pixel or two). A
 * per-location search was tried first: it let a speck on the foil match a pocket rim nearby and hid it.
 */
import { attr, GraphBuilder } from '../onnx-writer/onnx-writer.js';
import { addRimProfile, addRimScore, ANGLES, RIM_FEATURES, type DiscLayout, type RimStats } from './disc.graph.js';
import { addGrey, addMapToImage, addPose, addRegistration, CELL, type PoseTensors, type Registration } from './register.graph.js';

export const PATCH = 8;
export const STRIDE = 2;
/** Box downsampling of the (registered) image before the coarse features. */
export const POOL = 2;
/** R, G, B mean and sd of the coarse patch, and again of the fine patch at full resolution. */
export const FEATURES = 12;
/** Side of the surround each patch is normalised by (model-input pixels; PATCH + an even margin). */
export const LOCAL = 72;
/** Box smoothing of the distance map, in cells. */
export const SMOOTH = 5;

export interface PadimGeometry {
  /** Model input size (the manifest's input.width/height). */
  readonly width: number;
  readonly height: number;
  /** Alignment search radius in feature cells (each STRIDE · pool input pixels). */
  readonly radius: number;
  /** Part registration into a canonical window before the features (none: the whole input as it is). */
  readonly register?: Registration;
}

/** Size of the image the features are computed on: the canonical window (or input), downsampled. */
export function featureInputSize(g: PadimGeometry): { width: number; height: number } {
  const pool = POOL;
  const w = g.register?.width ?? g.width;
  const h = g.register?.height ?? g.height;
  return { width: Math.floor(w / pool), height: Math.floor(h / pool) };
}

export function featureSize(g: PadimGeometry): { fw: number; fh: number } {
  const { width, height } = featureInputSize(g);
  return { fw: Math.floor((width - PATCH) / STRIDE) + 1, fh: Math.floor((height - PATCH) / STRIDE) + 1 };
}

export interface PadimStats {
  /** [FEATURES, fh, fw] per-location means. */
  readonly mean: Float32Array;
  /** [FEATURES, fh, fw] per-location weights (inverse shrunk variance). */
  readonly weight: Float32Array;
  /** Raw distance (√d²) that maps to 0.5. */
  readonly threshold: number;
  /** The rim check of the part's round sub-parts (disc.graph.ts), when it has any. */
  readonly rim?: RimStats;
}

/** Adds the feature extractor to `b`, reading input "image" [1,3,H,W]; returns the feature tensor's name. */
function addFeatures(b: GraphBuilder, g: PadimGeometry): { features: string; pose?: PoseTensors; canonical?: string } {
  b.input('image', [1, 3, g.height, g.width]);
  const reg = g.register ? addRegistration(b, 'image', g, g.register) : undefined;
  const full = reg?.canonical ?? 'image';
  const src = b.node('AveragePool', [full], ['feature_input'], { kernel_shape: attr.ints([POOL, POOL]), strides: attr.ints([POOL, POOL]) });
  const { mean, sd } = addPatchStats(b, src, PATCH, STRIDE, 'patch', false);
  // Lighting: each patch relative to its surroundings (percent of the LOCAL-pixel mean around it), so
  // exposure, lamp gradients and vignetting cancel and only local contrast and colour remain.
  const pad = (LOCAL - PATCH) / 2;
  // Separable (a column of LOCAL, then a row of LOCAL): the same box mean, padding not counted,
  // at 2 · LOCAL instead of LOCAL² additions per output (86 of 109 ms per frame as one 72×72 pool).
  // Each as a difference of running sums: a LOCAL × 1 pool walks memory across rows (10 ms), and a
  // 1 × LOCAL pool still adds LOCAL values per output (1 ms; the sums take a tenth of that).
  const input = featureInputSize(g);
  const column = addBoxMean(b, src, 2, input.height, LOCAL, STRIDE, pad, 'local_mean_v');
  const local = addBoxMean(b, column, 3, input.width, LOCAL, STRIDE, pad, 'local_mean');
  const gain = b.node('Div', [b.floatTensor('percent', [], [100]), b.node('Add', [local, b.floatTensor('local_eps', [], [1])], ['local_mean_eps'])], ['local_gain']);
  const parts = [b.node('Mul', [mean, gain], ['rel_mean']), b.node('Mul', [sd, gain], ['rel_sd'])];
  // The same grid at full resolution: PATCH × PATCH pixels centred where each coarse patch is, for
  // what is smaller than a coarse patch (a speck, a chip out of a tablet's rim).
  const { fw, fh } = featureSize(g);
  const off = (POOL * PATCH - PATCH) / 2;
  const shifted = b.node('Slice', [full, b.int64Tensor('fine_start', [2], [off, off]), b.int64Tensor('fine_end', [2], [1 << 30, 1 << 30]), b.int64Tensor('fine_axes', [2], [2, 3])], ['fine_input']);
  const fine = addPatchStats(b, shifted, PATCH, STRIDE * POOL, 'fine', true);
  const crop = (t: string, name: string): string =>
    b.node('Slice', [t, b.int64Tensor(`${name}_s`, [2], [0, 0]), b.int64Tensor(`${name}_e`, [2], [fh, fw]), b.int64Tensor(`${name}_a`, [2], [2, 3])], [name]);
  parts.push(b.node('Mul', [crop(fine.mean, 'fine_mean_c'), gain], ['rel_fine_mean']), b.node('Mul', [crop(fine.sd, 'fine_sd_c'), gain], ['rel_fine_sd']));
  return { features: b.node('Concat', parts, ['features'], { axis: attr.int(1) }), pose: reg?.pose, canonical: reg?.canonical };
}

/**
 * A one-axis AveragePool along `axis` (2: a column of `kernel`, 3: a row) with `stride` and `pad`
 * at both ends (padding not counted) over `src` (`length` along that axis), as CumSum and two gathers.
 */
function addBoxMean(b: GraphBuilder, src: string, axis: 2 | 3, length: number, kernel: number, stride: number, pad: number, name: string): string {
  const rows = length;
  const count = Math.floor((rows + 2 * pad - kernel) / stride) + 1;
  const starts: number[] = [];
  const ends: number[] = [];
  const sizes: number[] = [];
  for (let i = 0; i < count; i++) {
    const s = Math.max(0, i * stride - pad);
    const e = Math.min(rows, i * stride - pad + kernel);
    starts.push(s);
    ends.push(e);
    sizes.push(e - s);
  }
  // A zero line first, so line k of the sums is the total of the first k lines.
  const zeroRow = b.node('Mul', [b.node('Slice', [src, b.int64Tensor(`${name}_z_s`, [1], [0]), b.int64Tensor(`${name}_z_e`, [1], [1]), b.int64Tensor(`${name}_z_a`, [1], [axis])], [`${name}_row0`]), b.floatTensor(`${name}_zero`, [], [0])], [`${name}_zero_row`]);
  const sums = b.node('Concat', [zeroRow, b.node('CumSum', [src, b.int64Tensor(`${name}_axis`, [], [axis])], [`${name}_cumsum`])], [`${name}_sums`], { axis: attr.int(axis) });
  const at = (idx: readonly number[], tag: string): string => b.node('Gather', [sums, b.int64Tensor(`${name}_${tag}`, [count], idx)], [`${name}_at_${tag}`], { axis: attr.int(axis) });
  const total = b.node('Sub', [at(ends, 'end'), at(starts, 'start')], [`${name}_total`]);
  return b.node('Mul', [total, b.floatTensor(`${name}_inv_n`, axis === 2 ? [1, 1, count, 1] : [1, 1, 1, count], sizes.map((n) => 1 / n))], [name]);
}

/**
 * Mean and standard deviation of each channel over `patch` × `patch` windows every `stride` pixels.
 * `separable`: a column of `patch`, then a row of the column means, the same box mean at
 * 2 · patch instead of patch² additions per output, columns first (a row pool costs twice a column
 * pool's per output, so it goes where there are `stride` times fewer): 1.1 instead of 2.6 ms on the
 * full-resolution window, slower than one pool on the half-resolution one.
 */
function addPatchStats(b: GraphBuilder, src: string, patch: number, stride: number, prefix: string, separable: boolean): { mean: string; sd: string } {
  const rows = { kernel_shape: attr.ints([1, patch]), strides: attr.ints([1, stride]) };
  const columns = { kernel_shape: attr.ints([patch, 1]), strides: attr.ints([stride, 1]) };
  const square = { kernel_shape: attr.ints([patch, patch]), strides: attr.ints([stride, stride]) };
  const boxMean = (t: string, name: string): string =>
    separable ? b.node('AveragePool', [b.node('AveragePool', [t], [`${name}_columns`], columns)], [name], rows) : b.node('AveragePool', [t], [name], square);
  const sq = b.node('Mul', [src, src], [`${prefix}_sq`]);
  const mean = boxMean(src, `${prefix}_mean`);
  const meanSq = boxMean(sq, `${prefix}_mean_sq`);
  const m2 = b.node('Mul', [mean, mean], [`${prefix}_mean_2`]);
  const variance = b.node('Relu', [b.node('Sub', [meanSq, m2], [`${prefix}_var_raw`])], [`${prefix}_var`]);
  const sd = b.node('Sqrt', [b.node('Add', [variance, b.floatTensor(`${prefix}_var_eps`, [], [1e-3])], [`${prefix}_var_eps_add`])], [`${prefix}_sd`]);
  return { mean, sd };
}

/**
 * The pose probe teaching runs first: the 4×4-cell grey image (to choose the threshold on) and the
 * blob's centroid, angle, moments and area under a given threshold.
 */
export function buildPoseModel(size: { width: number; height: number }, reg: Pick<Registration, 'threshold' | 'polarity' | 'rotate'>): Uint8Array {
  const b = new GraphBuilder('padim_pose');
  b.input('image', [1, 3, size.height, size.width]);
  const p = addPose(b, 'image', size, reg);
  for (const [name, t] of Object.entries({ cx: p.cx, cy: p.cy, angle: p.angle, mu20: p.mu20, mu02: p.mu02, area: p.area })) {
    b.node('Reshape', [t, b.int64Tensor(`${name}_shape`, [1], [1])], [name]);
    b.output(name, [1]);
  }
  b.output(p.cells, [1, 1, Math.floor(size.height / CELL), Math.floor(size.width / CELL)]);
  return b.encode({ docString: 'lineside teach: part pose probe (teaching only)' });
}

/**
 * Just the features [1, 6, fh, fw]: what the fit reads, computed by the very ops the model runs;
 * with registration also the share of each patch that is the part (`coverage` [1, 1, fh, fw]) and
 * the canonical window's grey (`canonical_grey` [1, 1, H, W], where round sub-parts are looked for).
 */
export function buildFeatureModel(g: PadimGeometry): Uint8Array {
  const b = new GraphBuilder('padim_features');
  const { canonical } = addFeatures(b, g);
  if (g.register && canonical) {
    addGrey(b, canonical, 'canonical_grey');
    b.output('canonical_grey', [1, 1, g.register.height, g.register.width]);
  }
  const { fw, fh } = featureSize(g);
  b.output('features', [1, FEATURES, fh, fw]);
  if (g.register) {
    const down = POOL;
    let fg = 'reg_px_fg';
    if (down > 1) fg = b.node('AveragePool', [fg], ['coverage_input'], { kernel_shape: attr.ints([down, down]), strides: attr.ints([down, down]) });
    b.node('AveragePool', [fg], ['coverage'], { kernel_shape: attr.ints([PATCH, PATCH]), strides: attr.ints([STRIDE, STRIDE]) });
    b.output('coverage', [1, 1, fh, fw]);
  }
  return b.encode({ docString: 'lineside teach: patch colour features (fit only)' });
}

/** The rim deficits [K, 2, 1, ANGLES] of the registered part's discs: what the rim fit reads. */
export function buildRimModel(g: PadimGeometry & { register: Registration }, layout: DiscLayout): Uint8Array {
  const b = new GraphBuilder('padim_rim');
  b.input('image', [1, 3, g.height, g.width]);
  const { canonical } = addRegistration(b, 'image', g, g.register);
  b.output(addRimProfile(b, canonical, g.register, layout), [layout.discs.length, RIM_FEATURES, 1, ANGLES]);
  return b.encode({ docString: 'lineside teach: rim deficits of the round sub-parts (fit only)' });
}

/** The whole model: features, alignment search, Mahalanobis map, normalised map and score. */
export function buildPadimModel(g: PadimGeometry, stats: PadimStats, metadata: Record<string, string>): Uint8Array {
  const b = new GraphBuilder('padim_anomaly');
  const { features, pose, canonical } = addFeatures(b, g);
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
  const down = POOL;
  const step = STRIDE * down;
  const origin = (down * PATCH) / 2 - step / 2;
  const rim = g.register && canonical && stats.rim ? { stats: stats.rim, profile: addRimProfile(b, canonical, g.register, stats.rim.layout) } : undefined;
  const mapName = g.register ? 'canonical_map' : 'anomaly_map';
  let clipped = b.node('Clip', [scaled, b.floatTensor('clip_min', [], [0]), b.floatTensor('clip_max', [], [1])], [rim ? 'padim_map' : mapName]);
  // The rim check's score joins the map over the disc it found, so the evidence marks the tablet.
  if (rim) clipped = addRimScore(b, rim.profile, clipped, rim.stats, { mw: fw, mh: fh }, (i) => origin + step * i + step / 2, mapName);
  const peak = b.node('ReduceMax', [clipped], ['peak'], { axes: attr.ints([1, 2, 3]), keepdims: attr.int(0) });
  b.node('Reshape', [peak, b.int64Tensor('score_shape', [1], [1])], ['pred_score']);
  b.output('pred_score', [1]);
  if (g.register && pose) {
    // The map goes back onto the camera's image, so the evidence marks the defect where it is.
    addMapToImage(b, clipped, { mw: fw, mh: fh, step, origin }, g, g.register, pose, 'anomaly_map');
    b.output('anomaly_map', [1, 1, Math.floor(g.height / CELL), Math.floor(g.width / CELL)]);
  } else {
    b.output('anomaly_map', [1, 1, fh, fw]);
  }
  return b.encode({ docString: 'lineside teach: PaDiM-style patch colour statistics from good parts, normalised so 0.5 is the threshold', metadata });
}
