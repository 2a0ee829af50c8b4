import type { Box } from './geometry.js';

/**
 * A binary mask, kept at the model's own mask resolution (YOLOv8-seg prototypes, a segmentation
 * or anomaly map) rather than upsampled: a grid of `width` × `height` cells, run-length encoded
 * row by row, placed on the original image. Compact enough to store with every finding and JSON-safe.
 */
export interface Mask {
  /** Grid size in cells. */
  readonly width: number;
  readonly height: number;
  /**
   * Row-major run lengths over the grid, alternating unset / set and starting with unset (the first
   * run may be 0). They sum to `width × height`. {@link maskBits} expands them.
   */
  readonly counts: readonly number[];
  /**
   * Where the grid lies on the original image, in pixels: cell (i, j) covers
   * `x + i·w/width … x + (i+1)·w/width` and likewise in y. May extend past the image edge by part
   * of a cell; `area` never counts that part.
   */
  readonly placement: Box;
  /** Set area in original-image pixels, inside the detection's (clipped) box. */
  readonly area: number;
}

/** One object found by a detector, in original-image coordinates. */
export interface Detection {
  readonly classId: number;
  readonly label: string;
  readonly score: number;
  readonly box: Box;
  /** Instance or region mask (yolov8-seg, segmentation and anomaly-map regions). */
  readonly mask?: Mask;
}

/** One class score from a classifier. */
export interface ClassScore {
  readonly classId: number;
  readonly label: string;
  readonly score: number;
}

/** Share of the (original) image a semantic-segmentation class covers. */
export interface ClassCoverage {
  readonly classId: number;
  readonly label: string;
  /** 0–1, of the image pixels the model saw (letterbox padding excluded). */
  readonly fraction: number;
}

/** Summary of an anomaly map (anomalib), normalised so that 0.5 is the model's own threshold. */
export interface AnomalyMapSummary {
  /** Map resolution in cells. */
  readonly width: number;
  readonly height: number;
  /** Highest normalised pixel score, 0–1. */
  readonly maxScore: number;
  /** Share of the map at or above 0.5. */
  readonly anomalousFraction: number;
}

/**
 * What a decoder returns: detections (detect, segment) or class scores (classify, anomaly). The
 * optional fields are extra evidence; rules decide from `detections` / `scores` alone.
 */
export type ModelOutput =
  | {
      readonly kind: 'detections';
      readonly detections: readonly Detection[];
      /** Semantic segmentation: coverage per class (detections are then its connected regions). */
      readonly coverage?: readonly ClassCoverage[];
    }
  | {
      readonly kind: 'scores';
      readonly scores: readonly ClassScore[];
      /** Anomaly detection: anomalous regions of the map as boxes in original-image pixels. */
      readonly regions?: readonly Detection[];
      readonly anomalyMap?: AnomalyMapSummary;
    };

/** Expand a mask's run lengths into one byte per cell (0 or 1), row-major. */
export function maskBits(mask: Mask): Uint8Array {
  const bits = new Uint8Array(mask.width * mask.height);
  let at = 0;
  mask.counts.forEach((run, i) => {
    if (i % 2 === 1) bits.fill(1, at, at + run);
    at += run;
  });
  return bits;
}

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
