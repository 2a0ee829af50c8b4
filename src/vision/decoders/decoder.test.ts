import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../domain/errors.js';
import { manifestSchema } from '../manifest.js';
import type { InputTransform } from '../preprocess.js';
import { checkOutputShape, decode } from './decoder.js';
import { channelsLast, roi320, rounded } from './decoders.test-support.js';

const manifest = (over: Record<string, unknown>) =>
  manifestSchema.parse({
    name: 'm', version: '1', intendedUse: 'test', licence: 'test', sha256: '0'.repeat(64),
    input: { width: 320, height: 320 }, classes: ['tablet', 'empty_pocket'], task: 'detect', decoder: 'yolov8', ...over,
  });

/** Letterbox of a 640×400 image into 320×320: scale 0.5, 60 px padding top and bottom. */
const letterbox: InputTransform = { srcWidth: 640, srcHeight: 400, scaleX: 0.5, scaleY: 0.5, padX: 0, padY: 60, offsetX: 0, offsetY: 0, cropWidth: 640, cropHeight: 400 };

/** Build a [1, 4+nc, N] tensor from rows of [cx, cy, w, h, ...scores]. */
function yolo(rows: number[][]): { data: Float32Array; dims: number[] } {
  const n = rows.length;
  const c = rows[0]!.length;
  const data = new Float32Array(c * n);
  rows.forEach((r, i) => r.forEach((v, k) => (data[k * n + i] = v)));
  return { data, dims: [1, c, n] };
}

describe('yolov8 decoder', () => {
  it('keeps the best class per anchor above threshold and maps boxes to source pixels', () => {
    const out = decode({ output0: yolo([[100, 110, 20, 20, 0.9, 0.1], [200, 200, 10, 10, 0.1, 0.2]]) }, { manifest: manifest({}), transform: letterbox });
    expect(out.kind).toBe('detections');
    if (out.kind !== 'detections') return;
    expect(out.detections).toHaveLength(1);
    const d = out.detections[0]!;
    expect(d.label).toBe('tablet');
    expect(d.score).toBeCloseTo(0.9);
    // model (90,100)-(110,120) → source x 180..220, y (100-60)/0.5 = 80 .. 120
    expect(d.box.x).toBeCloseTo(180);
    expect(d.box.y).toBeCloseTo(80);
    expect(d.box.w).toBeCloseTo(40);
    expect(d.box.h).toBeCloseTo(40);
  });

  it('suppresses overlapping boxes of the same class but keeps other classes', () => {
    const out = decode(
      { output0: yolo([[100, 110, 20, 20, 0.9, 0], [102, 110, 20, 20, 0.8, 0], [101, 110, 20, 20, 0, 0.7]]) },
      { manifest: manifest({}), transform: letterbox },
    );
    if (out.kind !== 'detections') throw new Error('expected detections');
    expect(out.detections.map((d) => d.label).sort()).toEqual(['empty_pocket', 'tablet']);
  });

  it('drops boxes that lie in the letterbox padding (off-image after clipping)', () => {
    const out = decode({ output0: yolo([[100, 20, 20, 20, 0.95, 0]]) }, { manifest: manifest({}), transform: letterbox });
    if (out.kind !== 'detections') throw new Error('expected detections');
    expect(out.detections).toHaveLength(0);
  });

  it('refuses non-finite outputs as an unhealthy model', () => {
    expect(() => decode({ output0: yolo([[100, 110, 20, 20, NaN, 0]]) }, { manifest: manifest({}), transform: letterbox })).toThrow(
      expect.objectContaining({ code: ErrorCode.modelUnhealthy }),
    );
  });

  it('checks the output shape against the class list', () => {
    expect(checkOutputShape([1, 6, 8400], manifest({}))).toBeNull();
    expect(checkOutputShape([1, 84, 8400], manifest({}))).toMatch(/expects \[1,6,N\]/);
  });

  it('reads the transposed [1, N, 4 + nc] head the same, through letterbox and ROI', () => {
    const out = decode({ output0: channelsLast([[100, 110, 20, 20, 0.9, 0.1], [200, 200, 10, 10, 0.1, 0.2]]) }, { manifest: manifest({}), transform: roi320 });
    if (out.kind !== 'detections') throw new Error('expected detections');
    // model (90,100)-(110,120) → x 90/0.5+100 = 280 … 320, y (100−60)/0.5+50 = 130 … 170
    expect(out.detections.map((d) => [d.label, rounded(d.box)])).toEqual([['tablet', { x: 280, y: 130, w: 40, h: 40 }]]);
    expect(checkOutputShape([1, 8400, 6], manifest({}))).toBeNull();
    expect(checkOutputShape([1, 8400, 7], manifest({}))).toBe('yolov8 expects [1,6,N] (or [1,N,6]), model gives [1,8400,7]');
  });

  it('refuses a frame whose output shape is wrong, as a run error naming the model', () => {
    expect(() => decode({ output0: { data: new Float32Array(14), dims: [1, 7, 2] } }, { manifest: manifest({}), transform: letterbox })).toThrow(
      expect.objectContaining({ code: ErrorCode.modelRun, message: 'model m: yolov8 expects [1,6,N] (or [1,N,6]), model gives [1,7,2]' }),
    );
  });

  it('names a missing output', () => {
    const m = manifest({ outputs: ['output0'] });
    expect(checkOutputShape({ other: { dims: [1, 6, 10] } }, m)).toBe('yolov8 reads output output0, model gives other');
    expect(() => decode({ other: { data: new Float32Array(60), dims: [1, 6, 10] } }, { manifest: m, transform: letterbox })).toThrow(/model output "output0" is missing/);
  });
});

