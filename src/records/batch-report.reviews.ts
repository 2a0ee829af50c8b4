import type { Verdict } from '../domain/verdict.js';
import type { Db } from '../store/db.js';
import { InspectionRepository } from '../store/inspection.repository.js';
import { inspectionContent, reviewContent } from './reviews.js';
import { recordHash, type RecordContent } from './signatures.js';

/** A review of one inspection of the batch: the inspection as recorded, and what the reviewer decided. */
export interface BatchReview {
  readonly reviewId: number;
  readonly inspectionId: number;
  readonly stationId: string;
  readonly partId: string | null;
  readonly triggerCount: number | null;
  /** When the part was inspected (ms, UTC). */
  readonly inspectedAt: number;
  /** The inspection's own verdict and reason, never changed by a review. */
  readonly originalVerdict: Verdict;
  readonly originalReason: string | null;
  readonly decision: string;
  readonly reason: string;
  readonly reviewer: string;
  /** The reviewer's printed name as signed (the user's full name if the review carries no signature). */
  readonly reviewerName: string;
  readonly at: number;
  /** Meanings of the review's signatures (`reviewed`), empty if it was not signed. */
  readonly meanings: readonly string[];
  /** Ids of the review's signatures in {@link BatchSignatureRow}. */
  readonly signatureIds: readonly number[];
}

/** A signature on an inspection of the batch or on a review of one, checked against the record now. */
export interface BatchSignatureRow {
  readonly id: number;
  /** The record signed: `inspection` or `review`, and its id. */
  readonly recordType: string;
  readonly recordId: string;
  /** The inspection the signed record is or belongs to. */
  readonly inspectionId: number;
  readonly username: string;
  readonly printedName: string;
  readonly role: string;
  readonly meaning: string;
  readonly signedAt: number;
  readonly contentSha256: string;
  /** False when the signed record no longer hashes as it did at signing. */
  readonly valid: boolean;
}

interface ReviewJoin {
  id: number;
  inspection_id: number;
  decision: string;
  reason: string;
  reviewer: string;
  reviewed_at: number;
  station_id: string;
  part_id: string | null;
  trigger_count: number | null;
  started_at: number;
  verdict: Verdict;
  verdict_reason: string | null;
  full_name: string | null;
}

interface SignatureJoin {
  id: number;
  record_type: string;
  record_id: string;
  inspection_id: number;
  meaning: string;
  username: string;
  printed_name: string;
  role: string;
  signed_at: number;
  content_sha256: string;
}

function hasTables(db: Db, names: readonly string[]): boolean {
  const n = db.prepare(`SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name IN (SELECT value FROM json_each(?))`).get(JSON.stringify(names)) as { n: number };
  return n.n === names.length;
}

/**
 * The "Reviews and signatures" section of a batch report: every review of the batch's inspections
 * and every signature on those inspections or their reviews, each signature checked as the page
 * checks it. Read-only: works on a backup opened read-only.
 */
export function readBatchReviews(db: Db, batchId: string): { reviews: BatchReview[]; signatures: BatchSignatureRow[] } {
  if (!hasTables(db, ['reviews', 'signatures', 'users'])) return { reviews: [], signatures: [] };
  const sigRows = db
    .prepare(
      `SELECT s.*, i.id AS inspection_id FROM signatures s
         JOIN inspections i ON s.record_type = 'inspection' AND s.record_id = CAST(i.id AS TEXT)
        WHERE i.batch_id = @batchId
       UNION ALL
       SELECT s.*, r.inspection_id FROM signatures s
         JOIN reviews r ON s.record_type = 'review' AND s.record_id = CAST(r.id AS TEXT)
         JOIN inspections i ON i.id = r.inspection_id
        WHERE i.batch_id = @batchId
       ORDER BY signed_at, id`,
    )
    .all({ batchId }) as SignatureJoin[];
  const inspections = new InspectionRepository(db);
  const content: Readonly<Record<string, RecordContent>> = { inspection: inspectionContent(inspections), review: reviewContent(db, inspections) };
  const signatures = sigRows.map((s): BatchSignatureRow => {
    const now = content[s.record_type]?.(s.record_id);
    return {
      id: s.id,
      recordType: s.record_type,
      recordId: s.record_id,
      inspectionId: s.inspection_id,
      username: s.username,
      printedName: s.printed_name,
      role: s.role,
      meaning: s.meaning,
      signedAt: s.signed_at,
      contentSha256: s.content_sha256,
      valid: now !== undefined && recordHash(s.record_type, s.record_id, now) === s.content_sha256,
    };
  });

  const rows = db
    .prepare(
      `SELECT r.*, i.station_id, i.part_id, i.trigger_count, i.started_at, i.verdict, i.reason AS verdict_reason, u.full_name
         FROM reviews r JOIN inspections i ON i.id = r.inspection_id LEFT JOIN users u ON u.username = r.reviewer
        WHERE i.batch_id = ? ORDER BY r.reviewed_at, r.id`,
    )
    .all(batchId) as ReviewJoin[];
  const reviews = rows.map((r): BatchReview => {
    const own = signatures.filter((s) => s.recordType === 'review' && s.recordId === String(r.id));
    return {
      reviewId: r.id,
      inspectionId: r.inspection_id,
      stationId: r.station_id,
      partId: r.part_id,
      triggerCount: r.trigger_count,
      inspectedAt: r.started_at,
      originalVerdict: r.verdict,
      originalReason: r.verdict_reason,
      decision: r.decision,
      reason: r.reason,
      reviewer: r.reviewer,
      reviewerName: own.find((s) => s.username === r.reviewer)?.printedName ?? r.full_name ?? r.reviewer,
      at: r.reviewed_at,
      meanings: own.map((s) => s.meaning),
      signatureIds: own.map((s) => s.id),
    };
  });
  return { reviews, signatures };
}
