import { describe, expect, it } from 'vitest';
import { PlcHeartbeatWatch } from './plc-heartbeat-watch.js';
import { StationTriggerTracker } from './trigger-tracker.js';

function tracker(): StationTriggerTracker {
  const t = new StationTriggerTracker('blister', 'TriggerCount');
  t.batchId('B1');
  t.recipeIndex(3);
  return t;
}

describe('StationTriggerTracker', () => {
  it('treats the first counter value as a baseline, then one trigger per increment', () => {
    const t = tracker();
    t.partId('P-1', 1000);
    expect(t.counter(41, 1000, 1)).toEqual({ kind: 'baseline', count: 41, previous: undefined });
    t.partId('P-2', 1100);
    const out = t.counter(42, 1100, 2);
    expect(out).toEqual({
      kind: 'trigger',
      trigger: { stationId: 'blister', counter: 'TriggerCount', count: 42, partId: 'P-2', batchId: 'B1', recipeIndex: 3, receivedAt: 2, missed: 0 },
    });
  });

  it('pairs a counter with the PartId stamped at or before it, even when the next PartId is already known', () => {
    const t = tracker();
    t.counter(0, 0, 0);
    t.partId('P-1', 100);
    t.partId('P-2', 150);
    const first = t.counter(1, 100, 160);
    const second = t.counter(2, 150, 161);
    expect(first.kind === 'trigger' && first.trigger.partId).toBe('P-1');
    expect(second.kind === 'trigger' && second.trigger.partId).toBe('P-2');
  });

  it('reports skipped increments as missed', () => {
    const t = tracker();
    t.counter(10, 0, 0);
    const out = t.counter(13, 0, 0);
    expect(out.kind === 'trigger' && out.trigger.missed).toBe(2);
  });

  it('counts a UInt32 wrap as one step and a backwards jump as a reset', () => {
    const t = tracker();
    t.counter(4294967295, 0, 0);
    const wrapped = t.counter(0, 0, 0);
    expect(wrapped.kind === 'trigger' && wrapped.trigger.missed).toBe(0);
    expect(t.counter(0, 0, 0)).toEqual({ kind: 'repeat', count: 0 });
    t.counter(50, 0, 0);
    expect(t.counter(3, 0, 0)).toEqual({ kind: 'reset', count: 3, previous: 50 });
    expect(t.counter(4, 0, 0).kind).toBe('trigger');
  });

  it('starts a new baseline after rebaseline() and says where the count was before', () => {
    const t = tracker();
    t.counter(7, 0, 0);
    t.rebaseline();
    expect(t.counter(30, 0, 0)).toEqual({ kind: 'baseline', count: 30, previous: 7 });
    expect(t.counter(31, 0, 0).kind).toBe('trigger');
  });
});

describe('PlcHeartbeatWatch', () => {
  it('is lost when any station heartbeat stops changing for the timeout, and resumes on a change', () => {
    const w = new PlcHeartbeatWatch(['a', 'b'], 1000, 0);
    w.seen('a', 1, 500);
    w.seen('b', 1, 500);
    expect(w.check(1400)).toBeUndefined();
    w.seen('a', 2, 1400);
    w.seen('b', 1, 1400);
    expect(w.check(1600)).toBe(false);
    expect(w.stale(1600)).toEqual(['b']);
    w.seen('b', 2, 1700);
    expect(w.check(1700)).toBe(true);
  });

  it('after a restart (reconnection) counts the timeout afresh and is alive only once beats are seen', () => {
    const w = new PlcHeartbeatWatch(['a'], 1000, 0);
    expect(w.check(1500)).toBe(false);
    w.restart(2000);
    expect(w.stale(2500)).toEqual([]);
    expect(w.check(2500)).toBeUndefined();
    w.seen('a', 7, 2600);
    expect(w.check(2600)).toBe(true);
  });
});
