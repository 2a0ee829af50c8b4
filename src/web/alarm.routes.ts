import type { FastifyPluginAsync } from 'fastify';
import { ErrorCode, LinesideError } from '../domain/errors.js';
import type { ActiveAlarm, AlarmCenter } from '../stations/alarm-center.js';
import type { AlarmRow, AlarmWithHistory } from '../store/alarm.repository.js';
import { actorOf, requirePermission } from './auth.js';
import { iso, optionalTime, positiveId, requiredText } from './params.js';

function alarmJson(a: AlarmRow): Record<string, unknown> {
  return {
    id: a.id,
    source: a.stationId,
    category: a.category,
    severity: a.severity,
    message: a.message,
    raisedAt: iso(a.raisedAt),
    clearedAt: iso(a.clearedAt),
    acknowledged: a.ackedAt === null ? null : { at: iso(a.ackedAt), by: a.ackedBy, comment: a.ackComment },
    shelved: a.shelvedUntil === null ? null : { until: iso(a.shelvedUntil), by: a.shelvedBy, reason: a.shelveReason },
  };
}

/**
 * The alarm list and history, and acting on an alarm: acknowledge (comment required), shelve
 * (reason and duration), unshelve. Each action needs its permission and is audited by the alarm center.
 */
export function alarmRoutes(alarms: Pick<AlarmCenter, 'active' | 'history' | 'acknowledge' | 'shelve' | 'unshelve'>): FastifyPluginAsync {
  return async (app) => {
    app.get<{ Querystring: { shelved?: string } }>('/api/alarms', async (req) =>
      alarms.active({ includeShelved: req.query.shelved === '1' || req.query.shelved === 'true' }).map((a: ActiveAlarm) => ({ ...alarmJson(a), condition: a.condition })),
    );

    app.get<{ Querystring: { from?: string; to?: string; station?: string } }>('/api/alarms/history', async (req) => {
      const to = optionalTime('to', req.query.to) ?? Date.now();
      const from = optionalTime('from', req.query.from) ?? to - 86_400_000;
      return alarms.history({ from, to, ...(req.query.station ? { stationId: req.query.station } : {}) }).map((a: AlarmWithHistory) => ({
        ...alarmJson(a),
        events: a.events.map((e) => ({ kind: e.kind, at: iso(e.at), by: e.actor, role: e.role, comment: e.comment, until: iso(e.until) })),
      }));
    });

    app.post<{ Params: { id: string }; Body: { comment?: unknown } }>('/api/alarms/:id/acknowledge', { preHandler: requirePermission('acknowledgeAlarm') }, async (req) =>
      alarmJson(alarms.acknowledge(positiveId(req.params.id, 'alarm'), actorOf(req), requiredText('comment', req.body?.comment), req.ip)),
    );

    app.post<{ Params: { id: string }; Body: { reason?: unknown; minutes?: unknown } }>('/api/alarms/:id/shelve', { preHandler: requirePermission('shelveAlarm') }, async (req) => {
      const minutes = Number(req.body?.minutes);
      if (!Number.isFinite(minutes) || minutes <= 0) throw new LinesideError(ErrorCode.badRequest, '"minutes" must be a positive number');
      return alarmJson(alarms.shelve(positiveId(req.params.id, 'alarm'), actorOf(req), requiredText('reason', req.body?.reason), Date.now() + minutes * 60_000, req.ip));
    });

    app.post<{ Params: { id: string }; Body: { reason?: unknown } }>('/api/alarms/:id/unshelve', { preHandler: requirePermission('shelveAlarm') }, async (req) =>
      alarmJson(alarms.unshelve(positiveId(req.params.id, 'alarm'), actorOf(req), requiredText('reason', req.body?.reason), req.ip)),
    );
  };
}
