import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { parse as parseYaml } from 'yaml';
import { ErrorCode, LinesideError } from '../domain/errors.js';

/** Decoder families (one file each under decoders/) and the task each one serves. */
export const DECODER_TASK = {
  /** `[1, nc]` class probabilities or logits. */
  softmax: 'classify',
  /** Ultralytics YOLOv8/v11 detect head `[1, 4 + nc, N]` (or transposed `[1, N, 4 + nc]`). */
  yolov8: 'detect',
  /** YOLOv5 `[1, N, 5 + nc]`: cx, cy, w, h, objectness, class scores. */
  yolov5: 'detect',
  /** YOLOv8/v11-seg: `[1, 4 + nc + nm, N]` plus mask prototypes `[1, nm, mh, mw]`. */
  'yolov8-seg': 'segment',
  /** Raw YOLOX head `[1, N, 5 + nc]` (export with decode_in_inference=False): grid offsets. */
  yolox: 'detect',
  /** Boxes `[1, N, 4]` and class scores `[1, N, nc]`. */
  ssd: 'detect',
  /** anomalib export: `pred_score`, optionally `anomaly_map`, `pred_label`, `pred_mask`. */
  anomalib: 'anomaly',
  /** Per-pixel semantic segmentation `[1, nc, h, w]`. */
  segmentation: 'segment',
  /** MediaPipe BlazeFace: a score logit and box/keypoint regressors per anchor of fixed grids. */
  blazeface: 'detect',
  /** Decoded in the graph: `[1, N, 6]` rows of box, score, class index (CenterNet in @vladmandic/human). */
  detections: 'detect',
} as const;
export type DecoderFamily = keyof typeof DECODER_TASK;
const decoderFamilies = Object.keys(DECODER_TASK) as [DecoderFamily, ...DecoderFamily[]];

/** `yolox` options. */
export const yoloxOptionsSchema = z.strictObject({
  /** Head strides in the order the export concatenates its grids (rows: stride, then y, then x). */
  strides: z.array(z.number().int().min(1).max(512)).min(1).default([8, 16, 32]),
});

/** `ssd` options. */
export const ssdOptionsSchema = z.strictObject({
  /** Column order of the box tensor: corners x1,y1,x2,y2 / y1,x1,y2,x2 (TensorFlow) / centre and size. */
  boxFormat: z.enum(['xyxy', 'yxyx', 'cxcywh']).default('xyxy'),
  /** `normalized`: 0–1 of the model input's width/height; `pixels`: model-input pixels. */
  boxUnits: z.enum(['normalized', 'pixels']).default('normalized'),
  /** What the graph leaves to do on the scores: nothing (probabilities), softmax or sigmoid over logits. */
  activation: z.enum(['none', 'softmax', 'sigmoid']).default('none'),
  /** Score column of the background class, never reported (it still needs a name in `classes`). */
  backgroundClass: z.number().int().min(0).optional(),
});

/** `blazeface` options (defaults fit MediaPipe's BlazeFace graphs: 2 and 6 anchors per cell). */
export const blazefaceOptionsSchema = z.strictObject({
  /** Grid strides in the order the anchors are concatenated; default input/16 and input/8 (16, 32 for a 256 input). */
  strides: z.array(z.number().int().min(1).max(512)).min(1).optional(),
  /** Anchors at each cell of each grid, in the order of `strides`. */
  anchorsPerCell: z.array(z.number().int().min(1).max(64)).min(1).default([2, 6]),
});

/** `detections` options. */
export const detectionsOptionsSchema = z.strictObject({
  /** Column order of the four box columns: corners x1,y1,x2,y2 or y1,x1,y2,x2 (TensorFlow). */
  boxFormat: z.enum(['xyxy', 'yxyx']).default('xyxy'),
  /** `pixels`: model-input pixels; `normalized`: 0–1 of the model input's width/height. */
  boxUnits: z.enum(['pixels', 'normalized']).default('pixels'),
});

