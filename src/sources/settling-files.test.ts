import type { Stats } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SettlingFiles } from './settling-files.js';

const stat = (size: number, mtimeMs: number, ino = 1): Stats => ({ size, mtimeMs, ino }) as Stats;

/** One scan of a folder holding `files` (name → stat) at `now`; returns the next settle time. */
function scan(s: SettlingFiles, files: Record<string, Stats>, now: number): number {
  const touched = s.beginScan();
  for (const [name, st] of Object.entries(files)) if (s.needsStat(name, touched)) s.observe(name, st, now);
  return s.endScan(new Set(Object.keys(files)));
}

describe('SettlingFiles', () => {
  it('a file still being written is not complete; one unchanged for settleMs is', () => {
    const s = new SettlingFiles(300);
    expect(scan(s, { 'a.jpg': stat(1000, 1) }, 0)).toBe(300);
    expect(scan(s, { 'a.jpg': stat(5000, 2) }, 200)).toBe(500); // grew: settling starts again
    expect(s.hasComplete()).toBe(false);
    expect(scan(s, { 'a.jpg': stat(5000, 2) }, 499)).toBe(500);
    expect(s.takeOldest()).toBeNull();
    expect(scan(s, { 'a.jpg': stat(5000, 2) }, 500)).toBe(Infinity);
    expect(s.takeOldest()).toBe('a.jpg');
    expect(s.size).toBe(0);
  });

  it('a complete file is not stat again unless a watch event touched it; a replaced file settles anew', () => {
    const s = new SettlingFiles(0);
    scan(s, { 'a.jpg': stat(10, 1) }, 0);
    expect(s.needsStat('a.jpg', s.beginScan())).toBe(false);
    s.touched('a.jpg');
    const touched = s.beginScan();
    expect(s.needsStat('a.jpg', touched)).toBe(true);
    expect(s.needsStat('a.jpg', s.beginScan())).toBe(false); // a touch counts for one scan

    const slow = new SettlingFiles(100);
    scan(slow, { 'b.jpg': stat(10, 1, 7) }, 0);
    scan(slow, { 'b.jpg': stat(10, 1, 7) }, 100);
    expect(slow.hasComplete()).toBe(true);
    slow.touched('b.jpg');
    scan(slow, { 'b.jpg': stat(10, 1, 8) }, 150); // same size and time, other inode: renamed over
    expect(slow.hasComplete()).toBe(false);
  });

  it('hands out complete files oldest first (then by name) and forgets files that left the folder', () => {
    const s = new SettlingFiles(0);
    scan(s, { 'c.jpg': stat(1, 30), 'b.jpg': stat(1, 10), 'a.jpg': stat(1, 30), 'gone.jpg': stat(1, 5) }, 0);
    scan(s, { 'c.jpg': stat(1, 30), 'b.jpg': stat(1, 10), 'a.jpg': stat(1, 30) }, 1);
    expect([s.takeOldest(), s.takeOldest(), s.takeOldest(), s.takeOldest()]).toEqual(['b.jpg', 'a.jpg', 'c.jpg', null]);
  });
});
