import type { Detection } from '../domain/detection.js';
import { iou, type Box } from '../domain/geometry.js';

/**
 * Tiling for small objects on large images (manifest `input.tiling`): the layout of overlapping
 * tiles over an image or ROI, and the merge of the detections each tile gave into one list in
 * original-image coordinates.
 */

/** More tiles than this for one image is a configuration mistake (a tile far too small for the image), refused per frame. */
export const MAX_TILES = 400;

/**
 * Tile starts along one axis of `size` pixels: every `stride` = round(tile × (1 − overlap)) pixels,
 * and the last tile aligned to the far edge (so it may overlap its neighbour by more). A size not
 * larger than the tile gives one tile at 0.
 */
export function axisStarts(size: number, tile: number, overlap: number): number[] {
  if (size <= tile) return [0];
  const stride = Math.max(1, Math.round(tile * (1 - overlap)));
  const n = Math.ceil((size - tile) / stride) + 1;
  const starts = Array.from({ length: n - 1 }, (_, i) => i * stride);
  starts.push(size - tile);
  return starts;
}

/**
 * Overlapping square tiles of `tile` pixels covering `region` (integer pixel coordinates), row by
 * row. A region narrower or lower than a tile gets tiles of its own width or height on that axis.
 */
export function tileLayout(region: Box, tile: number, overlap: number): Box[] {
  const w = Math.min(tile, region.w);
  const h = Math.min(tile, region.h);
  const xs = axisStarts(region.w, tile, overlap);
  const ys = axisStarts(region.h, tile, overlap);
  return ys.flatMap((y) => xs.map((x) => ({ x: region.x + x, y: region.y + y, w, h })));
}

export interface TileDetections {
  /** The tile, in original-image pixels. */
  readonly tile: Box;
  /** What the model found in it, already in original-image pixels. */
  readonly detections: readonly Detection[];
}

export interface MergeOptions {
  /** NMS IoU threshold (manifest `thresholds.iou`). */
  readonly iou: number;
  /** Suppress across classes (manifest `nms.classAgnostic`). */
  readonly classAgnostic: boolean;
  /** Cap on the merged list (manifest `nms.maxDetections`). */
  readonly maxDetections: number;
}

/** Two views of one object, one of them cut by a tile edge, agree this well (IoU) on the part both show. */
const SAME_OBJECT_IOU = 0.5;

interface Entry {
  det: Detection;
  readonly tile: Box;
  /** The box reaches an edge of its tile that is not an edge of the region: the object may go on past it. */
  readonly cut: boolean;
}

/**
 * One list from the tiles' detections. Each box is clipped to its tile; a box within a margin
 * (1 % of the tile, at least 2 px) of an inner tile edge — an edge that is not the region's — is
 * *cut*: the object may go on past the edge, and the model judged it without all of it.
 * - A cut box whose area another tile sees whole (inside that tile, clear of its inner edges) is
 *   dropped: that tile judged the same pixels with their surroundings, and its answer stands,
 *   found or not found. Half a tablet must not come back as a broken tablet, nor the corner of a
 *   card cut by a tile edge as a defect. With an overlap at least the size of the largest object,
 *   every object is whole in some tile.
 * - Then greedy, best first, boxes whole in their tile before cut ones: NMS as the manifest says
 *   (IoU above `iou`, per class or across classes) — one object seen whole by two tiles; a cut box
 *   matching what a kept whole box shows inside the cut box's tile (IoU ≥ 0.5) is dropped whatever
 *   its class; two cut boxes of one class that agree where their tiles overlap (IoU ≥ 0.5 there)
 *   are one object larger than the overlap, joined into one box. Cut pieces of different classes
 *   are both kept: a defect is never merged away.
 * A small object inside a larger one (a crack on a tablet) does not match the larger one and is
 * kept. Then the `maxDetections` cap.
 */
