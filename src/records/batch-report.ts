import { createHash } from 'node:crypto';
import { ErrorCode, LinesideError } from '../domain/errors.js';
import { VERDICTS, type Verdict } from '../domain/verdict.js';
import type { Db } from '../store/db.js';
import { counterKey, emptyCounters, type VerdictCounters } from '../store/inspection.repository.js';
import type { Actor, AuditRecord } from './audit.js';
import { readBatchReviews, type BatchReview, type BatchSignatureRow } from './batch-report.reviews.js';

export type { BatchReview, BatchSignatureRow } from './batch-report.reviews.js';

/**
 * Everything QA needs to release (or not) one batch, read from the records alone: counts by
 * verdict, what the rejects were, alarms of the batch period, reviews and signatures, the audit
 * entries of that period, and the model versions that decided. Built from a database file, so it
 * also works on a backup or on a box whose appliance is stopped.
 */
export interface BatchReport {
  readonly batchId: string;
  readonly line: string | null;
  readonly generatedAt: number;
  readonly generatedBy: Actor;
  /** First and last inspection of the batch (ms, UTC). */
  readonly period: { readonly from: number; readonly to: number };
  readonly totals: VerdictCounters & { readonly total: number; readonly rejectRate: number };
  readonly stations: readonly StationCounts[];
  readonly pareto: readonly ParetoRow[];
  readonly recipes: readonly { readonly stationId: string; readonly recipeIndex: number | null; readonly inspections: number }[];
  readonly models: readonly ModelUse[];
  readonly alarms: readonly BatchAlarm[];
  /** Cleaning verifications recorded for the batch (the changeover to it), with who asked for each. */
  readonly cleaningChecks: readonly BatchCleaningCheck[];
  /** Reviews of the batch's inspections: the original verdict, the decision, reason, reviewer and meaning. */
  readonly reviews: readonly BatchReview[];
  /** Signatures on the batch's inspections and their reviews, each linked to its record and checked. */
  readonly signatures: readonly BatchSignatureRow[];
  /** Audit entries of the batch period, and those about the batch, its inspections and their reviews at any time. */
  readonly audit: readonly AuditRecord[];
  /** SHA-256 of the report's content (everything above, canonical JSON): ties a printout to its data. */
  readonly contentSha256: string;
}

export interface StationCounts extends VerdictCounters {
  readonly stationId: string;
  readonly kind: string;
  readonly total: number;
  readonly rejectRate: number;
}

export interface ParetoRow {
  readonly label: string;
  /** Inspections in which this finding decided reject or inconclusive (a part counts once per label). */
  readonly parts: number;
  readonly share: number;
  readonly cumulativeShare: number;
}

export interface ModelUse {
  readonly model: string;
  /** name@version+sha256 prefix, as recorded with each inspection. */
  readonly version: string;
  readonly inspections: number;
  readonly firstUsed: number;
  readonly lastUsed: number;
}

export interface BatchAlarm {
  readonly id: number;
  readonly stationId: string;
  readonly category: string;
  readonly severity: string;
  readonly message: string;
  readonly raisedAt: number;
  readonly clearedAt: number | null;
}

export interface BatchCleaningCheck {
  readonly inspectionId: number;
  readonly stationId: string;
  /** The equipment verified (the record's part ID). */
  readonly equipmentId: string | null;
  readonly verdict: Verdict;
  readonly reason: string | null;
  /** The user who asked on the page, or `PLC`; null for checks recorded before it was kept. */
  readonly requestedBy: string | null;
  readonly startedAt: number;
}

function tableExists(db: Db, name: string): boolean {
  return db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(name) !== undefined;
}

function columnExists(db: Db, table: string, column: string): boolean {
  return (db.prepare(`SELECT name FROM pragma_table_info(?)`).all(table) as { name: string }[]).some((c) => c.name === column);
}

const share = (n: number, of: number): number => (of === 0 ? 0 : n / of);

function rejectRate(c: VerdictCounters): number {
  return share(c.reject, c.pass + c.reject + c.inconclusive + c.notInspected);
}

/**
 * Read a batch's report from the records. Throws `notFound` for a batch with no inspections: an
 * empty report would look like a clean batch.
 */