describe('manifest', () => {
  it('fills the NMS defaults and leaves decoder option blocks out', () => {
    const m = manifest({});
    expect(m.nms).toEqual({ classAgnostic: false, maxDetections: 300 });
    expect(m.yolox).toBeUndefined();
    expect(manifest({ decoder: 'yolox', yolox: {} }).yolox).toEqual({ strides: [8, 16, 32] });
    expect(manifest({ decoder: 'ssd', ssd: {} }).ssd).toEqual({ boxFormat: 'xyxy', boxUnits: 'normalized', activation: 'none' });
    expect(manifest({ task: 'segment', decoder: 'segmentation', segmentation: {} }).segmentation).toEqual({ scores: 'logits', exclusive: true });
  });

  it('refuses a task the decoder does not serve, options for another decoder, unknown keys and a background class out of range', () => {
    const issue = (over: Record<string, unknown>) => {
      try {
        manifest(over);
        return 'parsed';
      } catch (e) {
        const first = (e as { issues: Array<{ path: unknown[]; message: string }> }).issues[0]!;
        return `${first.path.join('.')}: ${first.message}`;
      }
    };
    expect(issue({ decoder: 'segmentation' })).toBe('task: decoder segmentation serves task segment, manifest says detect');
    expect(issue({ ssd: { boxFormat: 'xyxy' } })).toBe('ssd: ssd options given, but the decoder is yolov8');
    expect(issue({ nms: { agnostic: true } })).toMatch(/^nms: Unrecognized key/);
    expect(issue({ decoder: 'ssd', ssd: { backgroundClass: 2 } })).toBe('ssd.backgroundClass: backgroundClass 2 is not one of the 2 classes');
  });
});

describe('softmax decoder', () => {
  const m = manifest({ task: 'classify', decoder: 'softmax', classes: ['clean', 'residue'] });
  it('returns one score per class', () => {
    const out = decode({ probabilities: { data: Float32Array.from([0.8, 0.2]), dims: [1, 2] } }, { manifest: m, transform: letterbox });
    expect(out).toEqual({ kind: 'scores', scores: [{ classId: 0, label: 'clean', score: expect.closeTo(0.8, 5) }, { classId: 1, label: 'residue', score: expect.closeTo(0.2, 5) }] });
  });

  it('applies softmax to logits when the graph does not', () => {
    const out = decode({ logits: { data: Float32Array.from([2, 0]), dims: [1, 2] } }, { manifest: { ...m, softmaxApplied: false }, transform: letterbox });
    if (out.kind !== 'scores') throw new Error('expected scores');
    expect(out.scores[0]!.score).toBeCloseTo(Math.exp(2) / (Math.exp(2) + 1), 5);
  });
});
