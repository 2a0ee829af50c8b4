import { describe, expect, it } from 'vitest';
import type { Detection } from '../domain/detection.js';
import { intersection, type Box } from '../domain/geometry.js';
import { manifestSchema } from './manifest.js';
import { axisStarts, mapLimit, MAX_TILES, mergeTileDetections, tileLayout, type MergeOptions } from './tiling.js';

/** Every pixel of `region` lies in some tile (checked pixel by pixel: keep regions small). */
function uncovered(region: Box, tiles: readonly Box[]): number {
  let missing = 0;
  for (let y = region.y; y < region.y + region.h; y++) {
    for (let x = region.x; x < region.x + region.w; x++) {
      if (!tiles.some((t) => x >= t.x && x < t.x + t.w && y >= t.y && y < t.y + t.h)) missing++;
    }
  }
  return missing;
}

describe('tileLayout', () => {
  it('lays 640-px tiles with 20 % overlap over 2560×1600: 5 × 3, the last column and row on the edge', () => {
    expect(axisStarts(2560, 640, 0.2)).toEqual([0, 512, 1024, 1536, 1920]);
    expect(axisStarts(1600, 640, 0.2)).toEqual([0, 512, 960]);
    const tiles = tileLayout({ x: 0, y: 0, w: 2560, h: 1600 }, 640, 0.2);
    expect(tiles).toHaveLength(15);
    expect(tiles.every((t) => t.w === 640 && t.h === 640)).toBe(true);
    // Row by row.
    expect(tiles.slice(0, 5).map((t) => t.x)).toEqual([0, 512, 1024, 1536, 1920]);
    expect(tiles.filter((t) => t.x === 0).map((t) => t.y)).toEqual([0, 512, 960]);
    expect(Math.max(...tiles.map((t) => t.x + t.w))).toBe(2560);
    expect(Math.max(...tiles.map((t) => t.y + t.h))).toBe(1600);
  });

  it('an image (or ROI) smaller than a tile is one tile of its own size; smaller on one axis, one row', () => {
    expect(tileLayout({ x: 0, y: 0, w: 300, h: 200 }, 640, 0.2)).toEqual([{ x: 0, y: 0, w: 300, h: 200 }]);
    expect(tileLayout({ x: 0, y: 0, w: 640, h: 640 }, 640, 0.2)).toEqual([{ x: 0, y: 0, w: 640, h: 640 }]);
    expect(tileLayout({ x: 10, y: 20, w: 1400, h: 300 }, 640, 0.25)).toEqual([
      { x: 10, y: 20, w: 640, h: 300 },
      { x: 490, y: 20, w: 640, h: 300 },
      { x: 770, y: 20, w: 640, h: 300 },
    ]);
  });

  it('covers every pixel, overlaps neighbours by at least the requested share, stays inside the region (many sizes)', () => {
    for (const [w, h, tile, overlap] of [
      [97, 61, 32, 0.2],
      [128, 64, 32, 0],
      [129, 65, 32, 0],
      [200, 150, 40, 0.5],
      [333, 77, 50, 0.33],
      [64, 300, 64, 0.1],
    ] as const) {
      const region = { x: 7, y: 3, w, h };
      const tiles = tileLayout(region, tile, overlap);
      const label = `${w}×${h} tile ${tile} overlap ${overlap}`;
      expect(uncovered(region, tiles), label).toBe(0);
      for (const t of tiles) {
        expect(t.x >= region.x && t.y >= region.y && t.x + t.w <= region.x + w && t.y + t.h <= region.y + h, label).toBe(true);
        expect(Number.isInteger(t.x) && Number.isInteger(t.y), label).toBe(true);
      }
      for (const [size, starts] of [[w, axisStarts(w, tile, overlap)], [h, axisStarts(h, tile, overlap)]] as const) {
        const side = Math.min(tile, size);
        expect(starts[0], label).toBe(0);
        expect(starts.at(-1)! + side, `${label}: last tile on the edge`).toBe(size);
        for (let i = 1; i < starts.length; i++) {
          const shared = starts[i - 1]! + side - starts[i]!;
          expect(shared, `${label}: neighbours ${i - 1}, ${i} share ${shared} px`).toBeGreaterThanOrEqual(Math.floor(overlap * tile));
          expect(starts[i]! > starts[i - 1]!, `${label}: no repeated tile`).toBe(true);
        }
      }
    }
  });

  it('the 2560×1600 layout covers the image (sampled every 7 px) and every object up to the overlap lies whole in some tile', () => {
    const region = { x: 0, y: 0, w: 2560, h: 1600 };
    const tiles = tileLayout(region, 640, 0.2);
    const overlapPx = 128;
    for (let y = 0; y < 1600; y += 7) for (let x = 0; x < 2560; x += 7) expect(tiles.some((t) => x >= t.x && x < t.x + t.w && y >= t.y && y < t.y + t.h)).toBe(true);
    for (let y = 0; y + overlapPx <= 1600; y += 37) {
      for (let x = 0; x + overlapPx <= 2560; x += 41) {
        const obj = { x, y, w: overlapPx, h: overlapPx };
        expect(tiles.some((t) => intersection(t, obj) === overlapPx * overlapPx), `object at ${x},${y}`).toBe(true);
      }
    }
  });
});

