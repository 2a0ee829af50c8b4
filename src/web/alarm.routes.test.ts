import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import type { LinesideEvents } from '../domain/events.js';
import { TypedEmitter } from '../domain/typed-emitter.js';
import { silentLogger } from '../observability/logger.js';
import { MemoryAuditLog } from '../records/testing/memory-audit.js';
import { AlarmCenter } from '../stations/alarm-center.js';
import { AlarmRepository } from '../store/alarm.repository.js';
import { openDatabase } from '../store/db.js';
import { alarmRoutes } from './alarm.routes.js';
import { errorHandler } from './errors.js';

function app() {
  const repo = new AlarmRepository(openDatabase(join(mkdtempSync(join(tmpdir(), 'lineside-alarm-routes-')), 'lineside.db')));
  const center = new AlarmCenter({ repo, audit: new MemoryAuditLog(), bus: new TypedEmitter<LinesideEvents>(), logger: silentLogger(), stations: ['blister'], maxShelveMs: 3_600_000 });
  const web = Fastify();
  web.setErrorHandler(errorHandler(silentLogger()));
  void web.register(alarmRoutes(center));
  return { web, center };
}

describe('alarm routes', () => {
  it('lists active alarms (shelved ones on request) with acknowledgement and shelve details', async () => {
    const { web, center } = app();
    center.raise('blister', 'cameraLost', 'critical', 'camera lost: no frames');
    center.raise('blister', 'modelUnhealthy', 'critical', 'model unhealthy');
    const [cam, model] = center.active();
    center.acknowledge(cam!.id, { user: 'ana', role: 'operator' }, 'cable reseated');
    center.shelve(model!.id, { user: 'sam', role: 'supervisor' }, 'model swap in progress', Date.now() + 600_000);

    const list = (await web.inject('/api/alarms')).json();
    expect(list).toMatchObject([{ id: cam!.id, source: 'blister', category: 'cameraLost', condition: 'active', acknowledged: { by: 'ana', comment: 'cable reseated' }, shelved: null }]);
    const all = (await web.inject('/api/alarms?shelved=1')).json();
    expect(all[1]).toMatchObject({ id: model!.id, shelved: { by: 'sam', reason: 'model swap in progress' } });
  });

  it('gives the history of a time window with every transition, and refuses a bad time', async () => {
    const { web, center } = app();
    center.raise('blister', 'cameraLost', 'critical', 'camera lost');
    center.clear('blister', 'cameraLost');
    const from = new Date(Date.now() - 60_000).toISOString();
    const res = await web.inject(`/api/alarms/history?from=${from}&station=blister`);
    expect(res.statusCode).toBe(200);
    expect(res.json()[0].events.map((e: { kind: string }) => e.kind)).toEqual(['raised', 'cleared']);
    const bad = await web.inject('/api/alarms/history?from=yesterday');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/"from" must be an ISO 8601 time/);
  });
});