/** `segmentation` options. */
export const segmentationOptionsSchema = z.strictObject({
  /** `logits` (the usual export) or `probabilities` (the graph ends in softmax/sigmoid). */
  scores: z.enum(['logits', 'probabilities']).default('logits'),
  /**
   * Classes exclude each other per pixel (softmax, pixel goes to its best class) or are
   * independent (sigmoid, a pixel belongs to every class scoring ≥ 0.5). A single-channel map is
   * always independent (a binary mask).
   */
  exclusive: z.boolean().default(true),
  /** Class index never reported as regions (its coverage is still reported). */
  backgroundClass: z.number().int().min(0).optional(),
});

/**
 * anomalib's min–max normalisation, as its export metadata gives it: normalised =
 * clip((raw − threshold) / (max − min) + 0.5, 0, 1), so 0.5 is the model's own threshold.
 */
const anomalibNormalizationSchema = z
  .strictObject({
    /** Image threshold (anomalib `image_threshold`), raw score units. */
    threshold: z.number(),
    /** Pixel threshold for `anomaly_map` (anomalib `pixel_threshold`); defaults to `threshold`. */
    pixelThreshold: z.number().optional(),
    /** Raw score range seen at validation (anomalib `min`, `max`). */
    min: z.number(),
    max: z.number(),
  })
  .refine((n) => n.max > n.min, { message: 'max must be greater than min' });

/** `anomalib` options (required with that decoder: a raw score mistaken for a normalised one is silently wrong). */
export const anomalibOptionsSchema = z.strictObject({
  /** The raw threshold and range to normalise with, or `in-model` when the export already normalises (0.5 = threshold). */
  normalization: z.union([z.literal('in-model'), anomalibNormalizationSchema]),
});

export type YoloxOptions = z.output<typeof yoloxOptionsSchema>;
export type SsdOptions = z.output<typeof ssdOptionsSchema>;
export type SegmentationOptions = z.output<typeof segmentationOptionsSchema>;
export type BlazefaceOptions = z.output<typeof blazefaceOptionsSchema>;
export type DetectionsOptions = z.output<typeof detectionsOptionsSchema>;
export type AnomalibOptions = z.output<typeof anomalibOptionsSchema>;

const nmsDefaults = { classAgnostic: false, maxDetections: 300 };

/** Decoders whose output is boxes on the model input, which tiling can map back and merge. */
export const BOX_DECODERS: ReadonlySet<DecoderFamily> = new Set<DecoderFamily>(['yolov8', 'yolov5', 'yolox', 'ssd', 'blazeface', 'detections']);

/**
 * `input.tiling`: cut the image (or ROI) into overlapping square tiles of `tile` original pixels,
 * run each through the model as its own input, and merge the detections in original coordinates
 * (small defects on large images). The last row/column of tiles is aligned to the edge.
 */
export const tilingSchema = z.strictObject({
  /** Tile side in original-image pixels (a smaller image or ROI is one tile of its own size). */
  tile: z.number().int().min(32).max(16_384),
  /** Share of a tile that overlaps its neighbour, 0–0.5; choose it so the largest object fits in the overlap. */
  overlap: z.number().min(0).max(0.5).default(0.2),
});

/** One detector canary expectation: how many detections of `label` scoring ≥ `minScore`. */
const canaryCountSchema = z
  .strictObject({
    label: z.string().min(1),
    /** At least this many; defaults to 1, or to 0 when only `max` is given. */
    min: z.number().int().min(0).optional(),
    /** At most this many. */
    max: z.number().int().min(0).optional(),
    /** Count detections scoring at least this (default: every reported detection, i.e. `thresholds.score`). */
    minScore: z.number().min(0).max(1).optional(),
  })
  .transform((e) => ({ ...e, min: e.min ?? (e.max === undefined ? 1 : 0) }))
  .refine((e) => e.max === undefined || e.min <= e.max, { message: 'min is more than max' });

/** Classifier / anomaly canary: `label` must be the top class, scoring at least `minScore` when given. */
const canaryClassSchema = z.strictObject({
  label: z.string().min(1),
  minScore: z.number().min(0).max(1).optional(),
});

/**
 * `canary`: an image with a known answer, run through the whole path (preprocessing, worker,
 * decoder, tiling) when the model loads; a model that gets it wrong is refused.
 */
export const canarySchema = z.strictObject({
  /** Image path, relative to the manifest file's folder (or absolute). */
  image: z.string().min(1),
  /** Detectors (detect, segment): counts per label. Classifiers and anomaly models: the top class. */
  expect: z.union([z.array(canaryCountSchema).min(1), canaryClassSchema]),
});

