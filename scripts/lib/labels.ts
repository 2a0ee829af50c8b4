/**
 * The truth written beside each fixture set (labels.json) and returned by the renderers, so the
 * model scripts and tests compare model results with what was actually drawn.
 */

/** Axis-aligned box in source-image pixels, top-left origin. */
export interface LabelBox {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

export interface LabelledObject {
  readonly class: string;
  readonly box: LabelBox;
  /** Orientation in degrees where the class has one (the direction a tablet's missing wedge faces). */
  readonly pose?: number;
  /** Which of a class's drawn appearances this is (a speck or a fibre's orientation bin; a tear, scratch or crease), from 0. */
  readonly variant?: number;
}

export interface ImageLabel {
  readonly file: string;
  /** Seed the image was rendered from; `npm run fixtures` reproduces it. */
  readonly seed: number;
  readonly quality: number;
  /** Per-image truth: good/defective, compliant/violation, clean/residue. */
  readonly label: string;
  /** The objects that make the image a reject or an alarm (empty when the image is good). */
  readonly defects: readonly LabelledObject[];
  /** Every labelled object, defects included. */
  readonly objects: readonly LabelledObject[];
}

export interface FixtureSet {
  readonly set: string;
  readonly generator: string;
  readonly width: number;
  readonly height: number;
  readonly classes: readonly string[];
  readonly images: readonly ImageLabel[];
}

/** What a renderer hands back: the encoded scene and its truth (file name and seed are added by the caller). */
export interface Rendered extends Omit<ImageLabel, 'file' | 'seed'> {
  readonly jpeg: Buffer;
}

export function boxAround(cx: number, cy: number, rx: number, ry = rx): LabelBox {
  return { x: round1(cx - rx), y: round1(cy - ry), w: round1(2 * rx), h: round1(2 * ry) };
}

function round1(v: number): number {
  return Math.round(v * 10) / 10;
}
