import { describe, expect, it } from 'vitest';
import { Tracker } from './tracker.js';

const cfg = { maxMissedFrames: 3, minIou: 0.2, maxJump: 1 };
const box = (x: number, y = 100) => ({ x, y, w: 60, h: 200 });

describe('Tracker', () => {
  it('keeps each person on their id while they walk', () => {
    const t = new Tracker(cfg);
    const first = t.update([box(50), box(400)]).ids;
    const later = [1, 2, 3, 4, 5].map((i) => t.update([box(400 - i * 15), box(50 + i * 15)]).ids);
    for (const ids of later) expect(ids).toEqual([first[1], first[0]]);
    expect(new Set(first).size).toBe(2);
  });

  it('keeps the id across a missed frame and ends the track only after maxMissedFrames', () => {
    const t = new Tracker(cfg);
    const [id] = t.update([box(100)]).ids;
    expect(t.update([]).ended).toEqual([]);
    expect(t.update([box(120)]).ids).toEqual([id]);
    const ends = [1, 2, 3, 4].map(() => t.update([]).ended);
    expect(ends).toEqual([[], [], [], [id]]);
    expect(t.update([box(120)]).ids[0]).not.toBe(id);
  });

  it('follows a fast walker by centre when boxes no longer overlap enough', () => {
    const t = new Tracker(cfg);
    const [id] = t.update([box(100)]).ids;
    expect(t.update([box(150)]).ids).toEqual([id]);
  });
});
