import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AlarmBit, type AlarmEvent } from '../domain/alarm.js';
import type { LinesideEvents } from '../domain/events.js';
import { TypedEmitter } from '../domain/typed-emitter.js';
import { silentLogger } from '../observability/logger.js';
import { SYSTEM } from '../records/audit.js';
import { MemoryAuditLog } from '../records/testing/memory-audit.js';
import { AlarmRepository } from '../store/alarm.repository.js';
import { openDatabase } from '../store/db.js';
import { AlarmCenter, APPLIANCE, lockoutSource } from './alarm-center.js';

const ana = { user: 'ana', role: 'operator' } as const;
const HOUR = 3_600_000;

function setup(dir = mkdtempSync(join(tmpdir(), 'lineside-alarms-'))) {
  const db = openDatabase(join(dir, 'lineside.db'));
  const repo = new AlarmRepository(db);
  const audit = new MemoryAuditLog();
  const bus = new TypedEmitter<LinesideEvents>();
  const events: AlarmEvent[] = [];
  bus.on('alarm', (e) => events.push(e));
  const words = new Map<string, number>();
  const center = new AlarmCenter({ repo, audit, bus, logger: silentLogger(), stations: ['blister', 'gowning'], maxShelveMs: 8 * HOUR });
  center.onWord((s, w) => words.set(s, w));
  return { dir, db, repo, audit, center, events, words };
}

