import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ANOMALIB_NORMALIZATION, ANOMALY_GAIN, CLASSIFY_BIAS, CLASSIFY_GAIN, DETECT_CLASSES, DUPLICATE, SCORE_PRIOR, SSD_CLASSES, ULTRALYTICS_VERSION,
  anomalibExport, classifyExport, ssdExport, ultralyticsMetadata, writeTestExport, yolov5Export, yolov8DetectExport, yolov8SegExport, type SsdBoxFormat,
} from '../../scripts/lib/test-exports.js';
import { maskBits, type Detection, type ModelOutput } from '../domain/detection.js';
import { ErrorCode } from '../domain/errors.js';
import type { Box } from '../domain/geometry.js';
import { inferImages } from '../tools/infer.js';
import type { ManifestInput } from './manifest.js';
import { Model } from './model.js';

/**
 * Exports with the output layouts of real ones (scripts/lib/test-exports.ts) and known content, run
 * the whole way: sharp preprocessing → worker → decoder → original-image pixels. The detectors box
 * the bright pixels of each half of the model input and score white / red pixels over
 * (bright pixels + SCORE_PRIOR); the scenes below are placed so their edges fall on whole
 * model-input pixels, so the expected boxes and scores are exact.
 */

type Rgb = readonly [number, number, number];
const WHITE: Rgb = [255, 255, 255];
const RED: Rgb = [255, 0, 0];
const GREY: Rgb = [128, 128, 128];

const dir = mkdtempSync(join(tmpdir(), 'lineside-exports-'));
const opened: Model[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((m) => m.close()));
});

async function load(path: string, notes: string[] = []): Promise<Model> {
  const model = await Model.load('test', { path, workers: 1, threads: 1 }, { notes });
  opened.push(model);
  return model;
}

/** A w × h picture of `bg` with filled rectangles, PNG unless said. */
async function picture(w: number, h: number, bg: Rgb, rects: ReadonlyArray<{ box: Box; rgb: Rgb }> = []): Promise<Buffer> {
  const solid = (width: number, height: number, [r, g, b]: Rgb) => ({ create: { width, height, channels: 3 as const, background: { r, g, b } } });
  const layers = rects.map(({ box, rgb }) => ({ input: solid(box.w, box.h, rgb), left: box.x, top: box.y }));
  return sharp(solid(w, h, bg)).composite(layers).png().toBuffer();
}

/** Score of an object of `n` white (or red) model-input pixels. */
const scoreOf = (n: number): number => n / (n + SCORE_PRIOR);

/** 640×480, letterboxed into 320×320: scale 0.5, 40 px of padding above and below. */
const WHITE_CAP: Box = { x: 200, y: 160, w: 100, h: 80 }; // 50×40 model pixels, left half
const RED_CAP: Box = { x: 440, y: 240, w: 80, h: 64 }; // 40×32 model pixels, right half
const scene = () => picture(640, 480, GREY, [{ box: WHITE_CAP, rgb: WHITE }, { box: RED_CAP, rgb: RED }]);
const CAPS = [
  { label: 'white_cap', score: scoreOf(50 * 40), box: WHITE_CAP },
  { label: 'red_cap', score: scoreOf(40 * 32), box: RED_CAP },
];

function detections(out: ModelOutput): readonly Detection[] {
  if (out.kind !== 'detections') throw new Error(`expected detections, got ${out.kind}`);
  return out.detections;
}

function expectBox(actual: Box, expected: Box, px: number): void {
  const edges = (b: Box) => [b.x, b.y, b.x + b.w, b.y + b.h];
  const a = edges(actual);
  edges(expected).forEach((e, i) => {
    if (Math.abs(a[i]! - e) > px) expect.fail(`box ${JSON.stringify(actual)} is not within ${px} px of ${JSON.stringify(expected)}`);
  });
}

/** Exactly these detections, best first: labels, scores (to `scoreTol`) and boxes (to `px`). */
function expectDetections(out: ModelOutput, expected: ReadonlyArray<{ label: string; score: number; box: Box }>, px = 1, scoreTol = 1e-5): void {
  const got = detections(out);
  expect(got.map((d) => d.label)).toEqual(expected.map((e) => e.label));
  got.forEach((d, i) => {
    expect(Math.abs(d.score - expected[i]!.score), `${d.label} score ${d.score}`).toBeLessThanOrEqual(scoreTol);
    expectBox(d.box, expected[i]!.box, px);
  });
}

