import { describe, expect, it } from 'vitest';
import type { Detection } from '../domain/detection.js';
import { ErrorCode, LinesideError } from '../domain/errors.js';
import type { Box } from '../domain/geometry.js';
import { privacySchema } from '../rules/ppe.schema.js';
import type { InferResult } from '../vision/model.js';
import { planFaceBlur, WHOLE_FRAME, type FaceDetector } from './face-blur.js';

const privacy = privacySchema.parse({ faceMargin: 0.25 });
const image = Buffer.from('not decoded: the detector is a stand-in');

/** A face detector answering `faces`, or failing with `error`. */
function detector(faces: readonly Box[], error?: Error): FaceDetector & { calls: number } {
  const d = {
    versionTag: 'blazeface@test+0123456789ab',
    calls: 0,
    async infer(): Promise<InferResult> {
      d.calls++;
      if (error) throw error;
      const detections: Detection[] = faces.map((box) => ({ classId: 0, label: 'face', score: 0.9, box }));
      return { output: { kind: 'detections', detections }, transform: { srcWidth: 640, srcHeight: 360, scaleX: 1, scaleY: 1, padX: 0, padY: 0, offsetX: 0, offsetY: 0, cropWidth: 640, cropHeight: 360 }, preprocessMs: 0, inferMs: 0, decodeMs: 0 };
    },
  };
  return d;
}

const headA: Box = { x: 100, y: 80, w: 50, h: 56 };
const headB: Box = { x: 400, y: 90, w: 48, h: 54 };
const person: Box = { x: 500, y: 60, w: 120, h: 280 };

describe('face blur plan', () => {
  it('without a face model: the station model’s head boxes (the fallback), and people blurred whole', async () => {
    const plan = await planFaceBlur(image, privacy, null, [headA, headB], [person]);
    expect(plan.boxes).toEqual([headA, headB, person]);
    expect(plan.method).toBe('station model boxes: 2');
  });

  it('with a face model: its boxes widened by faceMargin, plus the head box of a person whose face it missed', async () => {
    const face = { x: 110, y: 90, w: 30, h: 32 }; // inside head A; head B's face is missed
    const d = detector([face]);
    const plan = await planFaceBlur(image, privacy, d, [headA, headB], [person]);
    expect(d.calls).toBe(1);
    expect(plan.boxes).toEqual([{ x: 102.5, y: 82, w: 45, h: 48 }, headB, person]);
    expect(plan.method).toBe('face model blazeface@test+0123456789ab: 1 face; 1 more by station model boxes');
  });

  it('with a face model that finds faces the station model did not: every one is blurred', async () => {
    const plan = await planFaceBlur(image, privacySchema.parse({ faceMargin: 0 }), detector([headA, headB]), []);
    expect(plan.boxes).toEqual([headA, headB]);
    expect(plan.method).toBe('face model blazeface@test+0123456789ab: 2 faces');
  });

  it('a face model that fails blurs the whole frame, and says why', async () => {
    const plan = await planFaceBlur(image, privacy, detector([], new LinesideError(ErrorCode.modelRun, 'worker exited')), [headA]);
    expect(plan.boxes).toEqual([WHOLE_FRAME]);
    expect(plan.method).toMatch(/^whole frame \(face model blazeface@test\+0123456789ab failed: .*worker exited/);
  });
});
