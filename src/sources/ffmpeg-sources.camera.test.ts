import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../observability/logger.js';
import { ffmpegPath } from './ffmpeg.js';
import type { FrameSource } from './frame-source.js';
import { replaySource, replaySourceSchema } from './replay.source.js';
import { frameRate, hasCommand, requireSystem, until } from './testing/peers.js';
import { v4l2Source, v4l2SourceSchema } from './v4l2.source.js';

describe('ffmpeg-decoded sources: video replay and V4L2', () => {
  beforeAll(() => requireSystem('ffmpeg', () => hasCommand('ffmpeg'), 'ffmpeg'));
  let source: FrameSource | undefined;
  afterEach(async () => {
    await source?.stop();
    source = undefined;
  });

  it('replays a video file at the set rate and loops it', async () => {
    const video = join(mkdtempSync(join(tmpdir(), 'lineside-video-')), 'line.mp4');
    const made = spawnSync(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=10', '-t', '1', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', video]);
    expect(made.status).toBe(0);
    source = replaySource(replaySourceSchema.parse({ type: 'replay', path: video, fps: 5 }), { history: 1, logger: silentLogger() });
    expect(source.kind).toBe('replay');
    await source.start();
    const rate = await frameRate(source, 3000);
    // A 1 s file at 5 frames/s holds 5 frames: 3 s of frames at 5/s means it looped.
    expect(rate).toBeGreaterThan(4);
    expect(rate).toBeLessThan(6.5);
    expect(source.stats().framesReceived).toBeGreaterThan(10);
    expect(source.stats()).toMatchObject({ width: 320, height: 240 });
    const f = await source.grab({ timeoutMs: 1000 });
    expect(f.raw).toEqual({ width: 320, height: 240, channels: 3 });
  });

  it('says which V4L2 device is missing, and keeps looking for it', async () => {
    source = v4l2Source(v4l2SourceSchema.parse({ type: 'v4l2', device: '/dev/video-lineside-absent', inputFormat: 'mjpeg', width: 1280, height: 720, fps: 30 }), {
      history: 1,
      logger: silentLogger(),
    });
    await source.start();
    await until(() => source!.health().state === 'down', 5000, 'health down');
    expect(source.health().detail).toMatch(/\/dev\/video-lineside-absent: No such file or directory/);
    await expect(source.grab({ timeoutMs: 200 })).rejects.toThrow(/No such file or directory/);
  });
});
