import { describe, expect, it } from 'vitest';
import { Debouncer } from './debounce.js';

describe('Debouncer', () => {
  it('raises once after the condition persists, not on every frame', () => {
    const d = new Debouncer(3000, 5000);
    const events = [0, 500, 1000, 2000, 3000, 3500, 4000].map((t) => d.update(true, t));
    expect(events.filter((e) => e === 'raise')).toHaveLength(1);
    expect(events[4]).toBe('raise');
  });

  it('does not raise for a violation shorter than the persistence time', () => {
    const d = new Debouncer(3000, 5000);
    expect([0, 1000, 2000].map((t) => d.update(true, t))).toEqual([null, null, null]);
    expect(d.update(false, 2500)).toBeNull();
    expect(d.update(true, 3000)).toBeNull(); // timer restarted
    expect(d.active).toBe(false);
  });

  it('clears only after the condition has been absent long enough', () => {
    const d = new Debouncer(0, 5000);
    expect(d.update(true, 0)).toBe('raise');
    expect(d.update(false, 1000)).toBeNull();
    expect(d.update(true, 2000)).toBeNull(); // back again: still the same episode
    expect(d.update(false, 3000)).toBeNull();
    expect(d.update(false, 7999)).toBeNull();
    expect(d.update(false, 8000)).toBe('clear');
    expect(d.active).toBe(false);
  });
});
