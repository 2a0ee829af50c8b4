import type { StoredInspection } from '../domain/inspection.js';
import { ErrorCode, LinesideError } from '../domain/errors.js';
import type { Db } from '../store/db.js';
import type { InspectionRepository } from '../store/inspection.repository.js';
import type { AuditLog, Role } from './audit.js';
import { canonicalJson, sha256Hex } from './canonical.js';
import type { RecordContent, Signature, SignatureService, SignatureView } from './signatures.js';

export const ReviewDecision = ['pass', 'reject'] as const;
export type ReviewDecision = (typeof ReviewDecision)[number];

/** Who may review a result. */
export const REVIEWER_ROLES: readonly Role[] = ['supervisor', 'qa'];

export interface Review {
  readonly id: number;
  readonly inspectionId: number;
  readonly decision: ReviewDecision;
  readonly reason: string;
  readonly reviewer: string;
  readonly reviewedAt: number;
}

export interface ReviewView extends Review {
  /** The review's signatures (meaning `reviewed`), each checked against the record as it is now. */
  readonly signatures: SignatureView[];
}

/** An inspection as the page and the batch report show it: the original, untouched, and its reviews. */
export interface ReviewedInspection {
  readonly inspection: StoredInspection;
  readonly reviews: ReviewView[];
  /** Signatures placed on the inspection itself. */
  readonly signatures: SignatureView[];
  /** The newest review's decision, or null if nobody reviewed it. */
  readonly decision: ReviewDecision | null;
}

interface ReviewRow {
  id: number;
  inspection_id: number;
  decision: ReviewDecision;
  reason: string;
  reviewer: string;
  reviewed_at: number;
}

const toReview = (r: ReviewRow): Review => ({ id: r.id, inspectionId: r.inspection_id, decision: r.decision, reason: r.reason, reviewer: r.reviewer, reviewedAt: r.reviewed_at });

/**
 * The canonical content of an inspection for signing: everything the record says about the part,
 * including its findings and its evidence image's hash (what the PLC was told is a separate row).
 */
export function inspectionContent(inspections: Pick<InspectionRepository, 'get'>): RecordContent {
  return (recordId) => {
    const i = inspections.get(Number(recordId));
    if (!i) return undefined;
    const { plcWrittenAt: _written, evidencePath: _path, ...content } = i;
    return content;
  };
}

/** A review's content includes the hash of the inspection it judged: signing one covers both. */
export function reviewContent(db: Db, inspections: Pick<InspectionRepository, 'get'>): RecordContent {
  const inspection = inspectionContent(inspections);
  return (recordId) => {
    const row = db.prepare(`SELECT * FROM reviews WHERE id = ?`).get(Number(recordId)) as ReviewRow | undefined;
    if (!row) return undefined;
    const judged = inspection(String(row.inspection_id));
    return { ...toReview(row), inspectionSha256: judged === undefined ? null : sha256Hex(canonicalJson(judged)) };
  };
}

/**
 * Reviews of inspection results. The inspection row is never changed: a review is a new row that
 * references it, with a decision, a required reason, and the reviewer's signature (meaning
 * `reviewed`) made with the password re-entered. Only supervisors and QA may review.
 */
export class ReviewService {
  readonly #db: Db;
  readonly #inspections: Pick<InspectionRepository, 'get'>;
  readonly #signatures: SignatureService;
  readonly #audit: AuditLog;
  readonly #now: () => number;

  constructor(deps: { db: Db; inspections: Pick<InspectionRepository, 'get'>; signatures: SignatureService; audit: AuditLog; now?: () => number }) {
    this.#db = deps.db;
    this.#inspections = deps.inspections;
    this.#signatures = deps.signatures;
    this.#audit = deps.audit;
    this.#now = deps.now ?? Date.now;
  }

  async review(req: { inspectionId: number; decision: ReviewDecision; reason: string; username: string; password: string; client?: string }): Promise<{ review: Review; signature: Signature }> {
    const inspection = this.#inspections.get(req.inspectionId);
    if (!inspection) throw new LinesideError(ErrorCode.notFound, `inspection ${req.inspectionId} does not exist`);
    if (!ReviewDecision.includes(req.decision)) throw new LinesideError(ErrorCode.badRequest, `review decision "${req.decision}": pass or reject`);
    const reason = req.reason?.trim();
    if (!reason) throw new LinesideError(ErrorCode.badRequest, `review of inspection ${req.inspectionId}: a reason is required`);
    const signer = await this.#signatures.authenticateSigner(req.username, req.password, req.client);
    if (!REVIEWER_ROLES.includes(signer.role)) {
      throw new LinesideError(ErrorCode.forbidden, `user "${signer.username}" (${signer.role}) may not review results: ${REVIEWER_ROLES.join(' or ')} only`);
    }
    return this.#db.transaction(() => {
      const id = Number(
        this.#db
          .prepare(`INSERT INTO reviews (inspection_id, decision, reason, reviewer, reviewed_at) VALUES (?, ?, ?, ?, ?)`)
          .run(req.inspectionId, req.decision, reason, signer.username, this.#now()).lastInsertRowid,
      );
      const review = toReview(this.#db.prepare(`SELECT * FROM reviews WHERE id = ?`).get(id) as ReviewRow);
      this.#audit.append({
        actor: { user: signer.username, role: signer.role },
        action: 'resultReviewed',
        objectType: 'inspection',
        objectId: String(req.inspectionId),
        oldValue: { verdict: inspection.verdict },
        newValue: { review: id, decision: req.decision },
        reason,
        client: req.client,
      });
      const signature = this.#signatures.record(signer, 'review', String(id), 'reviewed', req.client);
      return { review, signature };
    })();
  }

  /** One inspection with its reviews and signatures; undefined if there is no such inspection. */
  inspectionWithReviews(inspectionId: number): ReviewedInspection | undefined {
    const inspection = this.#inspections.get(inspectionId);
    if (!inspection) return undefined;
    const rows = this.#db.prepare(`SELECT * FROM reviews WHERE inspection_id = ? ORDER BY id`).all(inspectionId) as ReviewRow[];
    const reviews = rows.map((r) => ({ ...toReview(r), signatures: this.#signatures.forRecord('review', String(r.id)) }));
    return {
      inspection,
      reviews,
      signatures: this.#signatures.forRecord('inspection', String(inspectionId)),
      decision: reviews.at(-1)?.decision ?? null,
    };
  }
}
