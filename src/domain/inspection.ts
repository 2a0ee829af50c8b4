import type { Finding } from './detection.js';
import type { Verdict } from './verdict.js';

/** Milliseconds spent in each stage of one inspection. */
export interface StageTimings {
  acquireMs?: number;
  preprocessMs?: number;
  inferMs?: number;
  decodeMs?: number;
  rulesMs?: number;
  totalMs?: number;
}

/** One inspection = one record (DESIGN.md). Written once, never changed. */
export interface InspectionRecord {
  readonly stationId: string;
  readonly kind: 'part' | 'zone' | 'cleaning';
  /** PLC trigger count being answered, or a local sequence for untriggered stations. */
  readonly triggerCount: number | null;
  readonly partId: string | null;
  readonly batchId: string | null;
  /** The recipe the part was inspected with (for a part not inspected: the index the PLC triggered it with). */
  readonly recipeIndex: number | null;
  /** The recipe's `name`, when it has one and was used. */
  readonly recipeName?: string | null;
  /** Cleaning checks: who asked for it, the signed-in user's name or `PLC` (its CleanCheckRequest). */
  readonly requestedBy?: string | null;
  readonly verdict: Verdict;
  /** Why the verdict is not pass (rule, error code and message). */
  readonly reason: string | null;
  readonly rejectCode: number;
  readonly score: number;
  readonly startedAt: number;
  readonly timings: StageTimings;
  /** model name → version@sha256 prefix. */
  readonly modelVersions: Readonly<Record<string, string>>;
  readonly frameOrigin: string | null;
  /**
   * Zone stations with privacy.blurFaces: how the faces in this frame's evidence image and live
   * view were found and blurred (face model and count, PPE head boxes, or the whole frame); null
   * when the frame was neither stored nor shown on the page (no face model ran).
   */
  readonly faceBlur?: string | null;
  readonly findings: readonly Finding[];
}

export interface StoredInspection extends InspectionRecord {
  readonly id: number;
  readonly evidencePath: string | null;
  readonly evidenceSha256: string | null;
  readonly plcWrittenAt: number | null;
}