export type Tiling = z.output<typeof tilingSchema>;
export type Canary = z.output<typeof canarySchema>;
export type CanaryCount = z.output<typeof canaryCountSchema>;
export type CanaryClass = z.output<typeof canaryClassSchema>;

/**
 * A model manifest: the small file beside an `.onnx` that says how to feed it and how to read its
 * outputs (DESIGN.md, Models). JSON or YAML.
 */
export const manifestSchema = z.strictObject({
  name: z.string().min(1),
  version: z.string().min(1),
  /** What the model does; must match the decoder family (see DECODER_TASK). */
  task: z.enum(['classify', 'detect', 'segment', 'anomaly']),
  decoder: z.enum(decoderFamilies),
  input: z.strictObject({
    name: z.string().min(1).optional(),
    width: z.number().int().min(8).max(4096),
    height: z.number().int().min(8).max(4096),
    layout: z.enum(['NCHW', 'NHWC']).default('NCHW'),
    channels: z.enum(['RGB', 'BGR']).default('RGB'),
    /** `0-1` divides by 255 before mean/std; `0-255` keeps raw pixel values. */
    scale: z.enum(['0-1', '0-255']).default('0-1'),
    mean: z.tuple([z.number(), z.number(), z.number()]).default([0, 0, 0]),
    std: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]).default([1, 1, 1]),
    resize: z.enum(['stretch', 'letterbox']).default('stretch'),
    letterboxAlign: z.enum(['center', 'top-left']).default('center'),
    /** Letterbox padding, 0–255 per channel value. */
    padValue: z.number().int().min(0).max(255).default(114),
    /** Box decoders only: infer overlapping tiles of the image and merge (off when omitted). */
    tiling: tilingSchema.optional(),
  }),
  /** Output tensor names, in the order the decoder reads them (defaults to the model's own order). */
  outputs: z.array(z.string().min(1)).optional(),
  classes: z.array(z.string().min(1)).min(1),
  thresholds: z
    .strictObject({
      score: z.number().min(0).max(1).default(0.25),
      iou: z.number().min(0).max(1).default(0.45),
    })
    .default({ score: 0.25, iou: 0.45 }),
  /** Box decoders: non-maximum suppression and the per-frame cap (segmentation/anomaly regions use the cap only). */
  nms: z
    .strictObject({
      /** Suppress overlapping boxes across classes (mutually exclusive states of one object), not only within a class. */
      classAgnostic: z.boolean().default(false),
      /** At most this many detections per frame, best score first. */
      maxDetections: z.number().int().min(1).max(10_000).default(300),
    })
    .default(nmsDefaults),
  /** Softmax decoder: whether the graph already applies softmax (else the decoder does). */
  softmaxApplied: z.boolean().default(true),
  /** Options of the `yolox` decoder (defaults apply when omitted). */
  yolox: yoloxOptionsSchema.optional(),
  /** Options of the `ssd` decoder (defaults apply when omitted). */
  ssd: ssdOptionsSchema.optional(),
  /** Options of the `segmentation` decoder (defaults apply when omitted). */
  segmentation: segmentationOptionsSchema.optional(),
  /** Options of the `blazeface` decoder (defaults apply when omitted). */
  blazeface: blazefaceOptionsSchema.optional(),
  /** Options of the `detections` decoder (defaults apply when omitted). */
  detections: detectionsOptionsSchema.optional(),
  /** Options of the `anomalib` decoder (required with it). */
  anomalib: anomalibOptionsSchema.optional(),
  intendedUse: z.string().min(1),
  licence: z.string().min(1),
  /**
   * sha256 of the .onnx file; of a TF.js model, of model.json followed by its weight shards in
   * weightsManifest order (`cat model.json group1-shard*.bin | sha256sum`). Checked at load.
   */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** How the model was made (script, seed, data), for the record. */
  provenance: z.record(z.string(), z.unknown()).optional(),
  /** Known-answer image checked at load (none when omitted). */
  canary: canarySchema.optional(),
}).superRefine((m, ctx) => {
  const want = DECODER_TASK[m.decoder];
  if (m.task !== want) ctx.addIssue({ code: 'custom', path: ['task'], message: `decoder ${m.decoder} serves task ${want}, manifest says ${m.task}` });
  for (const key of ['yolox', 'ssd', 'segmentation', 'anomalib', 'blazeface', 'detections'] as const) {
    if (m[key] !== undefined && m.decoder !== key) ctx.addIssue({ code: 'custom', path: [key], message: `${key} options given, but the decoder is ${m.decoder}` });
  }
  const nc = m.classes.length;
  const background = m.ssd?.backgroundClass ?? m.segmentation?.backgroundClass;
  if (background !== undefined && background >= nc) {
    ctx.addIssue({ code: 'custom', path: [m.decoder, 'backgroundClass'], message: `backgroundClass ${background} is not one of the ${nc} classes` });
  }
  if (m.input.tiling && !BOX_DECODERS.has(m.decoder)) {
    ctx.addIssue({ code: 'custom', path: ['input', 'tiling'], message: `tiling needs a box decoder (${[...BOX_DECODERS].join(', ')}), the decoder is ${m.decoder}` });
  }
  if (m.canary) canaryIssues(m, ctx);
  if (m.decoder === 'anomalib') {
    if (!m.anomalib) ctx.addIssue({ code: 'custom', path: ['anomalib'], message: 'the anomalib decoder needs anomalib.normalization (raw threshold, min, max, or in-model)' });
    if (nc !== 2) ctx.addIssue({ code: 'custom', path: ['classes'], message: `the anomalib decoder needs two classes, [normal, anomalous] labels (e.g. [normal, anomaly]), got ${nc}` });
  }
});

