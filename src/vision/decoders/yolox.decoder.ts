import type { ModelOutput } from '../../domain/detection.js';
import { YOLOX_DEFAULTS, type Manifest } from '../manifest.js';
import type { WireTensor } from '../worker-protocol.js';
import { anchorCandidates, anchorTable, fmt, plain, suppress } from './anchors.js';
import type { DecodeContext, OutputShapes } from './decoder.js';

/**
 * Raw YOLOX head (official export with decode_in_inference=False): `[1, N, 5 + nc]`, one row per
 * grid cell, cells ordered by stride, then y, then x. Columns: box offsets, objectness, class scores
 * (the head applies sigmoid to objectness and classes even without decoding, so they are
 * probabilities; measured 0–1 on the YOLOX-Nano export). Per cell at stride s:
 * cx = (o0 + gx)·s, cy = (o1 + gy)·s, w = exp(o2)·s, h = exp(o3)·s; score = objectness × class.
 * An export with decoding inside the graph is read by the `yolov5` decoder instead.
 */
export function decodeYolox(t: WireTensor, ctx: DecodeContext): ModelOutput {
  const { manifest } = ctx;
  const table = anchorTable(t, 5 + manifest.classes.length, 'last')!; // shape checked by decode()
  const cells = gridCells(manifest);
  const cxcywh = (i: number): readonly [number, number, number, number] => {
    const s = cells.stride[i]!;
    return [(table.at(i, 0) + cells.gx[i]!) * s, (table.at(i, 1) + cells.gy[i]!) * s, Math.exp(table.at(i, 2)) * s, Math.exp(table.at(i, 3)) * s];
  };
  const kept = suppress(anchorCandidates(table, ctx, { objCol: 4, classCol: 5, cxcywh }), manifest);
  return { kind: 'detections', detections: kept.map(plain) };
}

interface GridCells {
  readonly n: number;
  readonly gx: Int32Array;
  readonly gy: Int32Array;
  readonly stride: Int32Array;
}

const cache = new WeakMap<Manifest, GridCells>();

/** Grid position and stride of every row, for the manifest's input size and strides (cached per manifest). */
export function gridCells(manifest: Manifest): GridCells {
  const hit = cache.get(manifest);
  if (hit) return hit;
  const { width, height } = manifest.input;
  const strides = (manifest.yolox ?? YOLOX_DEFAULTS).strides;
  // A stride-s feature map of a W×H input is ceil(W/s) × ceil(H/s) (stride-2 convolutions, padding 1).
  const sizes = strides.map((s) => [Math.ceil(width / s), Math.ceil(height / s)] as const);
  const n = sizes.reduce((a, [w, h]) => a + w * h, 0);
  const cells: GridCells = { n, gx: new Int32Array(n), gy: new Int32Array(n), stride: new Int32Array(n) };
  let i = 0;
  strides.forEach((s, k) => {
    const [w, h] = sizes[k]!;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++, i++) {
        cells.gx[i] = x;
        cells.gy[i] = y;
        cells.stride[i] = s;
      }
    }
  });
  cache.set(manifest, cells);
  return cells;
}

export function yoloxShape(outs: OutputShapes, manifest: Manifest): string | null {
  const cols = 5 + manifest.classes.length;
  const dims = outs[0]!.dims;
  const { n } = gridCells(manifest);
  const strides = (manifest.yolox ?? YOLOX_DEFAULTS).strides;
  if (dims.length === 3 && dims[0] === 1 && dims[1] === n && dims[2] === cols) return null;
  return `yolox expects [1,${n},${cols}] (grid cells of a ${manifest.input.width}×${manifest.input.height} input at strides ${strides.join('/')}), model gives ${fmt(dims)}`;
}
