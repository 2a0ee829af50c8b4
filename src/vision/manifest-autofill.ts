import type { OnnxDim, OnnxInfo } from './onnx-info.js';

/**
 * A manifest drafted from what an ONNX file says about itself (DESIGN.md, Models): Ultralytics
 * exports carry `names`, `imgsz`, `task`, `stride` in metadata_props; anomalib exports name their
 * outputs `pred_score`, `anomaly_map`. The draft is a plain manifest *input* object, validated later
 * by the manifest schema, after a user manifest has been merged over it (mergeManifest).
 */

export type ManifestDraft = Record<string, unknown>;

export interface Autofill {
  /** Which convention the metadata was read by. */
  readonly source: 'ultralytics' | 'yolov5' | 'anomalib' | 'none';
  /** What the file says, as manifest keys; partial when `missing` is not empty. */
  readonly manifest: ManifestDraft;
  /** What a manifest must still state for the model to run, in words ("input size", "classes", "decoder"). */
  readonly missing: readonly string[];
  /** Set when the export is recognised but lineside cannot run it as it is. */
  readonly unsupported?: string;
  /** Required documentary keys the file does not give (sha256 is the integrator's to compute). */
  readonly unstated: readonly string[];
  /** Assumptions made and disagreements found, for the log. */
  readonly notes: readonly string[];
}

export interface AutofillOptions {
  /** Manifest `name`, usually the file's stem. */
  readonly name: string;
}

const ANOMALIB_OUTPUTS = ['pred_score', 'anomaly_map', 'pred_label', 'pred_mask'];
const DOCUMENTARY_KEYS = ['version', 'intendedUse', 'licence', 'sha256'];
/** Manifest keys holding one decoder's options, named after it. */
const DECODER_OPTION_KEYS = ['yolox', 'ssd', 'segmentation', 'anomalib', 'blazeface', 'detections'];

export function manifestFromOnnx(info: OnnxInfo, opts: AutofillOptions): Autofill {
  const meta = (key: string): string | undefined => (Object.hasOwn(info.metadata, key) ? info.metadata[key] : undefined);
  const notes: string[] = [];
  const draft: ManifestDraft = { name: opts.name };
  const missing: string[] = [];
  let unsupported: string | undefined;
  const input = info.inputs[0];
  const shapeSize = input ? imageSize(input.shape) : undefined;
  const outputNames = info.outputs.map((o) => o.name);
  let source: Autofill['source'] = 'none';

  const anomalib = outputNames.filter((n) => ANOMALIB_OUTPUTS.includes(n));
  if (anomalib.includes('pred_score') || anomalib.includes('anomaly_map')) {
    source = 'anomalib';
    // anomalib feeds RGB tensors scaled to 0–1 and resizes without keeping the aspect ratio.
    Object.assign(draft, { task: 'anomaly', decoder: 'anomalib', classes: ['normal', 'anomaly'], outputs: ANOMALIB_OUTPUTS.filter((n) => anomalib.includes(n)) });
    if (shapeSize) draft.input = { name: input!.name, width: shapeSize.width, height: shapeSize.height, layout: shapeSize.layout, channels: 'RGB', scale: '0-1', resize: 'stretch' };
    else missing.push('input size');
    notes.push('anomalib: input mean/std are not in the file; exports before anomalib 1.1 expect ImageNet normalisation outside the graph (state input.mean/std)');
    const normalization = anomalibNormalization(meta);
    if (normalization) draft.anomalib = { normalization };
    else missing.push('anomaly score normalisation (anomalib.normalization: threshold, min, max, or in-model)');
  } else if (meta('names') !== undefined || meta('task') !== undefined) {
    source = meta('task') === undefined && meta('stride') !== undefined ? 'yolov5' : 'ultralytics';
    unsupported = fillUltralytics(info, meta, draft, missing, notes, shapeSize);
  } else {
    if (shapeSize) draft.input = { name: input!.name, width: shapeSize.width, height: shapeSize.height, layout: shapeSize.layout };
    else missing.push('input size');
    missing.push('classes', 'decoder');
    notes.push('no known metadata: channel order, scaling and resize are not stated (the manifest defaults apply)');
  }

  const version = meta('version');
  if (version) draft.version = version;
  if (source === 'ultralytics' || source === 'yolov5') {
    // Ultralytics' `version` is the exporter's package version; the versionTag's sha256 still pins the file.
    const intendedUse = meta('description');
    if (intendedUse) draft.intendedUse = intendedUse;
    const licence = meta('license');
    if (licence) draft.licence = licence;
  }
  const provenance: Record<string, unknown> = { filledFrom: 'onnx metadata', convention: source, producer: `${info.producerName} ${info.producerVersion}`.trim(), opset: info.opset };
  for (const key of ['author', 'date', 'description', 'stride', 'task', 'imgsz', 'version', 'docs']) {
    const v = meta(key);
    if (v !== undefined && source !== 'none') provenance[key] = v;
  }
  draft.provenance = provenance;

  return {
    source,
    manifest: draft,
    missing,
    ...(unsupported === undefined ? {} : { unsupported }),
    unstated: DOCUMENTARY_KEYS.filter((k) => draft[k] === undefined),
    notes,
  };
}

