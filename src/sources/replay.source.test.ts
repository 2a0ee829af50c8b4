import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../domain/errors.js';
import { ReplaySource } from './replay.source.js';

describe('ReplaySource', () => {
  it('replays images in name order and loops, ignoring other files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lineside-replay-'));
    for (const f of ['b.jpg', 'a.png', 'notes.txt', 'c.JPEG']) writeFileSync(join(dir, f), f);
    const src = new ReplaySource(dir);
    await src.start();
    const seen = [];
    for (let i = 0; i < 4; i++) seen.push((await src.grab()).origin);
    expect(seen).toEqual(['a.png', 'b.jpg', 'c.JPEG', 'a.png']);
    expect(src.health().state).toBe('ok');
  });

  it('refuses to start on a missing or empty folder, saying which', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'lineside-replay-'));
    await expect(new ReplaySource(empty).start()).rejects.toMatchObject({ code: ErrorCode.sourceUnavailable, message: expect.stringContaining('has no .jpg/.png images') });
    const missing = new ReplaySource(join(empty, 'nope'));
    await expect(missing.start()).rejects.toThrow(/nope cannot be read/);
    expect(missing.health().state).toBe('down');
  });
});
