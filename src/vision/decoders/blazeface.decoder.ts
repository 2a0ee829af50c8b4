import type { ModelOutput } from '../../domain/detection.js';
import { BLAZEFACE_DEFAULTS, type BlazefaceOptions, type Manifest } from '../manifest.js';
import type { WireTensor } from '../worker-protocol.js';
import { fmt, plain, sourceBox, suppress, type Candidate } from './anchors.js';
import type { DecodeContext, OutputShapes } from './decoder.js';
import { sigmoid } from './grid.js';

/**
 * MediaPipe BlazeFace (the TF.js graph in @vladmandic/human, models/blazeface.json): a score logit
 * and 16 regressors per anchor — box centre offset (dx, dy) from the anchor and size (w, h), in
 * model-input pixels, then six keypoints. Anchors are cell centres of one square grid per stride
 * (default: input/16 and input/8, i.e. 16 and 32 for a 256 input), `anchorsPerCell` at each cell
 * (2 and 6), rows ordered stride by stride, then y, then x. The export gives either one tensor
 * `[1, N, 17]` (score column first) or, split per stride, scores `[1, n, 1]` and regressors
 * `[1, n, 16]` for each (their order found by the row counts).
 */
export function decodeBlazeface(outs: readonly WireTensor[], ctx: DecodeContext): ModelOutput {
  const { manifest, transform } = ctx;
  const layers = anchorLayers(manifest);
  const rows = rowsOf(outs, layers);
  const threshold = manifest.thresholds.score;
  const candidates: Candidate[] = [];
  let anchor = 0;
  for (const layer of layers) {
    const { scores, regs, regCols, scoreAt } = rows[layer.index]!;
    for (let i = 0; i < layer.count; i++, anchor++) {
      const score = sigmoid(scores[(scoreAt + i) * (regs === scores ? regCols : 1)]!);
      if (score < threshold) continue;
      const at = regs === scores ? (scoreAt + i) * regCols + 1 : i * regCols;
      const cell = Math.floor(i / layer.perCell);
      const ax = ((cell % layer.side) + 0.5) * layer.stride;
      const ay = (Math.floor(cell / layer.side) + 0.5) * layer.stride;
      const cx = ax + regs[at]!;
      const cy = ay + regs[at + 1]!;
      const w = regs[at + 2]!;
      const h = regs[at + 3]!;
      if (!(w > 0 && h > 0)) continue;
      // The anchors are square grids over the input's width; a non-square input scales y.
      const ky = manifest.input.height / manifest.input.width;
      const box = sourceBox({ x: cx - w / 2, y: (cy - h / 2) * ky, w, h: h * ky }, transform);
      if (!box) continue;
      candidates.push({ classId: 0, label: manifest.classes[0]!, score, box, anchor });
    }
  }
  return { kind: 'detections', detections: suppress(candidates, manifest).map(plain) };
}

interface AnchorLayer {
  readonly index: number;
  readonly stride: number;
  readonly side: number;
  readonly perCell: number;
  /** Anchors in this layer. */
  readonly count: number;
  /** Row of its first anchor in a concatenated tensor. */
  readonly regAt: number;
}

/** The anchor grids of the manifest's input size. */
export function anchorLayers(manifest: Manifest): AnchorLayer[] {
  const opts: BlazefaceOptions = manifest.blazeface ?? BLAZEFACE_DEFAULTS;
  const size = manifest.input.width;
  const strides = opts.strides ?? [size / 16, size / 8];
  let at = 0;
  return strides.map((stride, index) => {
    const side = Math.ceil(size / stride);
    const perCell = opts.anchorsPerCell[index] ?? opts.anchorsPerCell[opts.anchorsPerCell.length - 1]!;
    const layer = { index, stride, side, perCell, count: side * side * perCell, regAt: at };
    at += layer.count;
    return layer;
  });
}

interface LayerRows {
  readonly scores: Float32Array;
  readonly regs: Float32Array;
  readonly regCols: number;
  /** Row of the layer's first anchor in `scores` (and, for one concatenated tensor, in `regs`). */
  readonly scoreAt: number;
}

/** Where each layer's scores and regressors are, for a one-tensor or a per-stride export. */
function rowsOf(outs: readonly WireTensor[], layers: readonly AnchorLayer[]): LayerRows[] {
  if (outs.length === 1) {
    const t = outs[0]!;
    return layers.map((l) => ({ scores: t.data, regs: t.data, regCols: t.dims[2]!, scoreAt: l.regAt }));
  }
  const split = splitPerStride(outs, layers)!;
  return layers.map((l, i) => ({ scores: split[i]!.scores.data, regs: split[i]!.regs.data, regCols: split[i]!.regs.dims[2]!, scoreAt: 0 }));
}

/** Per layer, its score tensor (last dim 1) and regressor tensor (last dim ≥ 4) by row count, in order of appearance. */
function splitPerStride<T extends { readonly dims: readonly number[] }>(outs: readonly T[], layers: readonly AnchorLayer[]): Array<{ scores: T; regs: T }> | null {
  const scores = outs.filter((o) => o.dims[2] === 1);
  const regs = outs.filter((o) => (o.dims[2] ?? 0) >= 4);
  const used = new Set<T>();
  const take = (list: readonly T[], n: number): T | undefined => {
    const t = list.find((o) => !used.has(o) && o.dims[1] === n);
    if (t) used.add(t);
    return t;
  };
  const out: Array<{ scores: T; regs: T }> = [];
  for (const l of layers) {
    const s = take(scores, l.count);
    const r = take(regs, l.count);
    if (!s || !r) return null;
    out.push({ scores: s, regs: r });
  }
  return out;
}

export function blazefaceShape(outs: OutputShapes, manifest: Manifest, complete: boolean): string | null {
  const layers = anchorLayers(manifest);
  const total = layers.reduce((n, l) => n + l.count, 0);
  const counts = layers.map((l) => l.count).join(' + ');
  const expected = `[1,${total},≥5] or, per stride, scores [1,n,1] and regressors [1,n,≥4] with n = ${counts}`;
  const given = outs.map((o) => fmt(o.dims)).join(' and ');
  const ok3 = (d: readonly number[]): boolean => d.length === 3 && d[0] === 1;
  if (!outs.every((o) => ok3(o.dims))) return `blazeface expects ${expected}, model gives ${given}`;
  if (outs.length === 1 && complete) return outs[0]!.dims[1] === total && outs[0]!.dims[2]! >= 5 ? null : `blazeface expects ${expected}, model gives ${given}`;
  if (!complete) {
    const d = outs[0]!.dims;
    return (d[1] === total && d[2]! >= 5) || layers.some((l) => l.count === d[1]) ? null : `blazeface expects ${expected}, model gives ${given}`;
  }
  return splitPerStride(outs, layers) ? null : `blazeface expects ${expected}, model gives ${given}`;
}