export function mergeTileDetections(tiles: readonly TileDetections[], region: Box, opts: MergeOptions): Detection[] {
  const margin = (tile: Box): number => Math.max(2, 0.01 * Math.max(tile.w, tile.h));
  const seenWhole = (b: Box, by: Box): boolean =>
    b.x >= by.x && b.y >= by.y && b.x + b.w <= by.x + by.w && b.y + b.h <= by.y + by.h && !reachesInnerEdge(b, by, region, margin(by));
  const entries: Entry[] = [];
  for (const { tile, detections } of tiles) {
    for (const d of detections) {
      const box = clip(d.box, tile);
      if (!box) continue;
      const cut = reachesInnerEdge(box, tile, region, margin(tile));
      if (cut && tiles.some((other) => other.tile !== tile && seenWhole(box, other.tile))) continue;
      entries.push({ det: box === d.box ? d : { ...d, box }, tile, cut });
    }
  }
  entries.sort((a, b) => Number(a.cut) - Number(b.cut) || b.det.score - a.det.score);
  const kept: Entry[] = [];
  for (const e of entries) {
    if (kept.length >= opts.maxDetections) break;
    if (kept.some((k) => (opts.classAgnostic || k.det.classId === e.det.classId) && iou(k.det.box, e.det.box) > opts.iou)) continue;
    if (e.cut) {
      if (kept.some((k) => !k.cut && k.tile !== e.tile && sameObject(clip(k.det.box, e.tile), e.det.box))) continue;
      const join = kept.find((k) => k.cut && k.tile !== e.tile && k.det.classId === e.det.classId && sameInShared(k, e));
      if (join) {
        join.det = { ...join.det, box: union(join.det.box, e.det.box) };
        continue;
      }
    }
    kept.push(e);
  }
  return kept.map((k) => k.det).sort((a, b) => b.score - a.score);
}

function sameObject(a: Box | null, b: Box | null): boolean {
  return a !== null && b !== null && iou(a, b) >= SAME_OBJECT_IOU;
}

/** Two cut views agree on the part both tiles see. */
function sameInShared(a: Entry, b: Entry): boolean {
  const shared = clip(a.tile, b.tile);
  return shared !== null && sameObject(clip(a.det.box, shared), clip(b.det.box, shared));
}

/** Within half a pixel: a tile's placement may be fractional (tiles cut from a resized image). */
const EDGE_EPS = 0.5;

function reachesInnerEdge(b: Box, tile: Box, region: Box, margin: number): boolean {
  const left = tile.x > region.x + EDGE_EPS && b.x - tile.x <= margin;
  const top = tile.y > region.y + EDGE_EPS && b.y - tile.y <= margin;
  const right = tile.x + tile.w < region.x + region.w - EDGE_EPS && tile.x + tile.w - (b.x + b.w) <= margin;
  const bottom = tile.y + tile.h < region.y + region.h - EDGE_EPS && tile.y + tile.h - (b.y + b.h) <= margin;
  return left || top || right || bottom;
}

/** `b` ∩ `tile`, or null when less than a pixel wide or high. */
function clip(b: Box, tile: Box): Box | null {
  if (b.x >= tile.x && b.y >= tile.y && b.x + b.w <= tile.x + tile.w && b.y + b.h <= tile.y + tile.h) return b;
  const x1 = Math.max(b.x, tile.x);
  const y1 = Math.max(b.y, tile.y);
  const x2 = Math.min(b.x + b.w, tile.x + tile.w);
  const y2 = Math.min(b.y + b.h, tile.y + tile.h);
  return x2 - x1 < 1 || y2 - y1 < 1 ? null : { x: x1, y: y1, w: x2 - x1, h: y2 - y1 };
}

function union(a: Box, b: Box): Box {
  const x1 = Math.min(a.x, b.x);
  const y1 = Math.min(a.y, b.y);
  return { x: x1, y: y1, w: Math.max(a.x + a.w, b.x + b.w) - x1, h: Math.max(a.y + a.h, b.y + b.h) - y1 };
}

/**
 * `fn` over `items` with at most `limit` calls in flight, results in input order. After a failure
 * no further call starts; the first error is thrown once the calls in flight have settled.
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  let error: unknown;
  const lane = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i]!, i);
      } catch (e) {
        if (!failed) error = e;
        failed = true;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  if (failed) throw error;
  return results;
}
