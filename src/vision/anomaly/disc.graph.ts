/**
 * The rim check: for each round sub-part of the taught part (a tablet in its pocket), the outline
 * is compared with itself, so a small bite out of the rim stands out even though the tablet's own
 * size, position in its pocket, shade and lighting vary more than the bite does.
 *
 *   window   = S × S pixels of canonical grey around the disc's taught centre (one per disc)
 *   centre   = centroid of relu(window − mean(window)): the disc itself, wherever it sits
 *   profile  = grey on a polar grid about that centre, NR radii × NA angles (bilinear)
 *   deficit  = mean over angles − profile: how much darker this angle is than the disc's own ring
 *   rim(θ)   = mean deficit of the outer band (R − 6 … R − 1) − mean deficit of the inner band
 *              (R − 13 … R − 7): a bite darkens only the rim; a score line or print that crosses
 *              the disc darkens the inner band as much, and cancels
 *   beyond(θ)= − mean deficit of R + 2 … R + 5: the bite shows the pocket floor where the disc's
 *              shadow and the pocket's rim are otherwise darker
 *   both with the first harmonic over θ removed (what an off-centre estimate leaves) and smoothed
 *   over 3 angles
 *   z(θ)     = Σ over the two of (value − μ) / σ, μ and σ per disc, angle and feature, learnt from
 *              good parts only; the disc's score is its largest z
 *
 * Pure ONNX, so the taught model stays one file the normal runtime runs.
 */
import { attr, type GraphBuilder } from '../onnx-writer/onnx-writer.js';
import { addGrey } from './register.graph.js';

/** Angles around each disc (5° apart). */
export const ANGLES = 72;
/** Deficits per angle: the rim's, beyond it, and the outline's radius. */
export const RIM_FEATURES = 3;
/** Outer band, pixels relative to the taught radius R: inside the rim to just outside it. */
export const OUTER = { from: -6, to: -1 } as const;
/** Inner band, pixels relative to R. */
export const INNER = { from: -13, to: -7 } as const;
/** Where the outline is looked for, pixels relative to R: its radius at each angle is the count of samples brighter than the cut. */
export const EDGE = { from: -8, to: 3 } as const;
/** Beyond the rim, pixels relative to R: where a bite shows the pocket floor over the disc's shadow and the pocket's rim. */
export const BEYOND = { from: 2, to: 5 } as const;
/** Circular smoothing over 2 · SPREAD + 1 neighbouring angles: about a bite's width. */
const SPREAD = 1;
/** Ring just outside the disc whose grey is its surround's, pixels relative to R. */
const SURROUND = { from: 3, to: 5 } as const;
/** The disc is cut out at this share of the way from its surround's grey to its core's. */
const CUT = 0.4;
/** Width of that soft cut, grey levels. */
const CUT_SOFTNESS = 2;
/** Window margin beyond R, pixels: the surround ring and a pixel to spare. */
const WINDOW_MARGIN = 9;

export interface Disc {
  /** Centre in canonical-window pixels (continuous: pixel i spans [i, i + 1)). */
  readonly x: number;
  readonly y: number;
  /** Radius, pixels. */
  readonly r: number;
}

export interface DiscLayout {
  readonly discs: readonly Disc[];
  /** Common radius the bands are placed by (the discs' median) and the window side. */
  readonly radius: number;
  readonly window: number;
}

/** The layout for `discs` found in a canonical window of `size`: those whose whole window fits in it (none: undefined). */
export function discLayout(discs: readonly Disc[], size: { width: number; height: number }): DiscLayout | undefined {
  if (discs.length === 0) return undefined;
  const radii = discs.map((d) => d.r).sort((a, b) => a - b);
  const radius = Math.round(radii[Math.floor(radii.length / 2)]!);
  const window = 2 * (radius + WINDOW_MARGIN);
  const inside = discs.filter((d) => {
    const ox = Math.round(d.x - window / 2);
    const oy = Math.round(d.y - window / 2);
    return ox >= 0 && oy >= 0 && ox + window <= size.width && oy + window <= size.height;
  });
  return inside.length > 0 ? { discs: inside, radius, window } : undefined;
}

