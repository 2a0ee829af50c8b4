/**
 * Part registration inside the anomaly model ("fixturing", as a locate tool fixtures an inspection):
 * the part is found as a blob against its background, and its centroid and principal axis — from
 * the blob's image moments — define a rigid transform that resamples the part into a canonical,
 * upright window before any feature is computed. Conveyor jitter and a slight rotation then no
 * longer reach the per-location statistics.
 *
 *   mask      = sigmoid(polarity · (grey₄ − T) / SOFTNESS)      grey averaged over 4×4 cells
 *   centroid  = Σ mask · (x, y) / Σ mask
 *   angle     = ½ · atan(2 μ₁₁ / (μ₂₀ − μ₀₂))                    (0 when the part is too round to say)
 *   canonical = GridSample(image, centroid + R(angle) · (u, v))  bilinear, border padding
 *
 * Angles are limited to ±45° by the arctangent: enough for a card on a conveyor or a vial in a
 * star wheel, and the taught model says so in its manifest.
 */
import { attr, type GraphBuilder } from '../onnx-writer/onnx-writer.js';

/** Cell side for the blob moments, in model-input pixels. */
export const CELL = 4;
/** Width of the soft threshold, grey levels: a noisy edge pixel counts partly, never flips. */
const SOFTNESS = 6;
/** Closing of the pixel mask, pixels: wider than a pocket rim, a tear or a fibre. */
const CLOSING = 9;

export interface Registration {
  /** Grey level separating part from background (0–255). */
  readonly threshold: number;
  /** 1 when the part is brighter than its background, -1 when darker. */
  readonly polarity: 1 | -1;
  /** Rotate to the principal axis (false for a part too round for its axis to mean anything). */
  readonly rotate: boolean;
  /** Canonical window in model-input pixels (the part, upright and centred, plus a margin). */
  readonly width: number;
  readonly height: number;
}

export interface Pose {
  readonly cx: number;
  readonly cy: number;
  readonly angle: number;
  /** Second central moments (input pixels²) and the blob's area share of the image. */
  readonly mu20: number;
  readonly mu02: number;
  readonly area: number;
}

function cellCoordinates(w: number, h: number): { xs: Float32Array; ys: Float32Array; cw: number; ch: number } {
  const cw = Math.floor(w / CELL);
  const ch = Math.floor(h / CELL);
  const xs = new Float32Array(cw * ch);
  const ys = new Float32Array(cw * ch);
  for (let y = 0; y < ch; y++) {
    for (let x = 0; x < cw; x++) {
      // Continuous coordinates, pixel i covering [i, i + 1): a cell's centre.
      xs[y * cw + x] = CELL * x + CELL / 2;
      ys[y * cw + x] = CELL * y + CELL / 2;
    }
  }
  return { xs, ys, cw, ch };
}

/** The 4×4-cell grey image [1,1,h/4,w/4] of input `image` [1,3,h,w] (what the threshold is chosen on). */
export function addCellGrey(b: GraphBuilder, image: string): string {
  // Pooled first, then grey: the same mean, over 16× fewer pixels.
  const pooled = b.node('AveragePool', [image], ['reg_cells_rgb'], { kernel_shape: attr.ints([CELL, CELL]), strides: attr.ints([CELL, CELL]) });
  return addGrey(b, pooled, 'reg_cells');
}

/**
 * Mean of the three channels, [n,3,h,w] → [n,1,h,w], as the planes added one to another: a channel
 * ReduceMean strides across planes, and a 1×1 convolution pads to 8 blocked channels and back
 * (1.2 ms on a 496 × 280 window; the sums take a third of that).
 */
export function addGrey(b: GraphBuilder, image: string, out: string): string {
  const axis = b.int64Tensor(`${out}_axis`, [1], [1]);
  const plane = (c: number): string => b.node('Slice', [image, b.int64Tensor(`${out}_s${c}`, [1], [c]), b.int64Tensor(`${out}_e${c}`, [1], [c + 1]), axis], [`${out}_c${c}`]);
  const sum = b.node('Add', [b.node('Add', [plane(0), plane(1)], [`${out}_rg`]), plane(2)], [`${out}_sum`]);
  return b.node('Mul', [sum, b.floatTensor(`${out}_third`, [], [1 / 3])], [out]);
}

