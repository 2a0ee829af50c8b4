import type { FastifyPluginAsync } from 'fastify';
import { ErrorCode, LinesideError } from '../domain/errors.js';
import type { ActiveAlarm, AlarmCenter } from '../stations/alarm-center.js';
import type { AlarmRow, AlarmWithHistory } from '../store/alarm.repository.js';

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

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

function timeParam(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const ms = Date.parse(raw);
  if (Number.isNaN(ms)) throw new LinesideError(ErrorCode.badRequest, `"${name}" must be an ISO 8601 time, got "${raw}"`);
  return ms;
}

/** Read-only alarm views for the page: the active list and the history. Acting on alarms needs a signed-in user. */
export function alarmRoutes(alarms: Pick<AlarmCenter, 'active' | 'history'>): FastifyPluginAsync {
  return async (app) => {
    app.get<{ Querystring: { shelved?: string } }>('/api/alarms', async (req) =>
      alarms.active({ includeShelved: req.query.shelved === '1' || req.query.shelved === 'true' }).map((a: ActiveAlarm) => ({ ...alarmJson(a), condition: a.condition })),
    );

    app.get<{ Querystring: { from?: string; to?: string; station?: string } }>('/api/alarms/history', async (req) => {
      const to = timeParam('to', req.query.to, Date.now());
      const from = timeParam('from', req.query.from, to - 86_400_000);
      return alarms.history({ from, to, ...(req.query.station ? { stationId: req.query.station } : {}) }).map((a: AlarmWithHistory) => ({
        ...alarmJson(a),
        events: a.events.map((e) => ({ kind: e.kind, at: iso(e.at), by: e.actor, role: e.role, comment: e.comment, until: iso(e.until) })),
      }));
    });
  };
}