const det = (label: string, score: number, box: Box): Detection => ({ classId: ['tablet', 'broken_tablet', 'crack'].indexOf(label), label, score, box });
const OPTS: MergeOptions = { iou: 0.45, classAgnostic: false, maxDetections: 300 };
/** Two 100-px tiles side by side over a 180-px wide region, sharing x 80..100. */
const REGION = { x: 0, y: 0, w: 180, h: 100 };
const LEFT = { x: 0, y: 0, w: 100, h: 100 };
const RIGHT = { x: 80, y: 0, w: 100, h: 100 };

describe('mergeTileDetections', () => {
  it('one object seen whole by two overlapping tiles is reported once', () => {
    const merged = mergeTileDetections(
      [
        { tile: LEFT, detections: [det('tablet', 0.9, { x: 82, y: 40, w: 14, h: 14 })] },
        { tile: RIGHT, detections: [det('tablet', 0.95, { x: 82.5, y: 40, w: 14, h: 14 })] },
      ],
      REGION,
      OPTS,
    );
    expect(merged).toEqual([det('tablet', 0.95, { x: 82.5, y: 40, w: 14, h: 14 })]);
  });

  it('a part cut by an inner tile edge gives way to the whole view, whatever class it was given (half a tablet is not a broken tablet)', () => {
    const whole = det('tablet', 0.8, { x: 90, y: 40, w: 20, h: 20 });
    const merged = mergeTileDetections(
      [
        // The left tile sees only x 90..100 of it and, scoring higher, calls it broken.
        { tile: LEFT, detections: [det('broken_tablet', 0.97, { x: 90, y: 40, w: 10, h: 20 })] },
        { tile: RIGHT, detections: [whole] },
      ],
      REGION,
      OPTS,
    );
    expect(merged).toEqual([whole]);
  });

  it('drops a cut box where another tile saw the area whole and found nothing (a card corner cut by a tile edge is no defect)', () => {
    const merged = mergeTileDetections(
      [
        { tile: LEFT, detections: [det('broken_tablet', 0.6, { x: 88, y: 20, w: 12, h: 14 })] },
        { tile: RIGHT, detections: [] },
      ],
      REGION,
      OPTS,
    );
    expect(merged).toEqual([]);
  });

  it('keeps a cut box that no other tile sees whole', () => {
    // Tall region: RIGHT covers x 80..180, so a box from x 70 is not inside it.
    const lone = det('broken_tablet', 0.6, { x: 70, y: 20, w: 30, h: 14 });
    expect(mergeTileDetections([{ tile: LEFT, detections: [lone] }, { tile: RIGHT, detections: [] }], REGION, OPTS)).toEqual([lone]);
  });

  it('keeps a small defect inside a larger object near a tile edge, and clips boxes to their tile', () => {
    const merged = mergeTileDetections(
      [
        { tile: LEFT, detections: [det('crack', 0.75, { x: 92, y: 50, w: 8, h: 4 }), det('tablet', 0.9, { x: 84, y: 30, w: 16, h: 40 })] },
        {
          tile: RIGHT,
          detections: [det('tablet', 0.9, { x: 84, y: 30, w: 40, h: 40 }), det('crack', 0.7, { x: 92, y: 50, w: 10, h: 4 }), det('tablet', 0.6, { x: 170, y: 10, w: 30, h: 20 })],
        },
      ],
      REGION,
      OPTS,
    );
    expect(merged).toEqual([
      det('tablet', 0.9, { x: 84, y: 30, w: 40, h: 40 }),
      det('crack', 0.7, { x: 92, y: 50, w: 10, h: 4 }),
      det('tablet', 0.6, { x: 170, y: 10, w: 10, h: 20 }),
    ]);
  });

  it('joins the two cut halves of an object larger than the overlap (same class) into one box', () => {
    const merged = mergeTileDetections(
      [
        { tile: LEFT, detections: [det('tablet', 0.9, { x: 40, y: 30, w: 60, h: 30 })] },
        { tile: RIGHT, detections: [det('tablet', 0.85, { x: 80, y: 31, w: 70, h: 30 })] },
      ],
      REGION,
      OPTS,
    );
    expect(merged).toEqual([det('tablet', 0.9, { x: 40, y: 30, w: 110, h: 31 })]);
  });

  it('keeps cut pieces of different classes (a defect is never merged away)', () => {
    const merged = mergeTileDetections(
      [
        { tile: LEFT, detections: [det('broken_tablet', 0.9, { x: 40, y: 30, w: 60, h: 30 })] },
        { tile: RIGHT, detections: [det('tablet', 0.85, { x: 80, y: 31, w: 70, h: 30 })] },
      ],
      REGION,
      OPTS,
    );
    expect(merged.map((d) => d.label)).toEqual(['broken_tablet', 'tablet']);
  });

  it('a box at the outer edge of the region is not cut; the cap and class-agnostic NMS apply', () => {
    const a = det('tablet', 0.9, { x: 0, y: 10, w: 20, h: 20 });
    const b = det('broken_tablet', 0.8, { x: 1, y: 10, w: 20, h: 20 });
    const c = det('tablet', 0.7, { x: 40, y: 40, w: 10, h: 10 });
    expect(mergeTileDetections([{ tile: LEFT, detections: [a, b, c] }], REGION, OPTS)).toEqual([a, b, c]);
    expect(mergeTileDetections([{ tile: LEFT, detections: [a, b, c] }], REGION, { ...OPTS, classAgnostic: true })).toEqual([a, c]);
    expect(mergeTileDetections([{ tile: LEFT, detections: [a, b, c] }], REGION, { ...OPTS, maxDetections: 2 })).toEqual([a, b]);
  });
});

