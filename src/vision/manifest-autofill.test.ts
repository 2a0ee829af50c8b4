import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { GraphBuilder, type Dim } from './onnx-writer/onnx-writer.js';
import { Rng } from '../../scripts/lib/rng.js';
import { autofillGapMessage, manifestFromOnnx, mergeManifest, parseClassNames } from './manifest-autofill.js';
import { manifestSchema } from './manifest.js';
import { readOnnxInfo, readOnnxInfoFromBuffer, type OnnxInfo } from './onnx-info.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SHA = 'ab'.repeat(32);

/** An export-like ONNX file written with the project's writer: only its declared facts matter here. */
function exportLike(input: readonly Dim[], outputs: ReadonlyArray<readonly [string, readonly Dim[]]>, metadata: Record<string, string> = {}): OnnxInfo {
  const g = new GraphBuilder('main_graph');
  g.input('images', input);
  for (const [name, shape] of outputs) {
    g.node('Identity', ['images'], [name]);
    g.output(name, shape);
  }
  return readOnnxInfoFromBuffer(g.encode({ producerVersion: '2.3.0', metadata }), 'test.onnx');
}

/** Metadata as Ultralytics' exporter writes it (values are str() of Python objects). */
const ultralytics = (task: string, names: string, extra: Record<string, string> = {}): Record<string, string> => ({
  description: `Ultralytics YOLO11n-${task} model trained on widgets.yaml`,
  author: 'Ultralytics',
  date: '2025-01-15T10:00:00.000000',
  version: '8.3.40',
  license: 'AGPL-3.0 License (https://ultralytics.com/license)',
  docs: 'https://docs.ultralytics.com',
  stride: '32',
  task,
  batch: '1',
  imgsz: '[640, 640]',
  names,
  ...extra,
});

// str() of {0: "it's", 1: 'say "hi"', 2: 'both \' and "', 3: 'back\\slash', 4: 'naïve 日本 ✓', 5: 'tab\there', 6: '\x07bell'}
const TRICKY = String.raw`{0: "it's", 1: 'say "hi"', 2: 'both \' and "', 3: 'back\\slash', 4: 'naïve 日本 ✓', 5: 'tab\there', 6: '\x07bell'}`;
const TRICKY_CLASSES = ["it's", 'say "hi"', `both ' and "`, 'back\\slash', 'naïve 日本 ✓', 'tab\there', '\x07bell'];

const ULTRALYTICS_INPUT = { name: 'images', width: 640, height: 640, layout: 'NCHW', channels: 'RGB', scale: '0-1', mean: [0, 0, 0], std: [1, 1, 1] };
const LETTERBOX = { resize: 'letterbox', letterboxAlign: 'center', padValue: 114 };

describe('manifestFromOnnx on the demo models (Ultralytics-style metadata)', () => {
  for (const name of ['blister-detector', 'ppe-detector', 'cleaning-classifier']) {
    it(`${name}: the metadata alone gives what its manifest says about running it`, async () => {
      const json = JSON.parse(await readFile(`${ROOT}models/${name}.json`, 'utf8'));
      const fill = manifestFromOnnx(await readOnnxInfo(`${ROOT}models/${name}.onnx`), { name });
      expect(fill.source).toBe('ultralytics');
      expect(fill.missing).toEqual([]);
      expect(fill.unsupported).toBeUndefined();
      for (const key of ['name', 'task', 'decoder', 'outputs', 'classes']) expect(fill.manifest[key], key).toEqual(json[key]);
      // With the documentary keys from the file's manifest, it validates to the same manifest (input included,
      // the letterbox-only keys of a stretched input coming from the schema's defaults).
      const user = { version: json.version, intendedUse: json.intendedUse, licence: json.licence, sha256: json.sha256, thresholds: json.thresholds };
      const { provenance: _a, ...merged } = manifestSchema.parse(mergeManifest(fill.manifest, user));
      const { provenance: _b, canary: _c, ...own } = manifestSchema.parse(json);
      expect(merged).toEqual(own);
    });
  }
});

