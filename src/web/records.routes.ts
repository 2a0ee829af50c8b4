import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { ErrorCode, LinesideError } from '../domain/errors.js';
import type { StoredInspection } from '../domain/inspection.js';
import { Verdict } from '../domain/verdict.js';
import { Role, type AuditRecord } from '../records/audit.js';
import type { Records } from '../records/records.js';
import { ReviewDecision } from '../records/reviews.js';
import type { SignatureView } from '../records/signatures.js';
import type { User } from '../records/users.js';
import type { InspectionQuery, StationSummary } from '../store/inspection.repository.js';
import { actorOf, requirePermission } from './auth.js';
import { csvCell } from '../records/batch-report.csv.js';
import { iso, optionalTime, positiveId, requiredText } from './params.js';

/** What the record routes read and act on: the Part 11 layer and the inspections. */
export interface RecordsDeps {
  readonly records: Pick<Records, 'audit' | 'users' | 'signatures' | 'reviews'>;
  readonly searchInspections: (q: InspectionQuery) => StoredInspection[];
  readonly stationSummary: (stationId: string, opts: { shiftFrom: number; trendFrom: number; bucketMs: number }) => StationSummary | null;
  readonly inspectionJson: (i: StoredInspection) => Record<string, unknown>;
}

export function signatureJson(s: SignatureView): Record<string, unknown> {
  return {
    id: s.id,
    meaning: s.meaning,
    printedName: s.printedName,
    username: s.username,
    role: s.role,
    signedAt: iso(s.signedAt),
    contentSha256: s.contentSha256,
    valid: s.valid,
    ...(s.invalidReason ? { invalidReason: s.invalidReason } : {}),
  };
}

function auditJson(a: AuditRecord): Record<string, unknown> {
  return {
    seq: a.seq,
    at: iso(a.at),
    user: a.actor.user,
    role: a.actor.role,
    action: a.action,
    objectType: a.objectType,
    objectId: a.objectId,
    oldValue: a.oldValue ?? null,
    newValue: a.newValue ?? null,
    reason: a.reason ?? null,
    client: a.client ?? null,
    hash: a.hash,
  };
}

function userJson(u: User): Record<string, unknown> {
  return {
    username: u.username,
    fullName: u.fullName,
    role: u.role,
    disabled: u.disabledAt !== null,
    locked: u.lockedAt !== null,
    mustChangePassword: u.mustChange,
  };
}

function roleOf(raw: unknown): Role {
  if (typeof raw !== 'string' || !(raw in Role)) throw new LinesideError(ErrorCode.badRequest, `role must be one of ${Object.keys(Role).join(', ')}`);
  return raw as Role;
}

type AuditQuery = { from?: string; to?: string; action?: string; user?: string; limit?: string };

function auditFilter(q: AuditQuery): Parameters<Records['audit']['query']>[0] {
  const limit = q.limit === undefined ? undefined : Number(q.limit);
  if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 1)) throw new LinesideError(ErrorCode.badRequest, `"limit" must be a positive integer, got "${q.limit}"`);
  return { from: optionalTime('from', q.from), to: optionalTime('to', q.to), action: q.action || undefined, user: q.user || undefined, limit };
}

const client = (req: FastifyRequest): string => req.ip;

/**
 * History search, the review queue and reviews, cleaning sign-off, the audit trail and its export,
 * and user management. Every route needs a session (app-wide); actions need their permission, and
 * a signature needs the signed-in user's own password at the moment of signing.
 */