/** The one-line error for a model with no manifest that autofill could not complete; undefined when complete. */
export function autofillGapMessage(modelPath: string, fill: Autofill): string | undefined {
  if (fill.unsupported) return `model ${modelPath} has no manifest and cannot be filled from its metadata: ${fill.unsupported}`;
  if (fill.missing.length === 0) return undefined;
  return `model ${modelPath} has no manifest and its metadata does not say: ${fill.missing.join(', ')}`;
}

/**
 * A user manifest over an autofilled one: user keys win, nested objects (input, thresholds,
 * provenance…) merge key by key, arrays are replaced whole. When the user names another decoder,
 * the autofilled decoder's own option block is dropped (its options would not apply).
 */
export function mergeManifest(autofilled: Readonly<ManifestDraft>, user: Readonly<ManifestDraft>): ManifestDraft {
  const base: ManifestDraft = { ...autofilled };
  const auto = autofilled.decoder;
  if (typeof user.decoder === 'string' && typeof auto === 'string' && user.decoder !== auto) {
    for (const block of DECODER_OPTION_KEYS) if (block === auto) delete base[block];
    if (auto === 'softmax') delete base.softmaxApplied;
  }
  return deepMerge(base, user);
}

function deepMerge(base: Readonly<Record<string, unknown>>, over: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const put = (k: string, v: unknown) => Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  for (const [k, v] of Object.entries(base)) put(k, v);
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    const b = Object.hasOwn(base, k) ? base[k] : undefined;
    put(k, isPlainObject(b) && isPlainObject(v) ? deepMerge(b, v) : v);
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Ultralytics conventions (YOLOv5, YOLOv8/11 exports alike): RGB, pixels scaled to 0–1 with no
 * mean/std, NCHW, and for detect/segment a letterbox centred on a 114-grey canvas. Classification
 * resizes the short side and centre-crops, which the manifest cannot express; a stretch is the
 * nearer of its two resize modes and keeps all of the part in view.
 * Returns the reason when the export is recognised but not runnable.
 */
function fillUltralytics(
  info: OnnxInfo, meta: (k: string) => string | undefined, draft: ManifestDraft, missing: string[], notes: string[],
  shapeSize: ImageSize | undefined,
): string | undefined {
  const input = info.inputs[0];
  const task = meta('task');
  const names = meta('names');
  const parsed = names === undefined ? undefined : parseClassNames(names);
  if (parsed && 'error' in parsed) notes.push(`metadata names is unreadable: ${parsed.error}`);
  const classes = parsed && 'classes' in parsed ? parsed.classes : undefined;
  const nc = classes?.length;
  if (classes) draft.classes = classes;
  else missing.push('classes');

  const imgsz = parseImgsz(meta('imgsz'));
  const size = shapeSize ?? (imgsz && { ...imgsz, layout: 'NCHW' as const });
  if (shapeSize && imgsz && (shapeSize.width !== imgsz.width || shapeSize.height !== imgsz.height)) {
    notes.push(`metadata imgsz ${imgsz.height}×${imgsz.width} (h×w) disagrees with the input shape; the shape wins`);
  }
  const channels = meta('channels');
  if (channels !== undefined && channels.trim() !== '3') return `the model takes ${channels}-channel images; lineside feeds 3-channel (RGB/BGR) tensors`;
  if (size) {
    const letterbox = task !== 'classify';
    draft.input = {
      ...(input ? { name: input.name } : {}), width: size.width, height: size.height, layout: 'NCHW', channels: 'RGB', scale: '0-1', mean: [0, 0, 0], std: [1, 1, 1],
      ...(letterbox ? { resize: 'letterbox', letterboxAlign: 'center', padValue: 114 } : { resize: 'stretch' }),
    };
  } else missing.push('input size');

  const [first, second] = info.outputs;
  const dims = first?.shape ?? null;
  const unsupportedTask = (t: string) => `Ultralytics task "${t}" has no decoder in lineside (detect, segment and classify do)`;
  switch (task) {
    case 'detect':
    case undefined: {
      // Newer exporters say so when NMS is inside the graph (YOLOv10/YOLO26 `end2end`, or `nms=True` in args).
      const nmsInside = meta('end2end')?.trim() === 'True' || /['"]nms['"]\s*:\s*True/.test(meta('args') ?? '');
      const layout = nmsInside ? 'end2end' : nc === undefined ? undefined : detectLayout(dims, nc);
      if (layout === 'end2end') return `${first!.name} is [${fmt(dims)}]: an export with NMS inside (end2end/nms=True); export with nms=False for the raw head`;
      if (task === undefined && (layout === undefined || layout === 'mismatch')) {
        // No task and no detect head we know: a classifier or something else; the manifest must say.
        missing.push('decoder');
        return undefined;
      }
      if (layout === 'mismatch') return `${first!.name} is [${fmt(dims)}], which does not fit the ${nc} classes in names (expected [1,${4 + nc!},N])`;
      const decoder = layout === 'yolov5' ? 'yolov5' : 'yolov8';
      if (layout === undefined) notes.push(`cannot check ${first?.name ?? 'the output'} [${fmt(dims)}] against the classes; assuming the yolov8 head`);
      Object.assign(draft, { task: 'detect', decoder, outputs: [first?.name].filter(Boolean) });
      return undefined;
    }
    case 'segment': {
      const protos = [first, second].find((o) => o?.shape?.length === 4);
      const head = [first, second].find((o) => o?.shape?.length === 3);
      if (!protos || !head) return `a segment export has a [1,4+nc+nm,N] head and [1,nm,h,w] prototypes; this one gives ${info.outputs.map((o) => `${o.name} [${fmt(o.shape)}]`).join(', ')}`;
      const nm = protos.shape![1];
      const [, rows, cols] = head.shape!;
      const known = typeof rows === 'number' && typeof cols === 'number';
      // The head may come transposed, [1,N,4+nc+nm], like the detect head.
      if (nc !== undefined && typeof nm === 'number' && known && rows !== 4 + nc + nm && cols !== 4 + nc + nm) {
        return `${head.name} is [${fmt(head.shape)}], which does not fit ${nc} classes and ${nm} mask coefficients (expected [1,${4 + nc + nm},N])`;
      }
      Object.assign(draft, { task: 'segment', decoder: 'yolov8-seg', outputs: [head.name, protos.name] });
      return undefined;
    }
    case 'classify': {
      const cols = dims?.[1];
      if (nc !== undefined && typeof cols === 'number' && (dims!.length !== 2 || cols !== nc)) {
        return `${first!.name} is [${fmt(dims)}], which does not fit the ${nc} classes in names (expected [1,${nc}])`;
      }
      // Ultralytics' Classify head ends in softmax in exported graphs.
      Object.assign(draft, { task: 'classify', decoder: 'softmax', softmaxApplied: true, outputs: [first?.name].filter(Boolean) });
      return undefined;
    }
    default:
      missing.push('decoder');
      return unsupportedTask(task);
  }
}

/** Which detect head the output is, given the class count; undefined when its dims are not known. */
function detectLayout(dims: readonly OnnxDim[] | null, nc: number): 'yolov8' | 'yolov5' | 'end2end' | 'mismatch' | undefined {
  if (!dims || dims.length !== 3) return dims ? 'mismatch' : undefined;
  const [, a, b] = dims;
  if (a === 4 + nc || b === 4 + nc) return 'yolov8';
  if (b === 5 + nc) return 'yolov5';
  if (b === 6 || b === 7) return 'end2end'; // x1,y1,x2,y2,score,class[,angle] after NMS
  return typeof a === 'number' && typeof b === 'number' ? 'mismatch' : undefined;
}

interface ImageSize {
  readonly width: number;
  readonly height: number;
  readonly layout: 'NCHW' | 'NHWC';
}

/** Width and height from a fixed [N,3,H,W] or [N,H,W,3] input shape. */
function imageSize(shape: readonly OnnxDim[] | null): ImageSize | undefined {
  if (!shape || shape.length !== 4) return undefined;
  const [, c1, d2, d3] = shape;
  const ok = (d: OnnxDim | undefined): d is number => typeof d === 'number' && d > 0;
  if (c1 === 3 && ok(d2) && ok(d3)) return { width: d3, height: d2, layout: 'NCHW' };
  const [, h, w, c3] = shape;
  if (c3 === 3 && ok(h) && ok(w)) return { width: w, height: h, layout: 'NHWC' };
  return undefined;
}

/** Ultralytics `imgsz`: `[h, w]`, `(h, w)` or one number for a square. */
function parseImgsz(text: string | undefined): { width: number; height: number } | undefined {
  const m = text?.match(/^\s*[[(]?\s*(\d{1,5})\s*(?:,\s*(\d{1,5})\s*)?,?\s*[\])]?\s*$/);
  if (!m) return undefined;
  const h = Number(m[1]);
  const w = Number(m[2] ?? m[1]);
  return h > 0 && w > 0 ? { width: w, height: h } : undefined;
}

function fmt(dims: readonly OnnxDim[] | null | undefined): string {
  return dims ? dims.map((d) => d ?? '?').join(',') : '?';
}

/** anomalib's min–max normalisation, from flat keys or a `normalization_metadata` JSON object. */
function anomalibNormalization(meta: (k: string) => string | undefined): Record<string, number> | undefined {
  let json: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(meta('normalization_metadata') ?? '{}');
    if (isPlainObject(parsed)) json = parsed;
  } catch {
    // not JSON: the flat keys may still say it
  }
  const num = (key: string): number | undefined => {
    const v = meta(key) ?? json[key];
    const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
    return Number.isFinite(n) ? n : undefined;
  };
  const threshold = num('image_threshold');
  const min = num('min');
  const max = num('max');
  if (threshold === undefined || min === undefined || max === undefined || !(max > min)) return undefined;
  const pixelThreshold = num('pixel_threshold');
  return { threshold, ...(pixelThreshold === undefined ? {} : { pixelThreshold }), min, max };
}

const MAX_NAMES_CHARS = 4 * 2 ** 20;
const MAX_CLASSES = 100_000;

/**
 * Class names from Ultralytics' `names`: the Python repr of a dict `{0: 'person', 1: "it's"}`
 * (YOLOv5 once wrote a list `['person', …]`; JSON with string keys is accepted too). Strings take
 * either quote, Python escapes (\\n, \\', \\xNN, \\uNNNN, \\UNNNNNNNN, octal) and any Unicode. Ids must be
 * 0…n−1 with every one named, since output column i is class i.
 */
export function parseClassNames(text: string): { readonly classes: string[] } | { readonly error: string } {
  if (text.length > MAX_NAMES_CHARS) return { error: `${text.length} characters is too long` };
  let pos = 0;
  const fail = (why: string) => new SyntaxError(`${why} at character ${pos}`);
  const skip = () => {
    while (pos < text.length && /\s/.test(text[pos]!)) pos++;
  };
  const eat = (c: string): boolean => {
    skip();
    if (text[pos] !== c) return false;
    pos++;
    return true;
  };
  const str = (): string => {
    skip();
    if (text[pos] === 'u' || text[pos] === 'U') pos++;
    const quote = text[pos];
    if (quote !== "'" && quote !== '"') throw fail('expected a quoted string');
    pos++;
    let out = '';
    for (;;) {
      if (pos >= text.length) throw fail('unterminated string');
      const c = text[pos++]!;
      if (c === quote) return out;
      if (c === '\n') throw fail('line break inside a string');
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = text[pos++];
      const hex = (n: number) => {
        const h = text.slice(pos, pos + n);
        if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(h)) throw fail(`bad \\${e} escape`);
        pos += n;
        const cp = parseInt(h, 16);
        if (cp > 0x10ffff) throw fail('escape beyond Unicode');
        return String.fromCodePoint(cp);
      };
      const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', f: '\f', v: '\v', '\\': '\\', "'": "'", '"': '"', '\n': '' };
      if (e === undefined) throw fail('unterminated string');
      else if (Object.hasOwn(simple, e)) out += simple[e];
      else if (e === 'x') out += hex(2);
      else if (e === 'u') out += hex(4);
      else if (e === 'U') out += hex(8);
      else if (/[0-7]/.test(e)) {
        const oct = /^[0-7]{1,3}/.exec(text.slice(pos - 1, pos + 2))![0];
        pos += oct.length - 1;
        out += String.fromCodePoint(parseInt(oct, 8));
      } else out += '\\' + e; // Python keeps unknown escapes as written
    }
  };
  const id = (): number => {
    skip();
    const m = /^(?:(\d{1,9})|'(\d{1,9})'|"(\d{1,9})")/.exec(text.slice(pos, pos + 12));
    if (!m) throw fail('expected a class id');
    pos += m[0].length;
    return Number(m[1] ?? m[2] ?? m[3]);
  };
  try {
    const named = new Map<number, string>();
    const add = (i: number, name: string) => {
      if (named.has(i)) throw fail(`class id ${i} appears twice`);
      if (named.size >= MAX_CLASSES) throw fail(`more than ${MAX_CLASSES} classes`);
      named.set(i, name);
    };
    const dict = eat('{');
    if (!dict && !eat('[')) throw fail('expected { or [');
    const close = dict ? '}' : ']';
    while (!eat(close)) {
      if (dict) {
        const i = id();
        if (!eat(':')) throw fail('expected :');
        add(i, str());
      } else add(named.size, str());
      if (!eat(',')) {
        if (!eat(close)) throw fail(`expected , or ${close}`);
        break;
      }
    }
    skip();
    if (pos !== text.length) throw fail('unexpected text after the names');
    const classes = Array.from({ length: named.size }, (_, i) => named.get(i));
    const gap = classes.findIndex((c) => c === undefined);
    if (gap >= 0) return { error: `class ids must run 0…${named.size - 1}, but ${gap} has no name` };
    if (classes.length === 0) return { error: 'no classes' };
    if (classes.some((c) => c!.length === 0)) return { error: 'a class name is empty' };
    return { classes: classes as string[] };
  } catch (e) {
    return { error: (e as Error).message };
  }
}
