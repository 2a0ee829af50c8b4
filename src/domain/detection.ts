import type { Box } from './geometry.js';

/** One object found by a detector, in original-image coordinates. */
export interface Detection {
  readonly classId: number;
  readonly label: string;
  readonly score: number;
  readonly box: Box;
}

/** One class score from a classifier. */
export interface ClassScore {
  readonly classId: number;
  readonly label: string;
  readonly score: number;
}

/** What a decoder returns: detections (detect) or class scores (classify). */
export type ModelOutput =
  | { readonly kind: 'detections'; readonly detections: readonly Detection[] }
  | { readonly kind: 'scores'; readonly scores: readonly ClassScore[] };

/** A finding is a detection or class score that a rule looked at, with the rule's conclusion. */
export interface Finding {
  readonly label: string;
  readonly score: number;
  readonly box?: Box;
  /** Rule that produced the finding, e.g. `class:empty_pocket`. */
  readonly rule: string;
  /** What the finding means for the verdict. */
  readonly effect: 'reject' | 'inconclusive' | 'info';
  readonly rejectCode: number;
}
