import type { Detection, Mask } from '../../domain/detection.js';
import type { Box } from '../../domain/geometry.js';
import type { Manifest } from '../manifest.js';
import { shownRegion, type InputTransform } from '../preprocess.js';
import { sourceBox } from './anchors.js';

/**
 * Low-resolution maps laid over the model input (YOLOv8-seg prototypes, segmentation and anomaly
 * maps): cell ↔ original-pixel mapping, connected regions, and masks. A cell belongs to a box or
 * to the image when its centre does.
 */

export interface Grid {
  /** Cells across and down. */
  readonly gw: number;
  readonly gh: number;
  /** Model-input pixels per cell. */
  readonly cellW: number;
  readonly cellH: number;
  readonly transform: InputTransform;
}

/** Half-open cell range [c0, c1) × [r0, r1). */
export interface CellRange {
  readonly c0: number;
  readonly r0: number;
  readonly c1: number;
  readonly r1: number;
}

export function gridOver(gw: number, gh: number, manifest: Manifest, transform: InputTransform): Grid {
  return { gw, gh, cellW: manifest.input.width / gw, cellH: manifest.input.height / gh, transform };
}

/** Model-input rectangle of a cell range (pixels). */
export function cellsToModel(g: Grid, r: CellRange): Box {
  return { x: r.c0 * g.cellW, y: r.r0 * g.cellH, w: (r.c1 - r.c0) * g.cellW, h: (r.r1 - r.r0) * g.cellH };
}

/** Original-image rectangle of a cell range, exact (not clipped: a mask's placement). */
export function cellsToSource(g: Grid, r: CellRange): Box {
  const t = g.transform;
  const x = (r.c0 * g.cellW - t.padX) / t.scaleX + t.offsetX;
  const y = (r.r0 * g.cellH - t.padY) / t.scaleY + t.offsetY;
  return { x, y, w: ((r.c1 - r.c0) * g.cellW) / t.scaleX, h: ((r.r1 - r.r0) * g.cellH) / t.scaleY };
}

/** Cells whose centre lies inside an original-image box. */
export function cellsInside(g: Grid, box: Box): CellRange {
  const t = g.transform;
  // Original x → cell coordinate u; cell c's centre is c + 0.5, inside when u0 ≤ c + 0.5 < u1.
  const u = (x: number): number => ((x - t.offsetX) * t.scaleX + t.padX) / g.cellW;
  const v = (y: number): number => ((y - t.offsetY) * t.scaleY + t.padY) / g.cellH;
  return {
    c0: centreIndex(u(box.x), g.gw),
    c1: centreIndex(u(box.x + box.w), g.gw),
    r0: centreIndex(v(box.y), g.gh),
    r1: centreIndex(v(box.y + box.h), g.gh),
  };
}

/**
 * Cells that show the image: the region the model was shown (ROI, tile or whole image), so neither
 * letterbox padding — whatever its alignment or odd pixel — nor image outside the crop counts.
 */
export function contentCells(g: Grid): CellRange {
  const { x0, y0, x1, y1 } = shownRegion(g.transform);
  const r = cellsInside(g, { x: x0, y: y0, w: x1 - x0, h: y1 - y0 });
  return { ...r, c1: Math.max(r.c0, r.c1), r1: Math.max(r.r0, r.r1) };
}

/** First cell index whose centre (index + 0.5) is at or beyond cell coordinate `u`, within 0..n. */
function centreIndex(u: number, n: number): number {
  return Math.min(n, Math.max(0, Math.ceil(u - 0.5)));
}

export function rangeSize(r: CellRange): number {
  return Math.max(0, r.c1 - r.c0) * Math.max(0, r.r1 - r.r0);
}

/**
 * A mask over a cell range: run lengths of `isSet`, placement on the original image, and the set
 * area in original pixels counted inside `clip` (the detection's clipped box).
 */