export function recordsRoutes(deps: RecordsDeps): FastifyPluginAsync {
  const { records } = deps;
  const reviewed = (id: number): Record<string, unknown> => {
    const r = records.reviews.inspectionWithReviews(id);
    if (!r) throw new LinesideError(ErrorCode.notFound, `inspection ${id} does not exist`);
    return {
      ...deps.inspectionJson(r.inspection),
      reviews: r.reviews.map((v) => ({ id: v.id, decision: v.decision, reason: v.reason, reviewer: v.reviewer, reviewedAt: iso(v.reviewedAt), signatures: v.signatures.map(signatureJson) })),
      signatures: r.signatures.map(signatureJson),
      decision: r.decision,
    };
  };

  return async (app) => {
    app.get<{ Querystring: { station?: string; batch?: string; verdict?: string; defect?: string; from?: string; to?: string; limit?: string } }>('/api/inspections', async (req) => {
      const q = req.query;
      if (q.verdict && !Object.values(Verdict).includes(q.verdict as Verdict)) {
        throw new LinesideError(ErrorCode.badRequest, `verdict must be one of ${Object.values(Verdict).join(', ')}, not "${q.verdict}"`);
      }
      const limit = q.limit === undefined ? undefined : Number(q.limit);
      return deps
        .searchInspections({
          stationId: q.station || undefined,
          batchId: q.batch || undefined,
          verdict: (q.verdict || undefined) as Verdict | undefined,
          defect: q.defect || undefined,
          from: optionalTime('from', q.from),
          to: optionalTime('to', q.to),
          limit: Number.isFinite(limit) ? limit : undefined,
        })
        .map(deps.inspectionJson);
    });

    app.get<{ Params: { id: string }; Querystring: { from?: string } }>('/api/stations/:id/summary', async (req) => {
      const now = Date.now();
      const shiftFrom = optionalTime('from', req.query.from) ?? now - 8 * 3_600_000;
      const s = deps.stationSummary(req.params.id, { shiftFrom, trendFrom: now - 3_600_000, bucketMs: 300_000 });
      if (!s) throw new LinesideError(ErrorCode.notFound, `station "${req.params.id}" does not exist`);
      return {
        ...s,
        since: { from: iso(s.since.from), counters: s.since.counters },
        trend: s.trend.map((t) => ({ ...t, at: iso(t.at) })),
      };
    });

    app.get<{ Params: { id: string } }>('/api/inspections/:id/record', async (req) => reviewed(positiveId(req.params.id, 'inspection')));

    app.get('/api/reviews/pending', async () =>
      deps.searchInspections({ verdict: Verdict.inconclusive, unreviewed: true, limit: 100 }).map(deps.inspectionJson),
    );

    app.post<{ Params: { id: string }; Body: { decision?: unknown; reason?: unknown; password?: unknown } }>(
      '/api/inspections/:id/review',
      { preHandler: requirePermission('review') },
      async (req, reply) => {
        const id = positiveId(req.params.id, 'inspection');
        const { decision, reason, password } = req.body ?? {};
        if (typeof decision !== 'string' || !ReviewDecision.includes(decision as ReviewDecision)) {
          throw new LinesideError(ErrorCode.badRequest, `decision must be ${ReviewDecision.join(' or ')}`);
        }
        await records.reviews.review({
          inspectionId: id,
          decision: decision as ReviewDecision,
          reason: requiredText('reason', reason),
          username: actorOf(req).user,
          password: requiredText('password', password),
          client: client(req),
        });
        reply.code(201);
        return reviewed(id);
      },
    );

    app.post<{ Params: { id: string }; Body: { password?: unknown } }>('/api/inspections/:id/sign', { preHandler: requirePermission('signCleaning') }, async (req, reply) => {
      const id = positiveId(req.params.id, 'inspection');
      const r = records.reviews.inspectionWithReviews(id);
      if (!r) throw new LinesideError(ErrorCode.notFound, `inspection ${id} does not exist`);
      if (r.inspection.kind !== 'cleaning') throw new LinesideError(ErrorCode.badRequest, `inspection ${id} is not a cleaning verification (only those take a second verifier's signature)`);
      const actor = actorOf(req);
      if (r.signatures.some((s) => s.meaning === 'verified' && s.username === actor.user)) {
        throw new LinesideError(ErrorCode.badRequest, `inspection ${id} is already signed as verified by ${actor.user}`);
      }
      await records.signatures.sign({ recordType: 'inspection', recordId: String(id), meaning: 'verified', username: actor.user, password: requiredText('password', req.body?.password), client: client(req) });
      reply.code(201);
      return reviewed(id);
    });

    app.get<{ Querystring: AuditQuery }>('/api/audit', { preHandler: requirePermission('viewAudit') }, async (req) => records.audit.query(auditFilter(req.query)).map(auditJson));

    app.get<{ Querystring: AuditQuery }>('/api/audit/export.csv', { preHandler: requirePermission('exportRecords') }, async (req, reply) => {
      const filter = auditFilter(req.query);
      const rows = records.audit.query({ ...filter, limit: filter.limit ?? 10_000 });
      const header = ['seq', 'at', 'user', 'role', 'action', 'objectType', 'objectId', 'oldValue', 'newValue', 'reason', 'client', 'hash'];
      const line = (cells: readonly unknown[]): string => cells.map(csvCell).join(',');
      const body = [line(header), ...rows.map((a) => line(header.map((h) => auditJson(a)[h])))].join('\r\n') + '\r\n';
      records.audit.append({ actor: actorOf(req), action: 'exported', objectType: 'auditTrail', objectId: 'csv', newValue: { rows: rows.length, filter }, client: client(req) });
      reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="audit-trail.csv"').header('cache-control', 'no-store');
      return body;
    });

    app.get('/api/users', { preHandler: requirePermission('manageUsers') }, async () => records.users.list().map(userJson));

    app.post<{ Body: { username?: unknown; fullName?: unknown; role?: unknown; reason?: unknown } }>('/api/users', { preHandler: requirePermission('manageUsers') }, async (req, reply) => {
      const b = req.body ?? {};
      const made = await records.users.createUser(
        { ...actorOf(req), client: client(req) },
        { username: requiredText('username', b.username), fullName: requiredText('fullName', b.fullName), role: roleOf(b.role) },
        typeof b.reason === 'string' ? b.reason : undefined,
      );
      reply.code(201);
      return { user: userJson(made.user), oneTimePassword: made.oneTimePassword };
    });

    app.post<{ Params: { username: string }; Body: { role?: unknown; reason?: unknown } }>('/api/users/:username/role', { preHandler: requirePermission('manageUsers') }, async (req) =>
      userJson(records.users.setRole({ ...actorOf(req), client: client(req) }, req.params.username, roleOf(req.body?.role), requiredText('reason', req.body?.reason))),
    );

    app.post<{ Params: { username: string }; Body: { reason?: unknown } }>('/api/users/:username/disable', { preHandler: requirePermission('manageUsers') }, async (req) =>
      userJson(records.users.disable({ ...actorOf(req), client: client(req) }, req.params.username, requiredText('reason', req.body?.reason))),
    );

    app.post<{ Params: { username: string }; Body: { reason?: unknown } }>('/api/users/:username/reset-password', { preHandler: requirePermission('manageUsers') }, async (req) => {
      const r = await records.users.resetPassword({ ...actorOf(req), client: client(req) }, req.params.username, requiredText('reason', req.body?.reason));
      return { user: userJson(r.user), oneTimePassword: r.oneTimePassword };
    });
  };
}