describe('AlarmCenter lifecycle', () => {
  afterEach(() => vi.useRealTimers());

  it('keeps a cleared alarm on the active list until someone acknowledges it with a comment', () => {
    const { center, audit, events } = setup();
    center.raise('blister', 'cameraLost', 'critical', 'camera lost: no frames');
    const [alarm] = center.active();
    expect(alarm).toMatchObject({ stationId: 'blister', category: 'cameraLost', severity: 'critical', condition: 'active', acknowledged: false });
    center.clear('blister', 'cameraLost');
    expect(center.active()).toMatchObject([{ id: alarm!.id, condition: 'cleared', acknowledged: false }]);

    expect(() => center.acknowledge(alarm!.id, ana, '   ')).toThrow(/comment is required/);
    expect(() => center.acknowledge(alarm!.id, SYSTEM, 'auto')).toThrow(/signed-in person/);
    const acked = center.acknowledge(alarm!.id, ana, 'cable reseated', '10.0.0.7');
    expect(acked).toMatchObject({ ackedBy: 'ana', ackComment: 'cable reseated' });
    expect(center.active()).toEqual([]);
    expect(() => center.acknowledge(alarm!.id, ana, 'again')).toThrow(/is over/);

    expect(audit.entries).toMatchObject([{ action: 'alarmAcknowledged', actor: ana, objectType: 'alarm', objectId: String(alarm!.id), reason: 'cable reseated', client: '10.0.0.7', oldValue: { acknowledged: false, condition: 'cleared' } }]);
    expect(events.map((e) => e.state)).toEqual(['raised', 'cleared', 'acknowledged']);
    expect(events[2]).toMatchObject({ alarmId: alarm!.id, by: 'ana', comment: 'cable reseated' });
  });

  it('an acknowledged alarm whose condition persists stays listed (and keeps its bit) until it clears', () => {
    const { center, words } = setup();
    center.raise('blister', 'modelUnhealthy', 'critical', 'model unhealthy');
    const id = center.active()[0]!.id;
    center.acknowledge(id, ana, 'QA informed');
    expect(() => center.acknowledge(id, ana, 'twice')).toThrow(/already acknowledged by ana/);
    expect(center.active()).toMatchObject([{ id, condition: 'active', acknowledged: true }]);
    expect(words.get('blister')).toBe(1 << AlarmBit.modelUnhealthy);
    center.clear('blister', 'modelUnhealthy');
    expect(center.active()).toEqual([]);
    expect(words.get('blister')).toBe(0);
  });

  it('no flood: a flapping condition re-opens the unacknowledged alarm instead of adding new ones', () => {
    const { center, repo } = setup();
    for (let i = 0; i < 20; i++) {
      center.raise('gowning', 'ppeViolation', 'warning', `no mask #${i}`);
      center.raise('gowning', 'ppeViolation', 'warning', `duplicate #${i}`);
      center.clear('gowning', 'ppeViolation');
    }
    const listed = center.active();
    expect(listed).toHaveLength(1);
    expect(listed[0]!.message).toBe('no mask #19');
    expect(repo.events(listed[0]!.id).filter((e) => e.kind === 'raised')).toHaveLength(20);
  });

  it('shelving hides the alarm from the page, keeps its PLC bit, and ends by itself at expiry (audited as the appliance)', () => {
    vi.useFakeTimers({ now: new Date('2026-03-02T08:00:00Z') });
    const { center, audit, words, events } = setup();
    center.start();
    center.raise(APPLIANCE, 'plcHeartbeatLost', 'critical', 'PLC heartbeat lost');
    const id = center.active()[0]!.id;
    const bit = 1 << AlarmBit.plcHeartbeatLost;
    expect(words.get('blister')).toBe(bit);

    expect(() => center.shelve(id, ana, '', Date.now() + HOUR)).toThrow(/reason is required/);
    expect(() => center.shelve(id, ana, 'PLC maintenance', Date.now() - 1)).toThrow(/in the future/);
    expect(() => center.shelve(id, ana, 'PLC maintenance', Date.now() + 9 * HOUR)).toThrow(/at most 480 minutes \(alarms.maxShelveMinutes\)/);
    center.shelve(id, ana, 'PLC maintenance', Date.now() + HOUR);

    expect(center.active()).toEqual([]);
    expect(center.active({ includeShelved: true })).toMatchObject([{ id, shelved: true, shelvedBy: 'ana', shelveReason: 'PLC maintenance' }]);
    expect(center.word('gowning')).toBe(bit);

    vi.advanceTimersByTime(HOUR + 1);
    expect(center.active()).toMatchObject([{ id, shelved: false }]);
    expect(audit.entries.map((e) => [e.action, e.actor.user])).toEqual([
      ['alarmShelved', 'ana'],
      ['alarmUnshelved', 'system'],
    ]);
    expect(audit.entries[1]!.reason).toMatch(/shelve expired/);
    expect(events.map((e) => e.state)).toEqual(['raised', 'shelved', 'unshelved']);
    center.stop();
  });

  it('a shelve that expired while the appliance was off ends at the next start', () => {
    vi.useFakeTimers({ now: new Date('2026-03-02T08:00:00Z') });
    const first = setup();
    first.center.raise('blister', 'cleaningFailed', 'warning', 'residue on hopper');
    const id = first.center.active()[0]!.id;
    first.center.shelve(id, ana, 'hopper being re-cleaned', Date.now() + HOUR);
    first.center.stop();
    first.db.close();

    vi.setSystemTime(Date.now() + 2 * HOUR);
    const again = setup(first.dir);
    // An expired shelve hides nothing, even before the appliance has recorded its end.
    expect(again.center.active()).toMatchObject([{ id, shelved: false }]);
    expect(again.repo.get(id)?.shelvedBy).toBe('ana');
    again.center.start();
    expect(again.repo.get(id)?.shelvedBy).toBeNull();
    expect(again.center.active()).toMatchObject([{ id, shelved: false }]);
    expect(again.audit.actions()).toEqual(['alarmUnshelved']);
    again.center.stop();
  });

  it('an acknowledgement whose audit entry cannot be written is not stored either', () => {
    const { center, audit, repo } = setup();
    center.raise('blister', 'storageLow', 'warning', 'disk 91% full');
    const id = center.active()[0]!.id;
    audit.failNext = new Error('audit trail unavailable');
    expect(() => center.acknowledge(id, ana, 'seen')).toThrow(/audit trail unavailable/);
    expect(center.active()).toMatchObject([{ id, acknowledged: false }]);
    expect(repo.events(id).map((e) => e.kind)).toEqual(['raised']);
  });

  it('a login lock-out is an appliance-level alarm with no PLC bit', () => {
    const { center, words } = setup();
    center.userLockedOut('bob');
    center.userLockedOut('eve');
    expect(center.active()).toMatchObject([
      { stationId: lockoutSource('bob'), category: 'loginLockout', message: expect.stringContaining('"bob" locked out') },
      { stationId: 'user:eve', category: 'loginLockout' },
    ]);
    expect(words.size).toBe(0);
    expect(center.word('blister')).toBe(0);
    center.userUnlocked('bob');
    expect(center.active()).toMatchObject([{ stationId: 'user:bob', condition: 'cleared' }, { stationId: 'user:eve', condition: 'active' }]);
  });

  it('history shows every transition with who and when, filtered by time and station', () => {
    const { center } = setup();
    const t0 = Date.now();
    center.raise('blister', 'cameraLost', 'critical', 'camera lost');
    center.raise('gowning', 'ppeViolation', 'warning', 'no gloves');
    const blister = center.active().find((a) => a.stationId === 'blister')!;
    center.acknowledge(blister.id, ana, 'camera replaced');
    center.clear('blister', 'cameraLost');
    const h = center.history({ from: t0, to: Date.now() + 1, stationId: 'blister' });
    expect(h).toHaveLength(1);
    expect(h[0]!.events.map((e) => [e.kind, e.actor])).toEqual([
      ['raised', 'system'],
      ['acknowledged', 'ana'],
      ['cleared', 'system'],
    ]);
    expect(center.history({ from: t0, to: Date.now() + 1 })).toHaveLength(2);
    expect(center.history({ from: Date.now() + 1000, to: Date.now() + 2000 })).toEqual([]);
    expect(() => center.history({ from: 10, to: 5 })).toThrow(/must be before/);
  });
});