/** Radii sampled (pixels from the disc's centre) and their weights: the rim (+ outer, − inner band) and beyond it (− beyond band, so brighter counts). */
function radialWeights(radius: number): { radii: number[]; rim: number[]; beyond: number[]; edge: number[] } {
  const radii: number[] = [];
  const rim: number[] = [];
  const beyond: number[] = [];
  const edge: number[] = [];
  const size = (band: { from: number; to: number }): number => band.to - band.from + 1;
  for (let d = INNER.from; d <= BEYOND.to; d++) {
    radii.push(radius + d);
    rim.push(d >= OUTER.from && d <= OUTER.to ? 1 / size(OUTER) : d >= INNER.from && d <= INNER.to ? -1 / size(INNER) : 0);
    beyond.push(d >= BEYOND.from ? -1 / size(BEYOND) : 0);
    edge.push(d >= EDGE.from && d <= EDGE.to ? 1 : 0);
  }
  return { radii, rim, beyond, edge };
}

/**
 * Adds the rim profile of every disc, reading canonical [1,3,H,W]; returns the name of the
 * [K,2,1,ANGLES] deficits: the rim's (outer band − inner band) and beyond it (how much brighter
 * than its ring), each with its first harmonic removed and smoothed over the angles.
 */
export function addRimProfile(b: GraphBuilder, canonical: string, size: { width: number; height: number }, layout: DiscLayout): string {
  const s = layout.window;
  // Windows cut from the colour window and only they made grey: a tenth of the pixels.
  const axes = b.int64Tensor('disc_win_axes', [2], [2, 3]);
  const windows = layout.discs.map((d, k) => {
    const ox = Math.round(d.x - s / 2);
    const oy = Math.round(d.y - s / 2);
    if (ox < 0 || oy < 0 || ox + s > size.width || oy + s > size.height) throw new Error(`disc ${k} window leaves the canonical window`);
    return b.node('Slice', [canonical, b.int64Tensor(`disc_${k}_s`, [2], [oy, ox]), b.int64Tensor(`disc_${k}_e`, [2], [oy + s, ox + s]), axes], [`disc_${k}_win`]);
  });
  const win = addGrey(b, windows.length === 1 ? windows[0]! : b.node('Concat', windows, ['disc_windows_rgb'], { axis: attr.int(0) }), 'disc_windows');
  // Centre: centroid of the disc cut out at 40 % of the way from its surround's grey (a ring just
  // outside it) to its own (its inner part), so shade, exposure and lamp gradients do not move it.
  const sumAxes = b.int64Tensor('disc_sum_axes', [2], [2, 3]);
  const half = s / 2;
  const mask = (name: string, keep: (r: number) => boolean): string => {
    const m = new Float32Array(s * s);
    for (let y = 0; y < s; y++) for (let x = 0; x < s; x++) m[y * s + x] = keep(Math.hypot(x + 0.5 - half, y + 0.5 - half)) ? 1 : 0;
    const n = m.reduce((a, v) => a + v, 0);
    return b.floatTensor(name, [1, 1, s, s], m.map((v) => v / n));
  };
  const R = layout.radius;
  const meanIn = (m: string, name: string): string => b.node('ReduceSum', [b.node('Mul', [win, m], [`${name}_w`]), sumAxes], [name], { keepdims: attr.int(1) });
  const inside = meanIn(mask('disc_core_mask', (r) => r < R + INNER.to), 'disc_core');
  const around = meanIn(mask('disc_surround_mask', (r) => r >= R + SURROUND.from && r <= R + SURROUND.to), 'disc_surround');
  const cut = b.node('Add', [around, b.node('Mul', [b.node('Sub', [inside, around], ['disc_contrast']), b.floatTensor('disc_cut_share', [], [CUT])], ['disc_cut_step'])], ['disc_cut']);
  const soft = b.node('Sigmoid', [b.node('Mul', [b.node('Sub', [win, cut], ['disc_above']), b.floatTensor('disc_cut_gain', [], [1 / CUT_SOFTNESS])], ['disc_logit'])], ['disc_soft']);
  const support = new Float32Array(s * s);
  for (let y = 0; y < s; y++) for (let x = 0; x < s; x++) support[y * s + x] = Math.hypot(x + 0.5 - half, y + 0.5 - half) <= R + SURROUND.to ? 1 : 0;
  const w = b.node('Mul', [soft, b.floatTensor('disc_support', [1, 1, s, s], support)], ['disc_w']);
  const mass = b.node('Add', [b.node('ReduceSum', [w, sumAxes], ['disc_mass_raw'], { keepdims: attr.int(1) }), b.floatTensor('disc_mass_eps', [], [1e-3])], ['disc_mass']);
  const coords = Float32Array.from({ length: s }, (_, i) => i + 0.5);
  const moment = (t: string, name: string): string => b.node('Div', [b.node('ReduceSum', [b.node('Mul', [w, t], [`${name}_w`]), sumAxes], [`${name}_sum`], { keepdims: attr.int(1) }), mass], [name]);
  const cx = moment(b.floatTensor('disc_xs', [1, 1, 1, s], coords), 'disc_cx');
  const cy = moment(b.floatTensor('disc_ys', [1, 1, s, 1], coords), 'disc_cy');
  // Polar grid in GridSample's [−1, 1] (align_corners = 0): centre + r (cos θ, sin θ), per disc.
  const { radii, rim: rimWeights, beyond: beyondWeights, edge: edgeWeights } = radialWeights(layout.radius);
  const nr = radii.length;
  // Laid out [coordinate, point] so each disc's centre is added along a contiguous row (an op
  // over a trailing axis of 2 pays per element), then turned into GridSample's [K, NR, NA, 2].
  const points = nr * ANGLES;
  const polar = new Float32Array(2 * points);
  radii.forEach((r, i) => {
    for (let a = 0; a < ANGLES; a++) {
      const t = (2 * Math.PI * a) / ANGLES;
      polar[i * ANGLES + a] = (r * Math.cos(t) * 2) / s;
      polar[points + i * ANGLES + a] = (r * Math.sin(t) * 2) / s;
    }
  });
  const scale = b.floatTensor('disc_to_unit', [], [2 / s]);
  const one = b.floatTensor('disc_one', [], [1]);
  const unit = (t: string, name: string): string => b.node('Sub', [b.node('Mul', [t, scale], [`${name}_scaled`]), one], [name]);
  const k = layout.discs.length;
  const centre = b.node('Reshape', [b.node('Concat', [unit(cx, 'disc_nx'), unit(cy, 'disc_ny')], ['disc_centre_raw'], { axis: attr.int(1) }), b.int64Tensor('disc_centre_shape', [3], [k, 2, 1])], ['disc_centre']);
  const placed = b.node('Transpose', [b.node('Add', [b.floatTensor('disc_polar', [1, 2, points], polar), centre], ['disc_points'])], ['disc_points_t'], { perm: attr.ints([0, 2, 1]) });
  const grid = b.node('Reshape', [placed, b.int64Tensor('disc_grid_shape', [4], [k, nr, ANGLES, 2])], ['disc_grid']);
  const profile = b.node('GridSample', [win, grid], ['disc_profile'], { mode: attr.string('bilinear'), padding_mode: attr.string('border'), align_corners: attr.int(0) });
  const ring = b.node('ReduceMean', [profile], ['disc_ring'], { axes: attr.ints([3]), keepdims: attr.int(1) });
  const deficit = b.node('Sub', [ring, profile], ['disc_deficit']);
  const band = (weights: number[], name: string): string =>
    b.node('ReduceSum', [b.node('Mul', [deficit, b.floatTensor(`${name}_w`, [1, 1, nr, 1], weights)], [`${name}_banded`]), b.int64Tensor(`${name}_axis`, [1], [2])], [name], { keepdims: attr.int(1) });
  // The outline's radius at each angle, in pixels short of its mean radius: contrast does not enter.
  const inDisc = b.node('Sigmoid', [b.node('Mul', [b.node('Sub', [profile, cut], ['disc_profile_above']), b.floatTensor('disc_edge_gain', [], [1 / CUT_SOFTNESS])], ['disc_profile_logit'])], ['disc_profile_in']);
  const inRing = b.node('ReduceMean', [inDisc], ['disc_in_ring'], { axes: attr.ints([3]), keepdims: attr.int(1) });
  const shortfall = b.node('Sub', [inRing, inDisc], ['disc_in_short']);
  const edgeBand = b.node('ReduceSum', [b.node('Mul', [shortfall, b.floatTensor('disc_edge_band_w', [1, 1, nr, 1], edgeWeights)], ['disc_edge_banded']), b.int64Tensor('disc_edge_axis', [1], [2])], ['disc_edge_band'], { keepdims: attr.int(1) });
  const rim = b.node('Concat', [band(rimWeights, 'disc_rim_band'), band(beyondWeights, 'disc_beyond_band'), edgeBand], ['disc_rim_raw'], { axis: attr.int(1) });
  // What is left of an off-centre estimate is the first harmonic over the angles (one side of the
  // rim a little further out, the other a little nearer): projected out, together with the
  // circular smoothing over 3 angles, as one [ANGLES × ANGLES] matrix. A bite a few angles wide
  // keeps nearly all of its height.
  return b.node('MatMul', [rim, b.floatTensor('disc_filter', [ANGLES, ANGLES], rimFilter())], ['disc_rim']);
}

