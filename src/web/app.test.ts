import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StationConfig } from '../config/schema.js';
import { HealthState, type ComponentHealth } from '../domain/health.js';
import type { LinesideEvents } from '../domain/events.js';
import type { StoredInspection } from '../domain/inspection.js';
import { TypedEmitter } from '../domain/typed-emitter.js';
import { silentLogger } from '../observability/logger.js';
import { Metrics } from '../observability/metrics.js';
import { Store } from '../store/store.js';
import { renderBatchReport } from '../tools/report.js';
import { buildWebApp, servedRoutes, type WebDeps } from './app.js';

const ok: ComponentHealth = { state: HealthState.ok, since: 0 };
const down: ComponentHealth = { state: HealthState.down, detail: 'PLC not reachable at opc.tcp://127.0.0.1:4840', since: 0 };

const inspection: StoredInspection = {
  id: 42, stationId: 'blister', kind: 'part', triggerCount: 9, partId: 'BLISTER-000009', batchId: 'B1', recipeIndex: 1,
  verdict: 'reject', reason: 'empty_pocket 0.91', rejectCode: 10, score: 0.91, startedAt: Date.UTC(2026, 10, 21, 8, 0, 0),
  timings: { totalMs: 12 }, modelVersions: { blister: 'blister-detector@1.0.0+abc' }, frameOrigin: 'blister-0009.jpg', findings: [],
  evidencePath: null, evidenceSha256: null, plcWrittenAt: 1,
};

/** Records behind the batch report routes: batch B1 with the inspection above. */
const store = Store.open(mkdtempSync(join(tmpdir(), 'lineside-web-')));
store.inspections.record(inspection);

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
    inspection: (id) => (id === 42 ? inspection : undefined),
    evidenceFile: (p) => p,
    requestCheck: async () => null,
    setReference: async () => false,
    alarms: { active: () => [], history: () => [] },
    bus: new TypedEmitter<LinesideEvents>(),
    batches: () => store.batches(20),
    batchReport: async (batchId, format, client) => renderBatchReport(store.batchReport(batchId, { generatedBy: { user: `web ${client}`, role: 'viewer' } }), format),
    metrics,
    logger: silentLogger(),
  };
}

describe('web app', () => {
  it('GET /healthz is 200 when every component is healthy and 503 with the reason otherwise', async () => {
    const good = await buildWebApp(deps(ok)).inject('/healthz');
    expect(good.statusCode).toBe(200);
    const bad = await buildWebApp(deps(down)).inject('/healthz');
    expect(bad.statusCode).toBe(503);
    expect(bad.json()).toMatchObject({ status: 'unhealthy', components: { plc: { state: 'down', detail: expect.stringContaining('not reachable') } } });
  });

  it('GET /api/stations lists id, kind, counters and the last inspection', async () => {
    const res = await buildWebApp(deps(ok)).inject('/api/stations');
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
    expect((await app.inject('/api/inspections/7')).json()).toMatchObject({ error: 'LINESIDE_ERR_NOT_FOUND' });
    expect((await app.inject('/api/inspections/7')).statusCode).toBe(404);
    expect((await app.inject('/api/inspections/abc')).statusCode).toBe(400);
    expect((await app.inject('/api/inspections/42/evidence.jpg')).statusCode).toBe(404);
  });

  it('lists batches with their report links and serves each report as a download; a bad format or an unknown batch is refused', async () => {
    const app = buildWebApp(deps(ok));
    const list = (await app.inject('/api/batches')).json() as Array<{ batchId: string; inspections: number; reports: Record<string, string> }>;
    expect(list).toEqual([expect.objectContaining({ batchId: inspection.batchId, inspections: 1 })]);
    const pdf = await app.inject(list[0]!.reports.pdf!);
    expect(pdf.statusCode).toBe(200);
    expect(pdf.headers['content-type']).toBe('application/pdf');
    expect(pdf.headers['content-disposition']).toBe(`attachment; filename="batch-${inspection.batchId}.pdf"`);
    expect(pdf.rawPayload.subarray(0, 5).toString()).toBe('%PDF-');
    const json = (await app.inject(list[0]!.reports.json!)).json() as { totals: { total: number }; generatedBy: { user: string } };
    expect(json.totals.total).toBe(1);
    expect(json.generatedBy.user).toBe('web 127.0.0.1');
    expect((await app.inject(`/api/batches/${inspection.batchId}/report?format=xlsx`)).statusCode).toBe(400);
    expect((await app.inject('/api/batches/NO-SUCH/report')).json()).toMatchObject({ error: 'LINESIDE_ERR_NOT_FOUND' });
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
