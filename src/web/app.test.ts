import { afterAll, describe, expect, it } from 'vitest';
import type { StationConfig } from '../config/schema.js';
import { HealthState, type ComponentHealth } from '../domain/health.js';
import type { LinesideEvents } from '../domain/events.js';
import type { StoredInspection } from '../domain/inspection.js';
import { TypedEmitter } from '../domain/typed-emitter.js';
import { silentLogger } from '../observability/logger.js';
import { Metrics } from '../observability/metrics.js';
import { renderBatchReport } from '../tools/report.js';
import { AlarmCenter } from '../stations/alarm-center.js';
import { buildWebApp, servedRoutes, type WebDeps } from './app.js';
import { ROLE_USERS, signIn, TEST_PASSWORD, webRecords } from './testing.js';

const ok: ComponentHealth = { state: HealthState.ok, since: 0 };
const down: ComponentHealth = { state: HealthState.down, detail: 'PLC not reachable at opc.tcp://127.0.0.1:4840', since: 0 };

const inspection: StoredInspection = {
  id: 42, stationId: 'blister', kind: 'part', triggerCount: 9, partId: 'BLISTER-000009', batchId: 'B1', recipeIndex: 1,
  verdict: 'reject', reason: 'empty_pocket 0.91', rejectCode: 10, score: 0.91, startedAt: Date.UTC(2026, 10, 21, 8, 0, 0),
  timings: { totalMs: 12 }, modelVersions: { blister: 'blister-detector@1.0.0+abc' }, frameOrigin: 'blister-0009.jpg', findings: [],
  evidencePath: null, evidenceSha256: null, plcWrittenAt: 1,
};

/** Records behind the routes: batch B1 with the inspection above, an inconclusive one, one user per role. */
const kit = await webRecords();
const { store } = kit;
store.inspections.record(inspection);
const unsure = store.inspections.record({ ...inspection, triggerCount: 10, partId: 'BLISTER-000010', verdict: 'inconclusive', reason: 'empty_pocket 0.41', rejectCode: 0, score: 0.41 });
const alarms = new AlarmCenter({ repo: store.alarms, audit: kit.records.audit, bus: new TypedEmitter<LinesideEvents>(), logger: silentLogger(), stations: ['blister'], maxShelveMs: 3_600_000 });
afterAll(() => kit.close());

function deps(plc: ComponentHealth): WebDeps {
  const metrics = new Metrics();
  metrics.inspections.inc({ station: 'blister', verdict: 'reject' });
  metrics.inspectionDuration.observe({ station: 'blister' }, 0.012);
  return {
    line: 'Line 1',
    version: '0.0.0',
    stations: () => [
      {
        config: { id: 'blister', kind: 'part' } as StationConfig,
        health: { camera: ok, model: ok },
        counters: { pass: 5, reject: 1, inconclusive: 0, notInspected: 0 },
        last: inspection,
        lastEvidence: undefined,
        alarmWord: 0,
      },
    ],
    health: () => ({ ok: plc.state === 'ok', components: { storage: ok, plc } }),
    inspection: (id) => store.inspections.get(id),
    evidenceFile: (p) => p,
    requestCheck: async () => null,
    setReference: async () => false,
    alarms,
    records: kit.records,
    searchInspections: (q) => store.inspections.search(q),
    stationSummary: (id, opts) => (id === 'blister' ? store.inspections.summary(id, opts) : null),
    system: {
      info: async () => ({ version: '0.0.0' }),
      models: () => [],
      recipes: () => [],
      approveModel: async () => undefined,
      liveFrame: async () => null,
    },
    bus: new TypedEmitter<LinesideEvents>(),
    batches: () => store.batches(20),
    batchReport: async (batchId, format, by) => renderBatchReport(store.batchReport(batchId, { generatedBy: by }), format),
    metrics,
    logger: silentLogger(),
  };
}

