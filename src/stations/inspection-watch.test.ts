import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AlarmCategory } from '../domain/alarm.js';
import type { StoredInspection } from '../domain/inspection.js';
import { ERRORS_IN_A_ROW, InspectionWatch, MISSED_TRIGGER_HOLD_MS } from './inspection-watch.js';

function fakeAlarms() {
  const active = new Set<string>();
  return {
    active,
    raise: (s: string, c: AlarmCategory) => void active.add(`${s}:${c}`),
    clear: (s: string, c: AlarmCategory) => void active.delete(`${s}:${c}`),
  };
}
const insp = (verdict: StoredInspection['verdict']) => ({ stationId: 'blister', verdict, reason: 'LINESIDE_ERR_IMAGE_DECODE' }) as StoredInspection;

describe('InspectionWatch', () => {
  afterEach(() => vi.useRealTimers());

  it('raises "inspection errors" after a run of not-inspected parts and clears on the next inspected one', () => {
    const alarms = fakeAlarms();
    const w = new InspectionWatch(alarms);
    for (let i = 0; i < ERRORS_IN_A_ROW - 1; i++) w.inspected(insp('not_inspected'));
    expect(alarms.active.size).toBe(0);
    w.inspected(insp('not_inspected'));
    expect(alarms.active.has('blister:inspectionErrors')).toBe(true);
    w.inspected(insp('reject'));
    expect(alarms.active.size).toBe(0);
  });

  it('holds "missed triggers" for a while after the last miss', () => {
    vi.useFakeTimers();
    const alarms = fakeAlarms();
    const w = new InspectionWatch(alarms);
    w.missedTriggers('blister', 2);
    vi.advanceTimersByTime(MISSED_TRIGGER_HOLD_MS - 1);
    expect(alarms.active.has('blister:missedTriggers')).toBe(true);
    vi.advanceTimersByTime(1);
    expect(alarms.active.size).toBe(0);
  });
});