/** Row vector × this = the rim with its first harmonic removed, then smoothed over 3 neighbouring angles (circularly). */
function rimFilter(): Float32Array {
  const n = ANGLES;
  const project = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const ti = (2 * Math.PI * i) / n;
      const tj = (2 * Math.PI * j) / n;
      project[i * n + j] = (i === j ? 1 : 0) - (2 / n) * (Math.cos(ti) * Math.cos(tj) + Math.sin(ti) * Math.sin(tj));
    }
  }
  // out[j] = Σ_i rim[i] · M[i][j]; M = project · smooth.
  const m = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let v = 0;
      for (let d = -SPREAD; d <= SPREAD; d++) v += project[i * n + ((j + d + n) % n)]! / (2 * SPREAD + 1);
      m[i * n + j] = v;
    }
  }
  return m;
}

export interface RimStats {
  readonly layout: DiscLayout;
  /** [K · 2 · ANGLES] mean and inverse standard deviation of the two deficits. */
  readonly mean: Float32Array;
  readonly inverseSd: Float32Array;
  /** Raw score (largest summed z) that maps to 0.5. */
  readonly threshold: number;
}

/**
 * Adds the rim check's score onto a canonical anomaly map [1,1,mh,mw] already normalised so 0.5 is
 * its threshold: each disc's score, normalised the same way by the rim threshold, over the cells
 * the disc covers; returns the combined map's name. `cell(i)` is the canonical pixel at the centre
 * of map cell i (either axis).
 */