describe('manifestFromOnnx: Ultralytics exports', () => {
  it('detect: yolov8 head, letterbox conventions, tricky class names, documentary keys', () => {
    const info = exportLike([1, 3, 640, 640], [['output0', [1, 4 + 7, 8400]]], ultralytics('detect', TRICKY));
    const fill = manifestFromOnnx(info, { name: 'widgets' });
    expect(fill).toEqual({
      source: 'ultralytics',
      manifest: {
        name: 'widgets', version: '8.3.40', task: 'detect', decoder: 'yolov8',
        input: { ...ULTRALYTICS_INPUT, ...LETTERBOX },
        outputs: ['output0'],
        classes: TRICKY_CLASSES,
        intendedUse: 'Ultralytics YOLO11n-detect model trained on widgets.yaml',
        licence: 'AGPL-3.0 License (https://ultralytics.com/license)',
        provenance: expect.objectContaining({ filledFrom: 'onnx metadata', convention: 'ultralytics', author: 'Ultralytics', date: '2025-01-15T10:00:00.000000', stride: '32', opset: 17 }),
      },
      missing: [],
      unstated: ['sha256'],
      notes: [],
    });
    expect(autofillGapMessage('m.onnx', fill)).toBeUndefined();
    expect(manifestSchema.parse(mergeManifest(fill.manifest, { sha256: SHA })).classes).toEqual(TRICKY_CLASSES);
  });

  it('detect, dynamic export: the size comes from imgsz ([h, w]); a transposed head is still yolov8', () => {
    const info = exportLike(['batch', 3, 'height', 'width'], [['output0', ['batch', 'anchors', 6]]], ultralytics('detect', "{0: 'a', 1: 'b'}", { imgsz: '[480, 640]' }));
    const fill = manifestFromOnnx(info, { name: 'm' });
    expect(fill.manifest).toMatchObject({ decoder: 'yolov8', input: { width: 640, height: 480 } });
    expect(fill.missing).toEqual([]);
  });

  it('detect: a fixed input shape wins over a disagreeing imgsz, with a note', () => {
    const info = exportLike([1, 3, 320, 320], [['output0', [1, 6, 2100]]], ultralytics('detect', "{0: 'a', 1: 'b'}"));
    const fill = manifestFromOnnx(info, { name: 'm' });
    expect(fill.manifest.input).toMatchObject({ width: 320, height: 320 });
    expect(fill.notes.join()).toMatch(/imgsz 640×640 .* disagrees with the input shape/);
  });

  it('segment: yolov8-seg, head first then prototypes whatever the file order', () => {
    const info = exportLike([1, 3, 640, 640], [['output1', [1, 32, 160, 160]], ['output0', [1, 4 + 2 + 32, 8400]]], ultralytics('segment', "{0: 'crack', 1: 'chip'}"));
    const fill = manifestFromOnnx(info, { name: 'seg' });
    expect(fill.manifest).toMatchObject({ task: 'segment', decoder: 'yolov8-seg', outputs: ['output0', 'output1'], classes: ['crack', 'chip'], input: { ...ULTRALYTICS_INPUT, ...LETTERBOX } });
    expect(fill.missing).toEqual([]);
    expect(manifestSchema.parse(mergeManifest(fill.manifest, { sha256: SHA })).decoder).toBe('yolov8-seg');
  });

  it('classify: softmax already applied, stretched input (centre crop is not expressible)', () => {
    const info = exportLike([1, 3, 224, 224], [['output0', [1, 3]]], ultralytics('classify', "{0: 'ok', 1: 'scratch', 2: 'dent'}", { imgsz: '[224, 224]' }));
    const fill = manifestFromOnnx(info, { name: 'cls' });
    expect(fill.manifest).toMatchObject({
      task: 'classify', decoder: 'softmax', softmaxApplied: true, outputs: ['output0'], classes: ['ok', 'scratch', 'dent'],
      input: { ...ULTRALYTICS_INPUT, width: 224, height: 224, resize: 'stretch' },
    });
    expect(fill.manifest.input).not.toHaveProperty('padValue');
    expect(manifestSchema.parse(mergeManifest(fill.manifest, { sha256: SHA })).task).toBe('classify');
  });

  for (const task of ['pose', 'obb']) {
    it(`${task}: recognised, unsupported, with the reason`, () => {
      const info = exportLike([1, 3, 640, 640], [['output0', [1, 56, 8400]]], ultralytics(task, "{0: 'person'}", { kpt_shape: '[17, 3]' }));
      const fill = manifestFromOnnx(info, { name: 'p' });
      expect(fill.missing).toEqual(['decoder']);
      expect(fill.unsupported).toBe(`Ultralytics task "${task}" has no decoder in lineside (detect, segment and classify do)`);
      expect(autofillGapMessage('models/p.onnx', fill)).toBe(`model models/p.onnx has no manifest and cannot be filled from its metadata: ${fill.unsupported}`);
      expect(fill.manifest).toMatchObject({ classes: ['person'], input: { width: 640, height: 640 } });
    });
  }

  it('detect with NMS inside the graph ([1,300,6]) is refused with the export flag to change', () => {
    const fill = manifestFromOnnx(exportLike([1, 3, 640, 640], [['output0', [1, 300, 6]]], ultralytics('detect', "{0: 'a', 1: 'b', 2: 'c'}")), { name: 'e2e' });
    expect(fill.unsupported).toMatch(/output0 is \[1,300,6\]: an export with NMS inside .*nms=False/);
  });

  it('an export that says NMS is inside (end2end, or nms=True in args) is refused even when the shape looks like a head', () => {
    const nms = manifestFromOnnx(exportLike([1, 3, 640, 640], [['output0', [1, 300, 6]]], ultralytics('detect', "{0: 'a', 1: 'b'}", { args: "{'batch': 1, 'half': False, 'nms': True}" })), { name: 'x' });
    expect(nms.unsupported).toMatch(/NMS inside/);
    const e2e = manifestFromOnnx(exportLike([1, 3, 640, 640], [['output0', [1, 300, 6]]], ultralytics('detect', "{0: 'a', 1: 'b'}", { end2end: 'True' })), { name: 'x' });
    expect(e2e.unsupported).toMatch(/NMS inside/);
  });

  it('names without a task and no detect head: the decoder is missing, nothing is guessed', () => {
    const fill = manifestFromOnnx(exportLike([1, 3, 224, 224], [['output0', [1, 3]]], { stride: '1', names: "{0: 'a', 1: 'b', 2: 'c'}" }), { name: 'x' });
    expect(fill).toMatchObject({ missing: ['decoder'], manifest: { classes: ['a', 'b', 'c'] } });
    expect(fill.unsupported).toBeUndefined();
  });

  it('names that do not fit the head are refused, not guessed', () => {
    const fill = manifestFromOnnx(exportLike([1, 3, 640, 640], [['output0', [1, 84, 8400]]], ultralytics('detect', "{0: 'a', 1: 'b'}")), { name: 'x' });
    expect(fill.unsupported).toBe('output0 is [1,84,8400], which does not fit the 2 classes in names (expected [1,6,N])');
  });

  it('a single-channel model is refused', () => {
    const fill = manifestFromOnnx(exportLike([1, 1, 640, 640], [['output0', [1, 6, 8400]]], ultralytics('detect', "{0: 'a', 1: 'b'}", { channels: '1' })), { name: 'x' });
    expect(fill.unsupported).toMatch(/1-channel images/);
  });

  it('unreadable names: classes missing, with a note saying why', () => {
    const fill = manifestFromOnnx(exportLike([1, 3, 640, 640], [['output0', [1, 6, 8400]]], ultralytics('detect', "{0: 'a', 1: 'b'")), { name: 'x' });
    expect(fill.missing).toEqual(['classes']);
    expect(fill.notes.join()).toMatch(/names is unreadable: expected , or \}/);
    expect(autofillGapMessage('x.onnx', fill)).toBe('model x.onnx has no manifest and its metadata does not say: classes');
  });

  it('YOLOv5 (its own repo: names and stride, no task) gives the yolov5 decoder from the [1,N,5+nc] output', () => {
    const info = exportLike([1, 3, 640, 640], [['output0', [1, 25200, 5 + 3]]], { stride: '32', names: "['good', 'bad', 'ugly']" });
    const fill = manifestFromOnnx(info, { name: 'v5' });
    expect(fill.source).toBe('yolov5');
    expect(fill.manifest).toMatchObject({ task: 'detect', decoder: 'yolov5', classes: ['good', 'bad', 'ugly'], outputs: ['output0'], input: { ...ULTRALYTICS_INPUT, ...LETTERBOX } });
    expect(fill.unstated).toEqual(['version', 'intendedUse', 'licence', 'sha256']);
  });
});

