import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { InspectionRecord } from '../domain/inspection.js';
import { MIGRATIONS } from './migrations.js';
import { Store } from './store.js';

const record = (over: Partial<InspectionRecord> = {}): InspectionRecord => ({
  stationId: 'blister',
  kind: 'part',
  triggerCount: 7,
  partId: 'P-7',
  batchId: 'B1',
  recipeIndex: 1,
  verdict: 'reject',
  reason: 'empty_pocket 0.91',
  rejectCode: 10,
  score: 0.91,
  startedAt: Date.now(),
  timings: { acquireMs: 1, preprocessMs: 2, inferMs: 3, decodeMs: 0.1, rulesMs: 0.05, totalMs: 6.2 },
  modelVersions: { blister: 'blister-detector@1.0.0+abc' },
  frameOrigin: 'blister-0007.jpg',
  findings: [{ label: 'empty_pocket', score: 0.91, box: { x: 1, y: 2, w: 30, h: 40 }, rule: 'class:empty_pocket>=0.5', effect: 'reject', rejectCode: 10 }],
  ...over,
});

describe('Store', () => {
  it('uses WAL and synchronous=FULL on every open, including re-opening an existing database', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lineside-store-'));
    Store.open(dir).close();
    const again = Store.open(dir);
    expect(again.durability()).toEqual({ journalMode: 'wal', synchronous: 'FULL' });
    const stored = again.inspections.record(record());
    again.close();
    const reopened = Store.open(dir);
    expect(reopened.inspections.get(stored.id)?.partId).toBe('P-7');
    reopened.close();
  });

  it('records an inspection with findings, timings, model versions, PLC answer and evidence', () => {
    const store = Store.open(mkdtempSync(join(tmpdir(), 'lineside-store-')));
    const stored = store.inspections.record(record());
    store.inspections.recordPlcAnswer(stored.id, { result: 2, resultCount: 7, writtenAt: 123, latencyMs: 1.5, error: null });
    store.inspections.recordEvidence(stored.id, { path: 'evidence/x.jpg', sha256: 'ab'.repeat(32), bytes: 10 });
    const got = store.inspections.get(stored.id)!;
    expect(got.findings[0]).toMatchObject({ label: 'empty_pocket', box: { x: 1, y: 2, w: 30, h: 40 }, effect: 'reject' });
    expect(got.timings.inferMs).toBe(3);
    expect(got.modelVersions).toEqual({ blister: 'blister-detector@1.0.0+abc' });
    expect(got.plcWrittenAt).toBe(123);
    expect(got.evidencePath).toBe('evidence/x.jpg');
    store.close();
  });

  it('keeps counters per station and verdict across a restart', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lineside-store-'));
    const store = Store.open(dir);
    store.inspections.record(record());
    store.inspections.record(record({ verdict: 'pass' }));
    store.inspections.record(record({ verdict: 'not_inspected' }));
    store.close();
    const again = Store.open(dir);
    expect(again.inspections.countsByStation().get('blister')).toEqual({ pass: 1, reject: 1, inconclusive: 0, notInspected: 1 });
    again.close();
  });

  it('keeps one open alarm per station and category, listed until cleared and acknowledged', () => {
    const store = Store.open(mkdtempSync(join(tmpdir(), 'lineside-store-')));
    const first = store.alarms.raise('gowning', 'ppeViolation', 'warning', 'no mask', 1);
    expect(first).not.toBeNull();
    expect(store.alarms.raise('gowning', 'ppeViolation', 'warning', 'no mask', 2)).toBeNull();
    expect(store.alarms.listed()).toHaveLength(1);
    expect(store.alarms.clear('gowning', 'ppeViolation', 3)?.clearedAt).toBe(3);
    // Cleared but not acknowledged: still listed; the condition returning re-opens the same alarm.
    expect(store.alarms.listed()).toHaveLength(1);
    expect(store.alarms.raise('gowning', 'ppeViolation', 'warning', 'no mask again', 4)?.id).toBe(first!.id);
    store.alarms.clear('gowning', 'ppeViolation', 5);
    store.alarms.acknowledge(first!.id, { user: 'ana', role: 'operator' }, 'gown replaced', 6, () => {});
    expect(store.alarms.listed()).toHaveLength(0);
    expect(store.alarms.events(first!.id).map((e) => e.kind)).toEqual(['raised', 'cleared', 'raised', 'cleared', 'acknowledged']);
    store.close();
  });

  it('migrates alarms from before the lifecycle: history from their raise and clear, closed ones count as done', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lineside-store-'));
    const raw = new Database(join(dir, 'lineside.db'));
    raw.exec(MIGRATIONS[0]!);
    raw.pragma('user_version = 1');
    raw.prepare(`INSERT INTO alarms (station_id, category, severity, message, raised_at, cleared_at) VALUES ('blister', 'cameraLost', 'critical', 'camera lost', 10, 20)`).run();
    raw.prepare(`INSERT INTO alarms (station_id, category, severity, message, raised_at) VALUES ('blister', 'modelUnhealthy', 'critical', 'model down', 30)`).run();
    raw.close();
    const store = Store.open(dir);
    expect(store.alarms.listed().map((a) => a.category)).toEqual(['modelUnhealthy']);
    expect(store.alarms.events(1).map((e) => [e.kind, e.at])).toEqual([['raised', 10], ['cleared', 20]]);
    store.close();
  });

  it('keeps who requested a cleaning check, and opens a database from before that column with its records intact', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lineside-store-'));
    // A database of the release before requested_by: schema 5, with one cleaning check in it.
    const raw = new Database(join(dir, 'lineside.db'));
    for (const m of MIGRATIONS.slice(0, 5)) raw.exec(m);
    raw.pragma('user_version = 5');
    raw.prepare(`INSERT INTO inspections (station_id, kind, part_id, verdict, started_at, recorded_at) VALUES ('hopper', 'cleaning', 'HOP-1', 'pass', 10, 11)`).run();
    raw.close();
    const store = Store.open(dir);
    expect(store.inspections.get(1)).toMatchObject({ partId: 'HOP-1', verdict: 'pass', requestedBy: null });
    const byUser = store.inspections.record(record({ stationId: 'hopper', kind: 'cleaning', partId: 'HOP-1', requestedBy: 'olga' }));
    const byPlc = store.inspections.record(record({ stationId: 'hopper', kind: 'cleaning', partId: 'HOPPER-000001', requestedBy: 'PLC' }));
    const part = store.inspections.record(record());
    store.close();
    const again = Store.open(dir);
    expect([byUser, byPlc, part].map((s) => again.inspections.get(s.id)?.requestedBy)).toEqual(['olga', 'PLC', null]);
    again.close();
  });

  it('refuses to change or delete alarm history', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lineside-store-'));
    const store = Store.open(dir);
    store.alarms.raise('gowning', 'ppeViolation', 'warning', 'no mask', 1);
    store.close();
    const raw = new Database(join(dir, 'lineside.db'));
    expect(() => raw.prepare(`UPDATE alarm_events SET actor = 'someone else'`).run()).toThrow(/append-only/);
    expect(() => raw.prepare(`DELETE FROM alarm_events`).run()).toThrow(/append-only/);
    raw.close();
  });

  it('refuses a database from a newer release', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lineside-store-'));
    Store.open(dir).close();
    const raw = new Database(join(dir, 'lineside.db'));
    raw.pragma('user_version = 99');
    raw.close();
    expect(() => Store.open(dir)).toThrow(/newer than this software/);
  });
});