export function readBatchReport(
  db: Db,
  batchId: string,
  opts: { generatedBy: Actor; line?: string | null; now?: number },
): BatchReport {
  const period = db
    .prepare(`SELECT MIN(started_at) AS "from", MAX(started_at) AS "to", COUNT(*) AS n FROM inspections WHERE batch_id = ?`)
    .get(batchId) as { from: number | null; to: number | null; n: number };
  if (period.n === 0 || period.from === null || period.to === null) {
    throw new LinesideError(ErrorCode.notFound, `batch "${batchId}" has no inspections in this database`);
  }
  const from = period.from;
  const to = period.to;

  const stations = new Map<string, { kind: string; counts: VerdictCounters }>();
  const countRows = db
    .prepare(`SELECT station_id AS stationId, kind, verdict, COUNT(*) AS n FROM inspections WHERE batch_id = ? GROUP BY station_id, kind, verdict ORDER BY station_id`)
    .all(batchId) as { stationId: string; kind: string; verdict: Verdict; n: number }[];
  const totals = emptyCounters();
  for (const r of countRows) {
    const s = stations.get(r.stationId) ?? { kind: r.kind, counts: emptyCounters() };
    s.counts[counterKey(r.verdict)] += r.n;
    totals[counterKey(r.verdict)] += r.n;
    stations.set(r.stationId, s);
  }
  const total = VERDICTS.reduce((n, v) => n + totals[counterKey(v)], 0);

  const paretoRows = db
    .prepare(
      `SELECT f.label, COUNT(DISTINCT f.inspection_id) AS parts
       FROM findings f JOIN inspections i ON i.id = f.inspection_id
       WHERE i.batch_id = ? AND f.effect IN ('reject', 'inconclusive')
       GROUP BY f.label ORDER BY parts DESC, f.label`,
    )
    .all(batchId) as { label: string; parts: number }[];
  const decided = paretoRows.reduce((n, r) => n + r.parts, 0);
  let running = 0;
  const pareto = paretoRows.map((r) => {
    running += r.parts;
    return { label: r.label, parts: r.parts, share: share(r.parts, decided), cumulativeShare: share(running, decided) };
  });

  const recipes = db
    .prepare(
      `SELECT station_id AS stationId, recipe_index AS recipeIndex, COUNT(*) AS inspections
       FROM inspections WHERE batch_id = ? GROUP BY station_id, recipe_index ORDER BY station_id, recipe_index`,
    )
    .all(batchId) as BatchReport['recipes'][number][];

  const modelRows = db
    .prepare(
      `SELECT m.key AS model, m.value AS version, COUNT(*) AS inspections, MIN(i.started_at) AS firstUsed, MAX(i.started_at) AS lastUsed
       FROM inspections i, json_each(i.model_versions) m
       WHERE i.batch_id = ? GROUP BY m.key, m.value ORDER BY m.key, firstUsed`,
    )
    .all(batchId) as ModelUse[];

  const stationIds = [...stations.keys()];
  const alarms = db
    .prepare(
      `SELECT id, station_id AS stationId, category, severity, message, raised_at AS raisedAt, cleared_at AS clearedAt
       FROM alarms
       WHERE raised_at <= @to AND (cleared_at IS NULL OR cleared_at >= @from)
         AND (station_id = '*' OR station_id IN (SELECT value FROM json_each(@stations)))
       ORDER BY raised_at, id`,
    )
    .all({ from, to, stations: JSON.stringify(stationIds) }) as BatchAlarm[];

  // A database from before schema 6 (a backup) has no requested_by: those checks show none.
  const requestedBy = columnExists(db, 'inspections', 'requested_by') ? 'requested_by' : 'NULL';
  const cleaningChecks = db
    .prepare(
      `SELECT id AS inspectionId, station_id AS stationId, part_id AS equipmentId, verdict, reason, ${requestedBy} AS requestedBy, started_at AS startedAt
       FROM inspections WHERE batch_id = ? AND kind = 'cleaning' ORDER BY started_at, id`,
    )
    .all(batchId) as BatchCleaningCheck[];

  const audit = tableExists(db, 'audit_trail') ? readAudit(db, batchId, from, to) : [];
  const { reviews, signatures } = readBatchReviews(db, batchId);

  const content = {
    batchId,
    line: opts.line ?? null,
    generatedAt: opts.now ?? Date.now(),
    generatedBy: opts.generatedBy,
    period: { from, to },
    totals: { ...totals, total, rejectRate: rejectRate(totals) },
    stations: [...stations].map(([stationId, s]) => ({
      stationId,
      kind: s.kind,
      ...s.counts,
      total: s.counts.pass + s.counts.reject + s.counts.inconclusive + s.counts.notInspected,
      rejectRate: rejectRate(s.counts),
    })),
    pareto,
    recipes,
    models: modelRows,
    alarms,
    cleaningChecks,
    reviews,
    signatures,
    audit,
  };
  return { ...content, contentSha256: createHash('sha256').update(JSON.stringify(content)).digest('hex') };
}

interface AuditRow {
  seq: number;
  at: number;
  user: string;
  role: string;
  action: string;
  object_type: string;
  object_id: string;
  old_value: string | null;
  new_value: string | null;
  reason: string | null;
  client: string | null;
  prev_hash: string;
  hash: string;
}

const parseJson = (s: string | null): unknown => (s === null ? undefined : (JSON.parse(s) as unknown));

/**
 * Audit entries of the batch period, and those about the batch's own records at any time: the
 * batch (hold, release, exports), its inspections and their reviews (reviews and signatures
 * usually come after the last part), straight from the trail's table.
 */
function readAudit(db: Db, batchId: string, from: number, to: number): AuditRecord[] {
  const reviews = tableExists(db, 'reviews') ? `SELECT CAST(r.id AS TEXT) FROM reviews r JOIN inspections i ON i.id = r.inspection_id WHERE i.batch_id = @batchId` : `SELECT NULL WHERE 0`;
  const rows = db
    .prepare(
      `SELECT * FROM audit_trail
        WHERE (at >= @from AND at <= @to)
           OR (object_type = 'batch' AND object_id = @batchId)
           OR (object_type = 'inspection' AND object_id IN (SELECT CAST(id AS TEXT) FROM inspections WHERE batch_id = @batchId))
           OR (object_type = 'review' AND object_id IN (${reviews}))
        ORDER BY seq`,
    )
    .all({ batchId, from, to }) as AuditRow[];
  return rows.map((r) => ({
    seq: r.seq,
    at: r.at,
    actor: { user: r.user, role: r.role as AuditRecord['actor']['role'] },
    action: r.action as AuditRecord['action'],
    objectType: r.object_type,
    objectId: r.object_id,
    oldValue: parseJson(r.old_value),
    newValue: parseJson(r.new_value),
    ...(r.reason === null ? {} : { reason: r.reason }),
    ...(r.client === null ? {} : { client: r.client }),
    prevHash: r.prev_hash,
    hash: r.hash,
  }));
}