/**
 * Adds the pose estimate; returns the names of the [1,1,1,1] tensors cx, cy (input pixels),
 * cos and sin of the angle, plus the moments for teaching.
 */
export function addPose(
  b: GraphBuilder,
  image: string,
  size: { width: number; height: number },
  reg: Pick<Registration, 'threshold' | 'polarity' | 'rotate'>,
): { cx: string; cy: string; cos: string; sin: string; angle: string; mu20: string; mu02: string; area: string; cells: string } {
  const { xs, ys, cw, ch } = cellCoordinates(size.width, size.height);
  const cells = addCellGrey(b, image);
  const centred = b.node('Sub', [cells, b.floatTensor('reg_threshold', [], [reg.threshold])], ['reg_centred']);
  const raw = b.node('Sigmoid', [b.node('Mul', [centred, b.floatTensor('reg_gain', [], [reg.polarity / SOFTNESS])], ['reg_logit'])], ['reg_mask_raw']);
  const mask = addClosing(b, raw, 3, 'reg_mask');
  const X = b.floatTensor('reg_x', [1, 1, ch, cw], xs);
  const Y = b.floatTensor('reg_y', [1, 1, ch, cw], ys);
  const axes = b.int64Tensor('reg_axes', [2], [2, 3]);
  const sum = (t: string, name: string): string => b.node('ReduceSum', [t, axes], [name], { keepdims: attr.int(1) });
  const m00 = b.node('Add', [sum(mask, 'reg_m00_raw'), b.floatTensor('reg_eps', [], [1e-3])], ['reg_m00']);
  const mean = (t: string, name: string): string => b.node('Div', [sum(b.node('Mul', [mask, t], [`${name}_w`]), `${name}_sum`), m00], [name]);
  const cx = mean(X, 'reg_cx');
  const cy = mean(Y, 'reg_cy');
  const dx = b.node('Sub', [X, cx], ['reg_dx']);
  const dy = b.node('Sub', [Y, cy], ['reg_dy']);
  const mu20 = mean(b.node('Mul', [dx, dx], ['reg_dxx']), 'reg_mu20');
  const mu02 = mean(b.node('Mul', [dy, dy], ['reg_dyy']), 'reg_mu02');
  const mu11 = mean(b.node('Mul', [dx, dy], ['reg_dxy']), 'reg_mu11');
  const area = b.node('Div', [m00, b.floatTensor('reg_cells_n', [], [cw * ch])], ['reg_area']);
  let angle: string;
  if (reg.rotate) {
    const ratio = b.node('Div', [b.node('Add', [mu11, mu11], ['reg_2mu11']), b.node('Sub', [mu20, mu02], ['reg_mu_diff'])], ['reg_ratio']);
    angle = b.node('Mul', [b.node('Atan', [ratio], ['reg_2angle']), b.floatTensor('reg_half', [], [0.5])], ['reg_angle']);
  } else {
    angle = b.node('Mul', [mu11, b.floatTensor('reg_zero', [], [0])], ['reg_angle']);
  }
  const cos = b.node('Cos', [angle], ['reg_cos']);
  const sin = b.node('Sin', [angle], ['reg_sin']);
  return { cx, cy, cos, sin, angle, mu20, mu02, area, cells };
}

/** Grey-level closing of a [0,1] mask with a k × k square (k odd): MaxPool, then −MaxPool(−x). */
function addClosing(b: GraphBuilder, mask: string, k: number, out: string): string {
  const h = (k - 1) / 2;
  const pool = { kernel_shape: attr.ints([k, k]), strides: attr.ints([1, 1]), pads: attr.ints([h, h, h, h]) };
  const dilated = b.node('MaxPool', [mask], [`${out}_dilated`], pool);
  const neg = b.node('Neg', [dilated], [`${out}_neg`]);
  return b.node('Neg', [b.node('MaxPool', [neg], [`${out}_eroded_neg`], pool)], [out]);
}

export type PoseTensors = ReturnType<typeof addPose>;