export function makeMask(g: Grid, r: CellRange, clip: Box, isSet: (c: number, row: number) => boolean): Mask {
  const placement = cellsToSource(g, r);
  const width = Math.max(0, r.c1 - r.c0);
  const height = Math.max(0, r.r1 - r.r0);
  const cw = width > 0 ? placement.w / width : 0;
  const ch = height > 0 ? placement.h / height : 0;
  const counts: number[] = [];
  let run = 0;
  let setting = false;
  let area = 0;
  for (let j = 0; j < height; j++) {
    const y = placement.y + j * ch;
    const oy = Math.max(0, Math.min(y + ch, clip.y + clip.h) - Math.max(y, clip.y));
    for (let i = 0; i < width; i++) {
      const on = isSet(r.c0 + i, r.r0 + j);
      if (on !== setting) {
        counts.push(run);
        run = 0;
        setting = on;
      }
      run++;
      if (on) {
        const x = placement.x + i * cw;
        area += Math.max(0, Math.min(x + cw, clip.x + clip.w) - Math.max(x, clip.x)) * oy;
      }
    }
  }
  counts.push(run);
  return { width, height, counts, placement, area };
}

/** One 8-connected region of set cells. */
export interface Region {
  /** Flat indices (row · gw + col) of its cells. */
  readonly cells: Int32Array;
  readonly bounds: CellRange;
}

/** 8-connected regions of the set cells of `on` (gw × gh, row-major), in scan order. */
export function regions(on: Uint8Array, gw: number, gh: number): Region[] {
  const seen = new Uint8Array(on.length);
  const stack = new Int32Array(on.length);
  const out: Region[] = [];
  for (let start = 0; start < on.length; start++) {
    if (!on[start] || seen[start]) continue;
    const cells: number[] = [];
    let c0 = gw;
    let r0 = gh;
    let c1 = 0;
    let r1 = 0;
    let top = 0;
    stack[top++] = start;
    seen[start] = 1;
    while (top > 0) {
      const k = stack[--top]!;
      cells.push(k);
      const c = k % gw;
      const r = (k - c) / gw;
      if (c < c0) c0 = c;
      if (c + 1 > c1) c1 = c + 1;
      if (r < r0) r0 = r;
      if (r + 1 > r1) r1 = r + 1;
      for (let dr = -1; dr <= 1; dr++) {
        const rr = r + dr;
        if (rr < 0 || rr >= gh) continue;
        for (let dc = -1; dc <= 1; dc++) {
          const cc = c + dc;
          if (cc < 0 || cc >= gw) continue;
          const n = rr * gw + cc;
          if (on[n] && !seen[n]) {
            seen[n] = 1;
            stack[top++] = n;
          }
        }
      }
    }
    out.push({ cells: Int32Array.from(cells), bounds: { c0, r0, c1, r1 } });
  }
  return out;
}

/**
 * One detection per 8-connected region of `on`: box in original pixels (degenerate ones dropped),
 * mask of the region's own cells, score = mean (or max) of `prob` over its cells.
 */
export function regionDetections(
  grid: Grid,
  on: Uint8Array,
  classId: number,
  label: string,
  prob: (k: number) => number,
  reduce: 'mean' | 'max' = 'mean',
): Detection[] {
  const owner = new Int32Array(on.length);
  const out: Detection[] = [];
  regions(on, grid.gw, grid.gh).forEach((region, i) => {
    const box = sourceBox(cellsToModel(grid, region.bounds), grid.transform);
    if (!box) return;
    let score = reduce === 'max' ? -Infinity : 0;
    for (const k of region.cells) {
      owner[k] = i + 1;
      score = reduce === 'max' ? Math.max(score, prob(k)) : score + prob(k);
    }
    if (reduce === 'mean') score /= region.cells.length;
    const mask = makeMask(grid, region.bounds, box, (c, r) => owner[r * grid.gw + c] === i + 1);
    out.push({ classId, label, score, box, mask });
  });
  return out;
}

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}