describe('mapLimit', () => {
  it('keeps at most `limit` calls in flight and returns results in order', async () => {
    let inFlight = 0;
    let most = 0;
    const out = await mapLimit([5, 1, 4, 2, 3, 0], 2, async (v, i) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, v));
      inFlight--;
      return v * 10 + i;
    });
    expect(out).toEqual([50, 11, 42, 23, 34, 5]);
    expect(most).toBe(2);
  });

  it('starts nothing more after a failure and throws the first error', async () => {
    const started: number[] = [];
    await expect(
      mapLimit([0, 1, 2, 3, 4], 1, async (v) => {
        started.push(v);
        if (v === 1) throw new Error('tile 1 failed');
        return v;
      }),
    ).rejects.toThrow('tile 1 failed');
    expect(started).toEqual([0, 1]);
  });
});

describe('manifest input.tiling', () => {
  const base = {
    name: 't', version: '1', task: 'detect', decoder: 'yolov8', classes: ['a'], intendedUse: 'test', licence: 'test', sha256: '0'.repeat(64),
    input: { width: 320, height: 320 },
  };

  it('defaults overlap to 0.2 and is off when omitted', () => {
    expect(manifestSchema.parse(base).input.tiling).toBeUndefined();
    expect(manifestSchema.parse({ ...base, input: { ...base.input, tiling: { tile: 640 } } }).input.tiling).toEqual({ tile: 640, overlap: 0.2 });
  });

  it('refuses overlap outside 0–0.5, a tiny tile, and tiling with a decoder that does not give boxes', () => {
    const issue = (m: unknown) => {
      const r = manifestSchema.safeParse(m);
      return r.success ? 'ok' : `${r.error.issues[0]!.path.join('.')}: ${r.error.issues[0]!.message}`;
    };
    expect(issue({ ...base, input: { ...base.input, tiling: { tile: 640, overlap: 0.6 } } })).toMatch(/^input\.tiling\.overlap/);
    expect(issue({ ...base, input: { ...base.input, tiling: { tile: 8 } } })).toMatch(/^input\.tiling\.tile/);
    for (const decoder of ['yolov5', 'yolox', 'ssd', 'blazeface']) {
      expect(issue({ ...base, decoder, input: { ...base.input, tiling: { tile: 640 } } }), decoder).toBe('ok');
    }
    expect(issue({ ...base, task: 'classify', decoder: 'softmax', input: { ...base.input, tiling: { tile: 640 } } })).toBe(
      'input.tiling: tiling needs a box decoder (yolov8, yolov5, yolox, ssd, blazeface, detections), the decoder is softmax',
    );
    expect(issue({ ...base, task: 'segment', decoder: 'yolov8-seg', input: { ...base.input, tiling: { tile: 640 } } })).toMatch(/^input\.tiling: tiling needs a box decoder/);
    expect(MAX_TILES).toBeGreaterThanOrEqual(100);
  });
});
