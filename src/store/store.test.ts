import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { InspectionRecord } from '../domain/inspection.js';
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

  it('keeps one open alarm per station and category', () => {
    const store = Store.open(mkdtempSync(join(tmpdir(), 'lineside-store-')));
    expect(store.alarms.raise('gowning', 'ppeViolation', 'warning', 'no mask', 1)).toBe(true);
    expect(store.alarms.raise('gowning', 'ppeViolation', 'warning', 'no mask', 2)).toBe(false);
    expect(store.alarms.active()).toHaveLength(1);
    expect(store.alarms.clear('gowning', 'ppeViolation', 3)).toBe(true);
    expect(store.alarms.active()).toHaveLength(0);
    store.close();
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