/** Adds the resampling into the canonical window; returns the [1,3,height,width] canonical image and the pose it used. */
export function addRegistration(b: GraphBuilder, image: string, size: { width: number; height: number }, reg: Registration): { canonical: string; pose: PoseTensors } {
  const pose = addPose(b, image, size, reg);
  // The pose as an affine map onto GridSample's [−1, 1] coordinates (align_corners = 0: −1 and +1
  // are the outer edges of the first and last pixel), u and v the canonical pixel centres relative
  // to the window's centre:
  //   nx = (cx + u cos − v sin) · 2/W − 1,  ny = (cy + u sin + v cos) · 2/H − 1
  const u = Float32Array.from({ length: reg.width }, (_, x) => x + 0.5 - reg.width / 2);
  const v = Float32Array.from({ length: reg.height }, (_, y) => y + 0.5 - reg.height / 2);
  const [cx, cy, cos, sin] = scalars(b, pose, 'reg_grid');
  const mul = (a: string, c: string, name: string): string => b.node('Mul', [a, c], [name]);
  const sx = b.floatTensor('reg_sx', [1], [2 / size.width]);
  const sy = b.floatTensor('reg_sy', [1], [2 / size.height]);
  const one = b.floatTensor('reg_one', [1], [1]);
  const grid = addAffineGrid(b, u, v, [
    { x: mul(cos, sx, 'reg_a00'), y: b.node('Neg', [mul(sin, sx, 'reg_sin_sx')], ['reg_a10']), c: b.node('Sub', [mul(cx, sx, 'reg_cx_s'), one], ['reg_a20']) },
    { x: mul(sin, sy, 'reg_a01'), y: mul(cos, sy, 'reg_a11'), c: b.node('Sub', [mul(cy, sy, 'reg_cy_s'), one], ['reg_a21']) },
  ], 'reg_grid');
  const sampled = b.node('GridSample', [image, grid], ['reg_sampled'], { mode: attr.string('bilinear'), padding_mode: attr.string('border'), align_corners: attr.int(0) });
  // The background blanked to the threshold grey, softly: a conveyor's slats, a shadow or whatever
  // lies beside the part is not the part, and its changes must not count as defects.
  const grey = addGrey(b, sampled, 'reg_px_grey');
  const t = b.floatTensor('reg_fill', [], [reg.threshold]);
  const raw = b.node('Sigmoid', [b.node('Mul', [b.node('Sub', [grey, t], ['reg_px_centred']), b.floatTensor('reg_px_gain', [], [reg.polarity / SOFTNESS])], ['reg_px_logit'])], ['reg_px_raw']);
  // Closed (dilate, then erode): a pocket rim, a tear or a speck darker than the threshold is still
  // the part; only the background around its outline is blanked.
  const fg = addClosing(b, raw, CLOSING, 'reg_px_fg');
  const kept = b.node('Mul', [b.node('Sub', [sampled, t], ['reg_px_off']), fg], ['reg_px_kept']);
  return { canonical: b.node('Add', [kept, t], ['canonical']), pose };
}

/** The pose's [1,1,1,1] tensors cx, cy, cos and sin as [1] scalars, for the affine grids. */
function scalars(b: GraphBuilder, pose: PoseTensors, prefix: string): [string, string, string, string] {
  const flat = b.int64Tensor(`${prefix}_scalar_shape`, [1], [1]);
  const scalar = (t: string, name: string): string => b.node('Reshape', [t, flat], [`${prefix}_${name}`]);
  return [scalar(pose.cx, 'cx'), scalar(pose.cy, 'cy'), scalar(pose.cos, 'cos'), scalar(pose.sin, 'sin')];
}

/**
 * A GridSample grid [1, h, w, 2] whose two coordinates are each x · a + y · b + c over the points
 * (xs[j], ys[i]); a, b and c are [1] tensors. Each coordinate is built as a [1, h, w] plane and the
 * two interleaved once at the end: as one MatMul over (x, y, 1) per point it took 1.2 ms on the
 * canonical window, and an op over a trailing axis of 1 or 2 pays per element.
 */