describe('manifestFromOnnx: anomalib exports', () => {
  const outputs = [['pred_score', [1]], ['pred_label', [1]], ['anomaly_map', [1, 1, 256, 256]], ['pred_mask', [1, 1, 256, 256]]] as const;

  it('outputs named pred_score/anomaly_map → anomalib, size from the input shape, normalisation from metadata', () => {
    const info = exportLike([1, 3, 256, 256], outputs, { image_threshold: '13.5', pixel_threshold: '14.25', min: '2.0', max: '31.5' });
    const fill = manifestFromOnnx(info, { name: 'padim' });
    expect(fill).toMatchObject({ source: 'anomalib', missing: [], unstated: ['version', 'intendedUse', 'licence', 'sha256'] });
    expect(fill.manifest).toEqual({
      name: 'padim', task: 'anomaly', decoder: 'anomalib', classes: ['normal', 'anomaly'],
      outputs: ['pred_score', 'anomaly_map', 'pred_label', 'pred_mask'],
      input: { name: 'images', width: 256, height: 256, layout: 'NCHW', channels: 'RGB', scale: '0-1', resize: 'stretch' },
      anomalib: { normalization: { threshold: 13.5, pixelThreshold: 14.25, min: 2, max: 31.5 } },
      provenance: expect.objectContaining({ convention: 'anomalib' }),
    });
    expect(fill.notes.join()).toMatch(/mean\/std are not in the file/);
    const m = manifestSchema.parse(mergeManifest(fill.manifest, { version: '1', intendedUse: 'test', licence: 'MIT', sha256: SHA }));
    expect(m.anomalib).toEqual({ normalization: { threshold: 13.5, pixelThreshold: 14.25, min: 2, max: 31.5 } });
  });

  it('normalisation given as a normalization_metadata JSON object', () => {
    const info = exportLike([1, 3, 224, 224], [['pred_score', [1, 1]]], { normalization_metadata: JSON.stringify({ image_threshold: 0.4, min: 0.1, max: 0.9 }) });
    expect(manifestFromOnnx(info, { name: 'a' }).manifest.anomalib).toEqual({ normalization: { threshold: 0.4, min: 0.1, max: 0.9 } });
  });

  it('without normalisation metadata, the manifest must say it; a dynamic input leaves the size too', () => {
    const fill = manifestFromOnnx(exportLike(['batch', 3, 'h', 'w'], [['anomaly_map', ['batch', 1, 'h', 'w']], ['pred_score', ['batch']]]), { name: 'a' });
    expect(fill.missing).toEqual(['input size', 'anomaly score normalisation (anomalib.normalization: threshold, min, max, or in-model)']);
    expect(fill.manifest.outputs).toEqual(['pred_score', 'anomaly_map']);
  });
});