const small = (over: Partial<ManifestInput>): Omit<ManifestInput, 'sha256' | 'name'> =>
  ({ version: '1.0.0', intendedUse: 'tests', licence: 'test fixture', task: 'detect', decoder: 'yolov8', classes: [...DETECT_CLASSES], input: { width: 320, height: 320, resize: 'letterbox' }, ...over }) as Omit<ManifestInput, 'sha256' | 'name'>;

describe('Ultralytics YOLOv8 detect export, no manifest (metadata_props only)', () => {
  it('fills the manifest from the metadata and finds both caps at their original pixels; NMS drops the duplicate', async () => {
    const notes: string[] = [];
    const model = await load(await writeTestExport(dir, 'yolov8n-caps', yolov8DetectExport()), notes);
    expect(notes.join('\n')).toMatch(/no manifest: read from the model's own metadata \(ultralytics\)/);
    expect(model.manifest).toMatchObject({
      task: 'detect', decoder: 'yolov8', classes: ['white_cap', 'red_cap'], version: ULTRALYTICS_VERSION,
      intendedUse: 'Ultralytics YOLOv8n model trained on lineside-caps.yaml', licence: 'AGPL-3.0 License (https://ultralytics.com/license)',
      input: { width: 320, height: 320, layout: 'NCHW', channels: 'RGB', scale: '0-1', resize: 'letterbox', letterboxAlign: 'center', padValue: 114 },
    });
    expect(model.versionTag).toMatch(new RegExp(`^yolov8n-caps@${ULTRALYTICS_VERSION.replace(/\./g, '\\.')}\\+[0-9a-f]{12}$`));
    const r = await model.infer(await scene());
    expect(r.transform).toMatchObject({ scaleX: 0.5, scaleY: 0.5, padX: 0, padY: 40 });
    // Three anchors fire (the white cap twice); the shifted copy is suppressed.
    expectDetections(r.output, CAPS);
  });

  it('a dark image and a plain grey one give no detections', async () => {
    const model = await load(await writeTestExport(dir, 'yolov8n-empty', yolov8DetectExport()));
    for (const bg of [[0, 0, 0], GREY] as const) expect(detections((await model.infer(await picture(640, 480, bg))).output)).toEqual([]);
  });

  it('the duplicate is there before NMS: with iou 0.95 it stays, shifted and scored as the graph says', async () => {
    const manifest = small({ thresholds: { score: 0.25, iou: 0.95 } });
    const model = await load(await writeTestExport(dir, 'yolov8n-loose-nms', yolov8DetectExport(), manifest));
    const [dx, dy] = DUPLICATE.shift.map((d) => d / 0.5);
    expectDetections((await model.infer(await scene())).output, [
      CAPS[0]!,
      CAPS[1]!,
      { label: 'white_cap', score: CAPS[0]!.score * DUPLICATE.factor, box: { ...WHITE_CAP, x: WHITE_CAP.x + dx!, y: WHITE_CAP.y + dy! } },
    ]);
  });

  it('a ROI crop maps back to full-image pixels', async () => {
    const model = await load(await writeTestExport(dir, 'yolov8n-roi', yolov8DetectExport()));
    // 480×360 crop at (100, 80): scale 2/3, 40 px padding; edges land on thirds of a model pixel.
    const r = await model.infer(await scene(), { x: 100, y: 80, w: 480, h: 360 });
    expect(r.transform).toMatchObject({ offsetX: 100, offsetY: 80, padY: 40 });
    // Scores follow the caps' size in model pixels, now (2/3)² of their original area.
    expectDetections(r.output, CAPS.map((c) => ({ ...c, score: scoreOf((c.box.w * c.box.h * 4) / 9) })), 2, 0.002);
  });

  /**
   * A box reaching into the letterbox padding (here the model boxes white padding; a real head
   * overshoots a part at the crop edge) is clipped to the ROI the model was shown, never to image
   * it did not see.
   */
  it('boxes from a ROI stay inside the ROI the model saw', async () => {
    const model = await load(await writeTestExport(dir, 'yolov8n-roi-clip', yolov8DetectExport(), small({ input: { width: 320, height: 320, resize: 'letterbox', padValue: 255 } })));
    const roi = { x: 100, y: 80, w: 480, h: 360 };
    const out = (await model.infer(await scene(), roi)).output;
    expect(detections(out).length).toBeGreaterThan(0);
    for (const d of detections(out)) expectBox(d.box, { x: d.box.x, y: roi.y, w: d.box.w, h: roi.h }, 1);
  });

  it('a dynamic-shape export with a rectangular imgsz [h, w] runs at that size', async () => {
    const notes: string[] = [];
    const model = await load(await writeTestExport(dir, 'yolov8n-rect', yolov8DetectExport({ width: 320, height: 256, dynamic: true })), notes);
    expect(model.manifest.input).toMatchObject({ width: 320, height: 256, resize: 'letterbox' });
    const r = await model.infer(await scene());
    expect(r.transform).toMatchObject({ scaleX: 0.5, padX: 0, padY: 8 });
    expectDetections(r.output, CAPS);
  });

  it('an EXIF-rotated JPEG is read upright: boxes in the upright picture', async () => {
    const model = await load(await writeTestExport(dir, 'yolov8n-exif', yolov8DetectExport()));
    // Stored 480×640 turned a quarter left; orientation 6 turns it back to the 640×480 scene.
    const stored = await sharp(await scene()).rotate(-90).jpeg({ quality: 95, chromaSubsampling: '4:4:4' }).withMetadata({ orientation: 6 }).toBuffer();
    const r = await model.infer(stored);
    expect([r.transform.srcWidth, r.transform.srcHeight]).toEqual([640, 480]);
    expectDetections(r.output, CAPS, 2, 0.01);
  });
});

describe('YOLOv5 export [1, N, 5 + nc]', () => {
  it('with a manifest: score = objectness × class share, boxes in original pixels, duplicate removed', async () => {
    const model = await load(await writeTestExport(dir, 'yolov5s-caps', yolov5Export(), small({ decoder: 'yolov5' })));
    expectDetections((await model.infer(await scene())).output, CAPS);
    expect(detections((await model.infer(await picture(640, 480, [0, 0, 0]))).output)).toEqual([]);
  });

  it('without one: YOLOv5 metadata (stride, names, no task) is read as the yolov5 head', async () => {
    const notes: string[] = [];
    const model = await load(await writeTestExport(dir, 'yolov5s-meta', yolov5Export({ metadata: true })), notes);
    expect(model.manifest).toMatchObject({ decoder: 'yolov5', classes: ['white_cap', 'red_cap'], input: { width: 320, height: 320, resize: 'letterbox' } });
    expect(notes.join('\n')).toMatch(/\(yolov5\)/);
    expectDetections((await model.infer(await scene())).output, CAPS);
  });
});

describe('Ultralytics YOLOv8-seg export, no manifest', () => {
  // Edges on 8 original px = 4 model px = one prototype cell.
  const SQUARE: Box = { x: 200, y: 160, w: 96, h: 80 };
  const L_TOP: Box = { x: 400, y: 96, w: 160, h: 48 };
  const L_STEM: Box = { x: 400, y: 144, w: 48, h: 112 };
  const segScene = () => picture(640, 480, GREY, [{ box: SQUARE, rgb: WHITE }, { box: L_TOP, rgb: RED }, { box: L_STEM, rgb: RED }]);

  it('boxes, scores and masks: the L-shaped cap masks its own cells, not its box', async () => {
    const model = await load(await writeTestExport(dir, 'yolov8n-seg-caps', yolov8SegExport()));
    expect(model.manifest).toMatchObject({ task: 'segment', decoder: 'yolov8-seg', outputs: ['output0', 'output1'], input: { resize: 'letterbox' } });
    const out = (await model.infer(await segScene())).output;
    const lPixels = (80 * 24 + 24 * 56); // model pixels of the L
    expectDetections(out, [
      { label: 'red_cap', score: scoreOf(lPixels), box: { x: 400, y: 96, w: 160, h: 160 } },
      { label: 'white_cap', score: scoreOf(48 * 40), box: SQUARE },
    ]);
    const [l, square] = detections(out) as [Detection, Detection];
    expect(square.mask).toMatchObject({ width: 12, height: 10, counts: [0, 120], placement: SQUARE, area: 96 * 80 });
    expect(l.mask).toMatchObject({ width: 20, height: 20, placement: { x: 400, y: 96, w: 160, h: 160 }, area: 160 * 48 + 48 * 112 });
    // 8×8-pixel cells: the top 6 rows full, then the stem's 6 columns.
    const bits = maskBits(l.mask!);
    const expected = Array.from({ length: 400 }, (_, k) => (Math.floor(k / 20) < 6 || k % 20 < 6 ? 1 : 0));
    expect(Array.from(bits)).toEqual(expected);
  });
});

describe('SSD export: boxes [1, N, 4] + scores [1, N, nc]', () => {
  // 640×480 stretched to 300×300 (scale 0.46875 × 0.625): edges on whole model pixels.
  const W_CAP: Box = { x: 192, y: 160, w: 128, h: 96 }; // 60×60 model pixels
  const R_CAP: Box = { x: 384, y: 320, w: 128, h: 64 }; // 60×40
  const ssdScene = () => picture(640, 480, GREY, [{ box: W_CAP, rgb: WHITE }, { box: R_CAP, rgb: RED }]);

  it.each<SsdBoxFormat>(['yxyx', 'xyxy', 'cxcywh'])('%s, normalised: the background column is never reported, boxes in original pixels', async (format) => {
    const manifest = small({ classes: [...SSD_CLASSES], decoder: 'ssd', input: { width: 300, height: 300, resize: 'stretch' }, ssd: { boxFormat: format, boxUnits: 'normalized', backgroundClass: 0 } });
    const model = await load(await writeTestExport(dir, `ssd-${format}`, ssdExport({ format }), manifest));
    const out = (await model.infer(await ssdScene())).output;
    expectDetections(out, [
      { label: 'white_cap', score: scoreOf(60 * 60), box: W_CAP },
      { label: 'red_cap', score: scoreOf(60 * 40), box: R_CAP },
    ], 2, 0.005);
    expect(detections(out).map((d) => d.classId)).toEqual([1, 2]);
    expect(detections((await model.infer(await picture(640, 480, [0, 0, 0]))).output)).toEqual([]);
  });
});

describe('anomalib export: pred_score + anomaly_map', () => {
  const { threshold, pixelThreshold, min, max } = ANOMALIB_NORMALIZATION;
  const norm = (raw: number, t: number) => Math.min(1, Math.max(0, (raw - t) / (max - min) + 0.5));
  // 640×480 stretched to 256×256 (0.4 × 0.533): the spot is 40×48 map cells of 2.5 × 1.875 px.
  const SPOT: Box = { x: 200, y: 150, w: 100, h: 90 };
  const spotScene = () => picture(640, 480, GREY, [{ box: SPOT, rgb: WHITE }]);
  const expectSpot = (out: ModelOutput) => {
    if (out.kind !== 'scores') throw new Error('expected scores');
    const s = norm(ANOMALY_GAIN * 0.5, threshold); // white: raw 10
    expect(out.scores.map((c) => c.label)).toEqual(['normal', 'anomaly']);
    expect(out.scores[1]!.score).toBeCloseTo(s, 5);
    expect(out.scores[0]!.score).toBeCloseTo(1 - s, 5);
    expect(out.regions).toHaveLength(1);
    const region = out.regions![0]!;
    expect(region).toMatchObject({ label: 'anomaly', classId: 1, score: norm(10, pixelThreshold) });
    expectBox(region.box, SPOT, 1e-6);
    expect(region.mask!.area).toBeCloseTo(100 * 90, 6);
    expect(out.anomalyMap).toEqual({ width: 256, height: 256, maxScore: 1, anomalousFraction: (40 * 48) / 256 ** 2 });
  };

  it('normalisation from its metadata, no manifest: image score, region box and map summary', async () => {
    const model = await load(await writeTestExport(dir, 'padim', anomalibExport()));
    expect(model.manifest).toMatchObject({ task: 'anomaly', decoder: 'anomalib', classes: ['normal', 'anomaly'], anomalib: { normalization: ANOMALIB_NORMALIZATION }, input: { width: 256, height: 256, resize: 'stretch' } });
    expectSpot((await model.infer(await spotScene())).output);
  });

  it('0.5 is the threshold: an image whose raw score equals image_threshold scores 0.5; plain grey scores 0', async () => {
    const model = await load(await writeTestExport(dir, 'padim-threshold', anomalibExport()));
    // max channel 204/255 = 0.8 → raw 20 × 0.3 = 6 = image_threshold; pixels (6 − 5)/10 + 0.5 = 0.6.
    const at = (await model.infer(await picture(640, 480, [204, 60, 60]))).output;
    if (at.kind !== 'scores') throw new Error('expected scores');
    expect(at.scores[1]!.score).toBeCloseTo(0.5, 5);
    expect(at.regions).toHaveLength(1);
    expect(at.regions![0]!.score).toBeCloseTo(norm(6, pixelThreshold), 5);
    expectBox(at.regions![0]!.box, { x: 0, y: 0, w: 640, h: 480 }, 1e-6);
    expect(at.anomalyMap).toMatchObject({ anomalousFraction: 1 });
    const grey = (await model.infer(await picture(640, 480, GREY))).output;
    expect(grey).toMatchObject({ kind: 'scores', scores: [{ label: 'normal', score: 1 }, { label: 'anomaly', score: 0 }], regions: [] });
  });

  it('without normalisation metadata it needs a manifest, and runs the same with one', async () => {
    const bare = await writeTestExport(dir, 'padim-bare', anomalibExport({ normalization: 'none' }));
    await expect(load(bare)).rejects.toMatchObject({ code: ErrorCode.modelLoad, message: expect.stringContaining('anomaly score normalisation') });
    const manifest = small({ task: 'anomaly', decoder: 'anomalib', classes: ['normal', 'anomaly'], input: { width: 256, height: 256, resize: 'stretch' }, anomalib: { normalization: { ...ANOMALIB_NORMALIZATION } } });
    const model = await load(await writeTestExport(dir, 'padim-manifest', anomalibExport({ normalization: 'none' }), manifest));
    expectSpot((await model.infer(await spotScene())).output);
  });

  it('normalised inside the graph (in-model) gives the same answer', async () => {
    const manifest = small({ task: 'anomaly', decoder: 'anomalib', classes: ['normal', 'anomaly'], input: { width: 256, height: 256, resize: 'stretch' }, anomalib: { normalization: 'in-model' } });
    const model = await load(await writeTestExport(dir, 'padim-in-model', anomalibExport({ normalization: 'in-model' }), manifest));
    expectSpot((await model.infer(await spotScene())).output);
  });

  it('letterboxed with black padding: the padding is not an anomaly, nor counted in the map summary', async () => {
    const manifest = small({ task: 'anomaly', decoder: 'anomalib', classes: ['normal', 'anomaly'], input: { width: 256, height: 256, resize: 'letterbox', padValue: 0 }, anomalib: { normalization: { ...ANOMALIB_NORMALIZATION } } });
    const model = await load(await writeTestExport(dir, 'padim-letterbox', anomalibExport({ normalization: 'none' }), manifest));
    // 640×480 → 256×192 (scale 0.4), 32 px of padding above and below; the spot is 40×36 pixels.
    const out = (await model.infer(await spotScene())).output;
    if (out.kind !== 'scores') throw new Error('expected scores');
    expect(out.regions).toHaveLength(1);
    expectBox(out.regions![0]!.box, SPOT, 1e-6);
    expect(out.anomalyMap).toEqual({ width: 256, height: 256, maxScore: 1, anomalousFraction: (40 * 36) / (256 * 192) });
  });

  // A second-stage model judges crops (a ROI) letterboxed into its input, with black padding.
  const roiManifest = small({ task: 'anomaly', decoder: 'anomalib', classes: ['normal', 'anomaly'], input: { width: 256, height: 256, resize: 'letterbox', padValue: 0 }, anomalib: { normalization: { ...ANOMALIB_NORMALIZATION } } });
  const inside = (b: Box, r: Box) => b.x >= r.x && b.y >= r.y && b.x + b.w <= r.x + r.w + 1e-6 && b.y + b.h <= r.y + r.h + 1e-6;

  it('a ROI crop with even letterbox padding: one region, the spot, inside the ROI', async () => {
    const model = await load(await writeTestExport(dir, 'padim-roi-even', anomalibExport({ normalization: 'none' }), roiManifest));
    const roi = { x: 100, y: 80, w: 480, h: 360 }; // → 256×192, 32 px padding above and 32 below
    const out = (await model.infer(await spotScene(), roi)).output;
    if (out.kind !== 'scores') throw new Error('expected scores');
    expect(out.regions).toHaveLength(1);
    expectBox(out.regions![0]!.box, SPOT, 2);
    expect(inside(out.regions![0]!.box, roi)).toBe(true);
  });

  /**
   * With a centred letterbox and odd padding the bottom side has one pixel more than the top; that
   * padding row is not image, so it never becomes an anomalous region below the ROI nor inflates
   * the anomalous fraction.
   */
  it('a ROI crop with odd letterbox padding: the extra padding row is not an anomaly', async () => {
    const model = await load(await writeTestExport(dir, 'padim-roi-odd', anomalibExport({ normalization: 'none' }), roiManifest));
    const even = (await model.infer(await spotScene(), { x: 100, y: 80, w: 480, h: 360 })).output;
    const roi = { x: 100, y: 80, w: 480, h: 361 }; // → 256×193, padding 31 px above, 32 below
    const r = await model.infer(await spotScene(), roi);
    expect(r.transform).toMatchObject({ padY: 31 });
    const out = r.output;
    if (out.kind !== 'scores' || even.kind !== 'scores') throw new Error('expected scores');
    expect(out.regions!.filter((d) => !inside(d.box, roi)).map((d) => d.box)).toEqual([]);
    expect(out.regions).toHaveLength(1);
    expect(Math.abs(out.anomalyMap!.anomalousFraction - even.anomalyMap!.anomalousFraction)).toBeLessThan(0.002);
  });
});

describe('Ultralytics classify export, no manifest', () => {
  const softmax = (x: readonly number[]) => {
    const e = x.map((v) => Math.exp(v - Math.max(...x)));
    const sum = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / sum);
  };
  const expected = (rgb: Rgb) => softmax(rgb.map((c, i) => CLASSIFY_GAIN * (c / 255) + CLASSIFY_BIAS[i]!));

  it('class scores are the softmax the graph computes, in the order of names', async () => {
    const model = await load(await writeTestExport(dir, 'yolov8n-cls', classifyExport()));
    expect(model.manifest).toMatchObject({ task: 'classify', decoder: 'softmax', softmaxApplied: true, classes: ['red', 'green', 'blue'], input: { width: 224, height: 224, resize: 'stretch' } });
    for (const rgb of [RED, [0, 255, 0], [0, 0, 255], GREY, [200, 40, 90]] as const) {
      const out = (await model.infer(await picture(320, 240, rgb))).output;
      if (out.kind !== 'scores') throw new Error('expected scores');
      expect(out.scores.map((s) => s.label)).toEqual(['red', 'green', 'blue']);
      // float32 channel means over 50,176 pixels: about 1e-5 off in the logits' last digits.
      expected(rgb).forEach((p, i) => expect(out.scores[i]!.score).toBeCloseTo(p, 4));
    }
  });
});