function addAffineGrid(b: GraphBuilder, xs: Float32Array, ys: Float32Array, coords: readonly [{ x: string; y: string; c: string }, { x: string; y: string; c: string }], name: string): string {
  const w = xs.length;
  const h = ys.length;
  const X = b.floatTensor(`${name}_xs`, [1, 1, w], xs);
  const Y = b.floatTensor(`${name}_ys`, [1, h, 1], ys);
  const shape = b.int64Tensor(`${name}_plane_shape`, [4], [1, h, w, 1]);
  const planes = coords.map((k, i) => {
    const xy = b.node('Add', [b.node('Mul', [X, k.x], [`${name}_${i}_x`]), b.node('Mul', [Y, k.y], [`${name}_${i}_y`])], [`${name}_${i}_xy`]);
    return b.node('Reshape', [b.node('Add', [xy, k.c], [`${name}_${i}_plane`]), shape], [`${name}_${i}`]);
  });
  return b.node('Concat', planes, [name], { axis: attr.int(3) });
}

/**
 * Resamples a map computed on the canonical window back onto the model input, so its regions land
 * where the defect is in the camera's image. `map` is [1,1,mh,mw]; its cell k spans canonical pixels
 * origin + [k, k + 1) · step (from the window's corner); the result is [1,1,⌊H/CELL⌋,⌊W/CELL⌋], zero off the part.
 */
export function addMapToImage(
  b: GraphBuilder,
  map: string,
  mapSize: { mw: number; mh: number; step: number; origin: number },
  size: { width: number; height: number },
  reg: Registration,
  pose: PoseTensors,
  out: string,
): string {
  const ow = Math.floor(size.width / CELL);
  const oh = Math.floor(size.height / CELL);
  // Into the canonical frame (the inverse rotation about the centroid), then map units (cell k spans
  // [k, k + 1) from the window's corner), then [−1, 1]:
  //   u = (x − cx) cos + (y − cy) sin,  v = (y − cy) cos − (x − cx) sin
  //   n = (t + half − origin) · s − 1,  s = 2 / (step · cells)
  // so n = x · a + y · b + (offset − cx · a − cy · b), offset = (half − origin) · s − 1.
  const [cx, cy, cos, sin] = scalars(b, pose, 'inv_grid');
  const mul = (a: string, c: string, name: string): string => b.node('Mul', [a, c], [name]);
  const coordinate = (ax: string, ay: string, half: number, cells: number, name: string): { x: string; y: string; c: string } => {
    const s = 2 / (mapSize.step * cells);
    const a = mul(ax, b.floatTensor(`${name}_scale_x`, [1], [s]), `${name}_a`);
    const c = mul(ay, b.floatTensor(`${name}_scale_y`, [1], [s]), `${name}_b`);
    const centre = b.node('Add', [mul(cx, a, `${name}_cxa`), mul(cy, c, `${name}_cyb`)], [`${name}_centre`]);
    return { x: a, y: c, c: b.node('Sub', [b.floatTensor(`${name}_offset`, [1], [(half - mapSize.origin) * s - 1]), centre], [`${name}_c`]) };
  };
  const xs = Float32Array.from({ length: ow }, (_, x) => CELL * x + CELL / 2);
  const ys = Float32Array.from({ length: oh }, (_, y) => CELL * y + CELL / 2);
  const grid = addAffineGrid(b, xs, ys, [coordinate(cos, sin, reg.width / 2, mapSize.mw, 'inv_nx'), coordinate(b.node('Neg', [sin], ['inv_nsin']), cos, reg.height / 2, mapSize.mh, 'inv_ny')], 'inv_grid');
  return b.node('GridSample', [map, grid], [out], { mode: attr.string('bilinear'), padding_mode: attr.string('zeros'), align_corners: attr.int(0) });
}

/** Otsu's threshold over grey values (0–255): the split that maximises the between-class variance. */
export function otsu(values: ArrayLike<number>): number {
  const hist = new Float64Array(256);
  for (let i = 0; i < values.length; i++) hist[Math.min(255, Math.max(0, Math.round(values[i]!)))]! += 1;
  const total = values.length;
  let sumAll = 0;
  for (let t = 0; t < 256; t++) sumAll += t * hist[t]!;
  let wB = 0;
  let sumB = 0;
  let best = 0;
  let bestT = 127;
  for (let t = 0; t < 256; t++) {
    wB += hist[t]!;
    if (wB === 0) continue;
    const wF = total - wB;
    if (wF === 0) break;
    sumB += t * hist[t]!;
    const mB = sumB / wB;
    const mF = (sumAll - sumB) / wF;
    const between = wB * wF * (mB - mF) ** 2;
    if (between > best) {
      best = between;
      bestT = t + 0.5;
    }
  }
  return bestT;
}