describe('manifestFromOnnx: no known metadata', () => {
  it('a fixed input still gives its size; classes and decoder are missing', () => {
    const fill = manifestFromOnnx(exportLike([1, 3, 416, 416], [['output', [1, 3549, 85]]]), { name: 'yolox' });
    expect(fill).toMatchObject({ source: 'none', missing: ['classes', 'decoder'], manifest: { name: 'yolox', input: { name: 'images', width: 416, height: 416, layout: 'NCHW' } } });
  });

  it('a dynamic input: the message lists input size, classes, decoder', () => {
    const fill = manifestFromOnnx(exportLike(['n', 3, 'h', 'w'], [['y', ['n', 10]]]), { name: 'x' });
    expect(autofillGapMessage('models/x.onnx', fill)).toBe('model models/x.onnx has no manifest and its metadata does not say: input size, classes, decoder');
  });

  it('an NHWC input is recognised as such', () => {
    const fill = manifestFromOnnx(exportLike([1, 224, 224, 3], [['y', [1, 10]]]), { name: 'x' });
    expect(fill.manifest.input).toEqual({ name: 'images', width: 224, height: 224, layout: 'NHWC' });
  });
});

describe('mergeManifest: the user manifest wins', () => {
  const auto = { name: 'a', task: 'detect', decoder: 'yolov8', input: { width: 640, height: 640, channels: 'RGB', resize: 'letterbox' }, classes: ['x', 'y'], provenance: { convention: 'ultralytics' } };

  it('user keys override, nested objects merge, arrays are replaced, undefined is ignored, inputs untouched', () => {
    const before = structuredClone(auto);
    const merged = mergeManifest(auto, { name: 'mine', input: { channels: 'BGR' }, classes: ['only'], provenance: { by: 'me' }, version: undefined });
    expect(merged).toEqual({ name: 'mine', task: 'detect', decoder: 'yolov8', input: { width: 640, height: 640, channels: 'BGR', resize: 'letterbox' }, classes: ['only'], provenance: { convention: 'ultralytics', by: 'me' } });
    expect(auto).toEqual(before);
  });

  it('a __proto__ key in a user manifest stays a plain key (and the schema then rejects it)', () => {
    const user = JSON.parse('{"__proto__": {"polluted": true}, "input": {"__proto__": {"x": 1}}}') as Record<string, unknown>;
    const merged = mergeManifest(auto, user);
    expect(Object.keys(merged)).toContain('__proto__');
    expect((merged as { polluted?: unknown }).polluted).toBeUndefined();
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it('naming another decoder drops the autofilled decoder’s own options', () => {
    const anomalib = { decoder: 'anomalib', task: 'anomaly', anomalib: { normalization: 'in-model' } };
    expect(mergeManifest(anomalib, { decoder: 'segmentation', task: 'segment' })).toEqual({ decoder: 'segmentation', task: 'segment' });
    expect(mergeManifest({ decoder: 'softmax', softmaxApplied: true }, { decoder: 'yolov8' })).toEqual({ decoder: 'yolov8' });
  });
});

describe('parseClassNames', () => {
  const cases: Array<[string, string[]]> = [
    [TRICKY, TRICKY_CLASSES],
    ["{0: 'person', 1: 'bicycle'}", ['person', 'bicycle']],
    ["{1: 'b', 0: 'a',}", ['a', 'b']],
    ['  {\n 0 : "a" ,\n 1:"b"\n}  ', ['a', 'b']],
    [String.raw`{0: 'caf\xe9', 1: '\u65e5\u672c', 2: 'smile \U0001f600', 3: 'oct\101', 4: 'keep\d', 5: 'nl\n'}`, ['café', '日本', 'smile 😀', 'octA', 'keep\\d', 'nl\n']],
    ["['a', \"b's\"]", ['a', "b's"]],
    ['{"0": "a", "1": "b"}', ['a', 'b']],
    ["{0: u'legacy'}", ['legacy']],
  ];
  for (const [text, classes] of cases) it(`reads ${JSON.stringify(text).slice(0, 60)}`, () => expect(parseClassNames(text)).toEqual({ classes }));

  const bad: Array<[string, RegExp]> = [
    ["{0: 'a', 2: 'c'}", /ids must run 0…1, but 1 has no name/],
    ["{0: 'a', 0: 'b'}", /class id 0 appears twice/],
    ["{0: 'a'", /expected , or \}/],
    ["{0: 'a}", /unterminated string/],
    ["{0: ''}", /a class name is empty/],
    ['{}', /no classes/],
    ["{0: 'a'} trailing", /unexpected text/],
    ["{0: 'bad \\x4'}", /bad \\x escape/],
    ["{-1: 'a'}", /expected a class id/],
    ['person, bicycle', /expected \{ or \[/],
  ];
  for (const [text, why] of bad) it(`refuses ${JSON.stringify(text)}`, () => expect(parseClassNames(text)).toEqual({ error: expect.stringMatching(why) }));

  it('never throws on random text, 500 seeds', () => {
    const alphabet = `{}[]:,'"\\ 0123456789abxuU\n`;
    for (let seed = 1; seed <= 500; seed++) {
      const rng = new Rng(seed);
      const text = Array.from({ length: Math.floor(rng.next() * 80) }, () => alphabet[Math.floor(rng.next() * alphabet.length)]).join('');
      const r = parseClassNames(text);
      expect('classes' in r || 'error' in r).toBe(true);
    }
  });
});