type App = ReturnType<typeof buildWebApp>;
const as = async (app: App, role: keyof typeof ROLE_USERS) => signIn(app, ROLE_USERS[role]);
const post = (app: App, url: string, headers: Record<string, string> | undefined, payload: object = {}) => app.inject({ method: 'POST', url, headers, payload });

describe('web app', () => {
  it('GET /healthz is 200 when every component is healthy and 503 with the reason otherwise (no sign-in: monitoring reads it)', async () => {
    const good = await buildWebApp(deps(ok)).inject('/healthz');
    expect(good.statusCode).toBe(200);
    const bad = await buildWebApp(deps(down)).inject('/healthz');
    expect(bad.statusCode).toBe(503);
    expect(bad.json()).toMatchObject({ status: 'unhealthy', components: { plc: { state: 'down', detail: expect.stringContaining('not reachable') } } });
  });

  it('GET /api/stations lists id, kind, counters and the last inspection to a signed-in user, and nothing to anyone else', async () => {
    const app = buildWebApp(deps(ok));
    expect((await app.inject('/api/stations')).statusCode).toBe(401);
    const res = await app.inject({ url: '/api/stations', headers: await as(app, 'viewer') });
    expect(res.statusCode).toBe(200);
    const [s] = res.json() as Array<Record<string, unknown>>;
    expect(s).toMatchObject({
      id: 'blister',
      kind: 'part',
      counters: { pass: 5, reject: 1, inconclusive: 0, notInspected: 0 },
      lastInspection: { id: 42, verdict: 'reject', partId: 'BLISTER-000009', startedAt: '2026-11-21T08:00:00.000Z', evidenceUrl: null },
    });
  });

  it('GET /metrics exposes inspections by station and verdict and the duration histogram', async () => {
    const res = await buildWebApp(deps(ok)).inject('/metrics');
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('lineside_inspections_total{station="blister",verdict="reject"} 1');
    expect(res.body).toContain('lineside_inspection_duration_seconds_bucket{le="0.02",station="blister"} 1');
  });

  it('answers unknown or malformed inspection ids with 404 / 400 and a stable error code', async () => {
    const app = buildWebApp(deps(ok));
    const headers = await as(app, 'viewer');
    expect((await app.inject({ url: '/api/inspections/77', headers })).json()).toMatchObject({ error: 'LINESIDE_ERR_NOT_FOUND' });
    expect((await app.inject({ url: '/api/inspections/77', headers })).statusCode).toBe(404);
    expect((await app.inject({ url: '/api/inspections/abc', headers })).statusCode).toBe(400);
    expect((await app.inject({ url: '/api/inspections/1/evidence.jpg', headers })).statusCode).toBe(404);
  });

  it("summarises a station for its page: the current batch's counters, the shift's, and the defect Pareto", async () => {
    const app = buildWebApp(deps(ok));
    const viewer = await as(app, 'viewer');
    const res = await app.inject({ url: '/api/stations/blister/summary?from=2026-11-21T00:00:00Z', headers: viewer });
    expect(res.statusCode).toBe(200);
    const s = res.json();
    expect(s.batch).toMatchObject({ batchId: 'B1', counters: { reject: 1, inconclusive: 1 } });
    expect(s.since).toMatchObject({ from: '2026-11-21T00:00:00.000Z', counters: { reject: 1, inconclusive: 1, pass: 0 } });
    expect(s.latencyMs.totalMs).toBe(12);
    expect((await app.inject({ url: '/api/stations/nowhere/summary', headers: viewer })).statusCode).toBe(404);
  });

  it('searches the history by batch, verdict and defect class', async () => {
    const app = buildWebApp(deps(ok));
    const headers = await as(app, 'viewer');
    const ids = async (q: string) => ((await app.inject({ url: `/api/inspections?${q}`, headers })).json() as Array<{ id: number }>).map((i) => i.id);
    expect(await ids('batch=B1')).toEqual([unsure.id, 1]);
    expect(await ids('verdict=inconclusive')).toEqual([unsure.id]);
    expect(await ids('batch=B2')).toEqual([]);
    expect((await app.inject({ url: '/api/inspections?verdict=maybe', headers })).statusCode).toBe(400);
  });

  it('lists batches with their report links; a download is for roles that may export, and is recorded in the audit trail', async () => {
    const app = buildWebApp(deps(ok));
    const qa = await as(app, 'qa');
    const list = (await app.inject({ url: '/api/batches', headers: qa })).json() as Array<{ batchId: string; inspections: number; reports: Record<string, string> }>;
    expect(list).toEqual([expect.objectContaining({ batchId: inspection.batchId, inspections: 2 })]);
    expect((await app.inject({ url: list[0]!.reports.pdf!, headers: await as(app, 'operator') })).statusCode).toBe(403);
    const pdf = await app.inject({ url: list[0]!.reports.pdf!, headers: qa });
    expect(pdf.statusCode).toBe(200);
    expect(pdf.headers['content-type']).toBe('application/pdf');
    expect(pdf.headers['content-disposition']).toBe(`attachment; filename="batch-${inspection.batchId}.pdf"`);
    expect(pdf.rawPayload.subarray(0, 5).toString()).toBe('%PDF-');
    const json = (await app.inject({ url: list[0]!.reports.json!, headers: qa })).json() as { totals: { total: number }; generatedBy: { user: string } };
    expect(json.totals.total).toBe(2);
    expect(json.generatedBy.user).toBe(ROLE_USERS.qa);
    expect((await app.inject({ url: `/api/batches/${inspection.batchId}/report?format=xlsx`, headers: qa })).statusCode).toBe(400);
    expect((await app.inject({ url: '/api/batches/NO-SUCH/report', headers: qa })).json()).toMatchObject({ error: 'LINESIDE_ERR_NOT_FOUND' });
  });

  it('describes exactly the routes it serves in its OpenAPI document, readable at /docs', async () => {
    const app = buildWebApp(deps(ok));
    const doc = (await app.inject('/docs/openapi.json')).json() as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toBe('3.1.0');
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`));
    expect(servedRoutes(app).sort()).toEqual(documented.sort());
    const page = await app.inject('/docs');
    expect(page.body).toContain('<code>/api/batches/{batchId}/report</code>');
  });

  it('serves the status page without anything from outside the box', async () => {
    const res = await buildWebApp(deps(ok)).inject('/');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/html');
    expect(res.body).toContain('lineside · Line 1');
    expect(res.body).not.toMatch(/(src|href)="https?:\/\//);
  });
});

describe('acting through the page: signed in, authorised by role, CSRF-protected, audited', () => {
  it('an operator acknowledges an alarm with a comment; the acknowledgement is in the audit trail with who and from where', async () => {
    const app = buildWebApp(deps(ok));
    alarms.raise('blister', 'cameraLost', 'critical', 'camera lost: no frames for 5 s');
    const alarm = alarms.active().find((a) => a.category === 'cameraLost')!;
    const otto = await as(app, 'operator');
    expect((await post(app, `/api/alarms/${alarm.id}/acknowledge`, otto, { comment: ' ' })).statusCode).toBe(400);
    const res = await post(app, `/api/alarms/${alarm.id}/acknowledge`, otto, { comment: 'cable reseated' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ acknowledged: { by: ROLE_USERS.operator, comment: 'cable reseated' } });
    const trail = (await app.inject({ url: '/api/audit?action=alarmAcknowledged', headers: await as(app, 'supervisor') })).json() as Array<Record<string, unknown>>;
    expect(trail[0]).toMatchObject({ user: ROLE_USERS.operator, role: 'operator', objectType: 'alarm', objectId: String(alarm.id), reason: 'cable reseated', client: '127.0.0.1' });
  });

  it('refuses state changes without a session (401), with a viewer session (403) or without the CSRF token (403), and nothing changes', async () => {
    const app = buildWebApp(deps(ok));
    alarms.raise('blister', 'modelUnhealthy', 'critical', 'model unhealthy');
    const alarm = alarms.active().find((a) => a.category === 'modelUnhealthy')!;
    const trailBefore = kit.records.audit.recent(1)[0]!.seq;
    const viewer = await as(app, 'viewer');
    const operator = await as(app, 'operator');
    const supervisor = await as(app, 'supervisor');
    const attempts: Array<[string, object]> = [
      [`/api/alarms/${alarm.id}/acknowledge`, { comment: 'x' }],
      [`/api/alarms/${alarm.id}/shelve`, { reason: 'x', minutes: 10 }],
      [`/api/inspections/${unsure.id}/review`, { decision: 'pass', reason: 'x', password: TEST_PASSWORD }],
      ['/api/stations/blister/check', {}],
      ['/api/users', { username: 'mallory', fullName: 'M', role: 'admin' }],
    ];
    for (const [url, body] of attempts) {
      expect((await post(app, url, undefined, body)).statusCode, `${url} without a session`).toBe(401);
      expect((await post(app, url, viewer, body)).statusCode, `${url} as viewer`).toBe(403);
      expect((await post(app, url, { cookie: supervisor.cookie }, body)).statusCode, `${url} without the CSRF token`).toBe(403);
      expect((await post(app, url, { ...supervisor, 'x-csrf-token': operator['x-csrf-token'] }, body)).statusCode, `${url} with another session's token`).toBe(403);
    }
    expect(alarms.active().find((a) => a.id === alarm.id)).toMatchObject({ ackedAt: null, shelvedUntil: null });
    expect(kit.records.reviews.inspectionWithReviews(unsure.id)!.reviews).toEqual([]);
    expect(kit.records.users.get('mallory')).toBeUndefined();
    // Only the sign-ins above were recorded: no action.
    expect(kit.records.audit.query({ limit: 1000 }).filter((a) => a.seq > trailBefore && a.action !== 'login').map((a) => a.action)).toEqual([]);
  });

  it('an operator cannot shelve; a supervisor shelves with a reason and a duration within the allowed longest', async () => {
    const app = buildWebApp(deps(ok));
    alarms.raise('blister', 'inspectionErrors', 'warning', 'inspection errors');
    const alarm = alarms.active().find((a) => a.category === 'inspectionErrors')!;
    expect((await post(app, `/api/alarms/${alarm.id}/shelve`, await as(app, 'operator'), { reason: 'noisy', minutes: 10 })).statusCode).toBe(403);
    const sue = await as(app, 'supervisor');
    expect((await post(app, `/api/alarms/${alarm.id}/shelve`, sue, { reason: 'noisy', minutes: 600 })).json().message).toMatch(/at most 60 minutes/);
    const res = await post(app, `/api/alarms/${alarm.id}/shelve`, sue, { reason: 'camera being re-aimed', minutes: 15 });
    expect(res.json()).toMatchObject({ shelved: { by: ROLE_USERS.supervisor, reason: 'camera being re-aimed' } });
  });

  it('a supervisor reviews an inconclusive part with a signature: a new record linked to the original, which is unchanged; a wrong password is refused and audited', async () => {
    const app = buildWebApp(deps(ok));
    const sue = await as(app, 'supervisor');
    const pending = (await app.inject({ url: '/api/reviews/pending', headers: sue })).json() as Array<{ id: number }>;
    expect(pending.map((p) => p.id)).toContain(unsure.id);
    const wrong = await post(app, `/api/inspections/${unsure.id}/review`, sue, { decision: 'pass', reason: 'pocket filled on re-check', password: 'not-my-password' });
    expect(wrong.statusCode).toBe(401);
    expect(kit.records.audit.query({ action: 'loginFailed', user: ROLE_USERS.supervisor, limit: 1 })[0]).toMatchObject({ reason: expect.stringMatching(/signature/) });
    const res = await post(app, `/api/inspections/${unsure.id}/review`, sue, { decision: 'pass', reason: 'pocket filled on re-check' });
    expect(res.statusCode).toBe(400);
    const done = await post(app, `/api/inspections/${unsure.id}/review`, sue, { decision: 'pass', reason: 'pocket filled on re-check', password: TEST_PASSWORD });
    expect(done.statusCode).toBe(201);
    const record = done.json();
    expect(record).toMatchObject({ id: unsure.id, verdict: 'inconclusive', decision: 'pass' });
    expect(record.reviews[0]).toMatchObject({ decision: 'pass', reviewer: ROLE_USERS.supervisor, signatures: [{ meaning: 'reviewed', printedName: 'Sue Tester', valid: true }] });
    expect(store.inspections.get(unsure.id)!.verdict).toBe('inconclusive');
    expect(((await app.inject({ url: '/api/reviews/pending', headers: sue })).json() as Array<{ id: number }>).map((p) => p.id)).not.toContain(unsure.id);
    expect((await post(app, `/api/inspections/${unsure.id}/review`, await as(app, 'operator'), { decision: 'reject', reason: 'x', password: TEST_PASSWORD })).statusCode).toBe(403);
  });

  it('only an administrator manages users; a new user gets a one-time password and the change is audited', async () => {
    const app = buildWebApp(deps(ok));
    expect((await app.inject({ url: '/api/users', headers: await as(app, 'qa') })).statusCode).toBe(403);
    const ada = await as(app, 'admin');
    const made = await post(app, '/api/users', ada, { username: 'nina', fullName: 'Nina Night Shift', role: 'operator', reason: 'new starter' });
    expect(made.statusCode).toBe(201);
    expect(made.json()).toMatchObject({ user: { username: 'nina', role: 'operator', mustChangePassword: true }, oneTimePassword: expect.any(String) });
    const role = await post(app, '/api/users/nina/role', ada, { role: 'supervisor', reason: 'promoted' });
    expect(role.json()).toMatchObject({ role: 'supervisor' });
    const trail = kit.records.audit.query({ user: ROLE_USERS.admin, limit: 5 }).map((a) => a.action);
    expect(trail).toEqual(expect.arrayContaining(['userCreated', 'userChanged']));
    expect((await post(app, '/api/users/nina/role', ada, { role: 'overlord', reason: 'x' })).statusCode).toBe(400);
  });

  it('exports the audit trail as CSV for QA, and records the export', async () => {
    const app = buildWebApp(deps(ok));
    const res = await app.inject({ url: '/api/audit/export.csv?action=login', headers: await as(app, 'qa') });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/csv');
    const lines = res.body.trim().split('\r\n');
    expect(lines[0]).toBe('seq,at,user,role,action,objectType,objectId,oldValue,newValue,reason,client,hash');
    expect(lines.slice(1).every((l) => l.split(',')[4] === 'login')).toBe(true);
    expect(kit.records.audit.query({ action: 'exported', limit: 1 })[0]).toMatchObject({ actor: { user: ROLE_USERS.qa }, objectType: 'auditTrail' });
    expect((await app.inject({ url: '/api/audit', headers: await as(app, 'operator') })).statusCode).toBe(403);
  });

  it('tells the page what the signed-in role may do', async () => {
    const app = buildWebApp(deps(ok));
    const login = async (role: keyof typeof ROLE_USERS) =>
      (await post(app, '/api/login', undefined, { username: ROLE_USERS[role], password: TEST_PASSWORD })).json() as { may: string[] };
    expect((await login('viewer')).may).toEqual([]);
    expect((await login('operator')).may).toEqual(['requestCheck', 'acknowledgeAlarm']);
    expect((await login('admin')).may).toEqual(['exportRecords', 'viewAudit', 'manageUsers']);
  });
});