/** The canary's form suits the task, and its labels are the model's classes. */
function canaryIssues(m: { task: string; classes: readonly string[]; thresholds: { score: number }; canary?: Canary | undefined }, ctx: z.RefinementCtx): void {
  const expect = m.canary!.expect;
  const counts = m.task === 'detect' || m.task === 'segment';
  if (counts !== Array.isArray(expect)) {
    const want = counts ? 'a list of counts, e.g. [{ label, min, minScore }]' : 'the top class, e.g. { label, minScore }';
    ctx.addIssue({ code: 'custom', path: ['canary', 'expect'], message: `a ${m.task} model's canary expects ${want}` });
    return;
  }
  const list: ReadonlyArray<{ label: string; minScore?: number | undefined }> = Array.isArray(expect) ? expect : [expect];
  list.forEach((e, i) => {
    const path = Array.isArray(expect) ? ['canary', 'expect', i, 'label'] : ['canary', 'expect', 'label'];
    if (!m.classes.includes(e.label)) ctx.addIssue({ code: 'custom', path, message: `${e.label} is not one of the classes (${m.classes.join(', ')})` });
    if (counts && e.minScore !== undefined && e.minScore < m.thresholds.score) {
      ctx.addIssue({ code: 'custom', path: [...path.slice(0, -1), 'minScore'], message: `minScore ${e.minScore} is below thresholds.score ${m.thresholds.score}: weaker detections are never reported` });
    }
  });
}

/** Option defaults, for a manifest that names the decoder but omits its block. */
export const YOLOX_DEFAULTS: YoloxOptions = yoloxOptionsSchema.parse({});
export const SSD_DEFAULTS: SsdOptions = ssdOptionsSchema.parse({});
export const SEGMENTATION_DEFAULTS: SegmentationOptions = segmentationOptionsSchema.parse({});
export const BLAZEFACE_DEFAULTS: BlazefaceOptions = blazefaceOptionsSchema.parse({});
export const DETECTIONS_DEFAULTS: DetectionsOptions = detectionsOptionsSchema.parse({});

export type Manifest = z.output<typeof manifestSchema>;
export type ManifestInput = z.input<typeof manifestSchema>;

export async function readManifest(path: string): Promise<Manifest> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new LinesideError(ErrorCode.modelLoad, `cannot read model manifest ${path}`, { cause });
  }
  let raw: unknown;
  try {
    raw = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (cause) {
    throw new LinesideError(ErrorCode.modelLoad, `model manifest ${path} is not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}`, { cause });
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new LinesideError(ErrorCode.modelLoad, `model manifest ${path}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}
