import type { Detection, ModelOutput } from '../../domain/detection.js';
import type { Manifest } from '../manifest.js';
import type { WireTensor } from '../worker-protocol.js';
import { anchorCandidates, anchorTable, fmt, plain, suppress } from './anchors.js';
import type { DecodeContext, OutputShapes } from './decoder.js';
import { cellsInside, gridOver, makeMask, sigmoid } from './grid.js';

/** A mask cell is set when sigmoid(coefficients · prototypes) reaches this (Ultralytics' 0.5). */
const MASK_THRESHOLD = 0.5;
/** Most mask coefficients a head is believed to carry, when only the head's shape is known. */
const MAX_NM = 256;

/**
 * Ultralytics YOLOv8/v11-seg: a detect head with nm mask coefficients per anchor,
 * `[1, 4 + nc + nm, N]` (or transposed), and mask prototypes `[1, nm, mh, mw]` covering the model
 * input. Each kept detection's mask is sigmoid(coefficients · prototypes) over the prototype cells
 * whose centre lies in its (clipped) box, set where ≥ 0.5. Masks stay at prototype resolution
 * (see `Mask`), not upsampled: the area is exact for that grid, coarser than Ultralytics' bilinear
 * upsampling by up to a cell along the outline.
 */
export function decodeYolov8Seg(head: WireTensor, protos: WireTensor, ctx: DecodeContext): ModelOutput {
  const { manifest, transform } = ctx;
  const nc = manifest.classes.length;
  const [, nm, mh, mw] = protos.dims as [number, number, number, number];
  const table = anchorTable(head, 4 + nc + nm)!; // shapes checked by decode()
  const kept = suppress(anchorCandidates(table, ctx, { classCol: 4 }), manifest);
  const grid = gridOver(mw, mh, manifest, transform);
  const p = protos.data;
  const plane = mh * mw;
  const detections = kept.map((k): Detection => {
    const coeffs = Float64Array.from({ length: nm }, (_, j) => table.at(k.anchor, 4 + nc + j));
    const range = cellsInside(grid, k.box);
    const mask = makeMask(grid, range, k.box, (c, r) => {
      let v = 0;
      const at = r * mw + c;
      for (let j = 0; j < nm; j++) v += coeffs[j]! * p[j * plane + at]!;
      return sigmoid(v) >= MASK_THRESHOLD;
    });
    return { ...plain(k), mask };
  });
  return { kind: 'detections', detections };
}

/** Which output is the head and which the prototypes: the 4-D one holds the prototypes. */
export function splitSegOutputs<T extends { readonly dims: readonly number[] }>(outs: readonly T[]): { head?: T; protos?: T } {
  return { head: outs.find((o) => o.dims.length === 3), protos: outs.find((o) => o.dims.length === 4) };
}

export function yolov8SegShape(outs: OutputShapes, manifest: Manifest, complete: boolean): string | null {
  const nc = manifest.classes.length;
  const { head, protos } = splitSegOutputs(outs);
  const nm = protos?.dims[1];
  const expected = `[1,${4 + nc}+nm,N] and prototypes [1,nm,mh,mw]`;
  const given = outs.map((o) => fmt(o.dims)).join(' and ');
  if (protos && (protos.dims[0] !== 1 || !(nm! >= 1) || !(protos.dims[2]! >= 1) || !(protos.dims[3]! >= 1))) {
    return `yolov8-seg expects ${expected}, model gives ${given}`;
  }
  if (head) {
    const d = head.dims;
    // Without the prototypes nm is unknown: Ultralytics uses 32; allow up to MAX_NM.
    const fits = (cols: number | undefined): boolean =>
      nm === undefined ? cols !== undefined && cols > 4 + nc && cols <= 4 + nc + MAX_NM : cols === 4 + nc + nm;
    if (d[0] !== 1 || !(fits(d[1]) || fits(d[2]))) return `yolov8-seg expects ${nm === undefined ? expected : `[1,${4 + nc + nm},N] beside prototypes [1,${nm},…]`}, model gives ${given}`;
  }
  if (complete && (!head || !protos)) return `yolov8-seg expects two outputs, ${expected}, model gives ${given}`;
  if (!head && !protos) return `yolov8-seg expects ${expected}, model gives ${given}`;
  return null;
}