describe('lineside infer on a self-describing export', () => {
  it('reports the decoded caps in original pixels and draws them on an annotated copy', async () => {
    const model = await writeTestExport(dir, 'yolov8n-infer', yolov8DetectExport());
    const image = join(dir, 'caps.png');
    await sharp(await scene()).toFile(image);
    const report = await inferImages({ model, images: [image], outDir: dir });
    expect(report.manifest).toBe(`metadata of ${model}`);
    expect(report.version).toMatch(/^yolov8n-infer@8\.3\.40\+/);
    const r = report.images[0]!;
    if ('error' in r) throw new Error(r.error);
    expect([r.width, r.height]).toEqual([640, 480]);
    expectDetections(r.output, CAPS, 1, 1e-3);
    const { data, info } = await sharp(r.annotated).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([640, 480]);
    const at = (x: number, y: number) => [...data.subarray((y * 640 + x) * 3, (y * 640 + x) * 3 + 3)];
    // The white cap's left edge is stroked in class 0's colour (230, 25, 75); its inside stays white.
    const [r0, g0] = at(WHITE_CAP.x, WHITE_CAP.y + 40) as [number, number, number];
    expect(r0 - g0).toBeGreaterThan(100);
    expect(at(WHITE_CAP.x + 50, WHITE_CAP.y + 40).every((c) => c > 230)).toBe(true);
  });
});

// The metadata the Ultralytics exports carry is the exporter's (kept here so a reader sees it).
it('writes Ultralytics metadata as str() of Python values', () => {
  expect(ultralyticsMetadata('detect', ["it's", 'cap'], 320, 256)).toMatchObject({ names: `{0: "it's", 1: 'cap'}`, imgsz: '[256, 320]', task: 'detect', channels: '3' });
});