export function addRimScore(b: GraphBuilder, rim: string, map: string, stats: RimStats, mapSize: { mw: number; mh: number }, cell: (i: number) => number, out: string): string {
  const k = stats.layout.discs.length;
  const z = b.node('Mul', [b.node('Sub', [rim, b.floatTensor('rim_mu', [k, RIM_FEATURES, 1, ANGLES], stats.mean)], ['rim_dev']), b.floatTensor('rim_inv_sd', [k, RIM_FEATURES, 1, ANGLES], stats.inverseSd)], ['rim_z2']);
  const summed = b.node('ReduceSum', [z, b.int64Tensor('rim_feature_axis', [1], [1])], ['rim_z'], { keepdims: attr.int(1) });
  const worst = b.node('ReduceMax', [summed], ['rim_disc_z'], { axes: attr.ints([1, 2, 3]), keepdims: attr.int(1) });
  const norm = b.node('Mul', [worst, b.floatTensor('rim_norm_scale', [], [1 / (2 * stats.threshold)])], ['rim_disc_scaled']);
  const clipped = b.node('Clip', [norm, b.floatTensor('rim_clip_min', [], [0]), b.floatTensor('rim_clip_max', [], [1])], ['rim_disc_score']);
  const perDisc = b.node('Reshape', [clipped, b.int64Tensor('rim_disc_shape', [4], [1, k, 1, 1])], ['rim_disc_scores']);
  const { mw, mh } = mapSize;
  const footprint = new Float32Array(k * mh * mw);
  stats.layout.discs.forEach((d, i) => {
    for (let y = 0; y < mh; y++) for (let x = 0; x < mw; x++) footprint[(i * mh + y) * mw + x] = Math.hypot(cell(x) - d.x, cell(y) - d.y) <= d.r + 2 ? 1 : 0;
  });
  const painted = b.node('ReduceMax', [b.node('Mul', [perDisc, b.floatTensor('rim_footprint', [1, k, mh, mw], footprint)], ['rim_painted_all'])], ['rim_map'], { axes: attr.ints([1]), keepdims: attr.int(1) });
  return b.node('Max', [map, painted], [out]);
}
