import type { ZoneStationConfig } from '../config/schema.js';
import { reasonOf } from '../domain/errors.js';
import type { Box } from '../domain/geometry.js';
import type { ImageInput } from '../vision/image.js';
import type { Model } from '../vision/model.js';

/** What a zone station needs of its face model: a detector's boxes and its version for the record. */
export type FaceDetector = Pick<Model, 'infer' | 'versionTag'>;

/** The regions to blur in one frame, and how they were found (recorded as the inspection's `faceBlur`). */
export interface BlurPlan {
  readonly boxes: readonly Box[];
  readonly method: string;
}

/** A box past every edge: blurRegion clips it to the image, so it blurs the whole frame whatever its size. */
export const WHOLE_FRAME: Box = { x: 0, y: 0, w: 1e9, h: 1e9 };

/**
 * The faces to blur in a frame. With a face model (`privacy.faceModel`), its boxes, widened by
 * `privacy.faceMargin`, plus each of the station model's boxes (`fallback`: a person's head box,
 * or every finding without zones) that no face box overlaps. Without one, `fallback` alone. `whole` are regions
 * blurred in full whatever the face model says (compliant people in `person` mode). A face model
 * that fails blurs the whole frame: a frame whose faces are unknown is not shown or stored as is.
 */
export async function planFaceBlur(
  image: ImageInput,
  privacy: ZoneStationConfig['privacy'],
  detector: FaceDetector | null,
  fallback: readonly Box[],
  whole: readonly Box[] = [],
): Promise<BlurPlan> {
  if (!detector) {
    return { boxes: [...fallback, ...whole], method: `station model boxes: ${fallback.length}` };
  }
  let faces: Box[];
  try {
    const r = await detector.infer(image);
    faces = r.output.kind === 'detections' ? r.output.detections.map((d) => widen(d.box, privacy.faceMargin)) : [];
  } catch (e) {
    return { boxes: [WHOLE_FRAME], method: `whole frame (face model ${detector.versionTag} failed: ${reasonOf(e)})` };
  }
  const missed = fallback.filter((head) => !faces.some((f) => overlaps(f, head)));
  const more = missed.length > 0 ? `; ${missed.length} more by station model boxes` : '';
  return { boxes: [...faces, ...missed, ...whole], method: `face model ${detector.versionTag}: ${faces.length} face${faces.length === 1 ? '' : 's'}${more}` };
}

function widen(b: Box, margin: number): Box {
  return { x: b.x - b.w * margin, y: b.y - b.h * margin, w: b.w * (1 + 2 * margin), h: b.h * (1 + 2 * margin) };
}

/** The two boxes share area (a face model box inside a head box, or the other way round). */
function overlaps(a: Box, b: Box): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}
