import type { ChildProcess } from 'node:child_process';
import sharp from 'sharp';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Frame } from '../domain/frame.js';
import { silentLogger } from '../observability/logger.js';
import { freePort } from '../plc/free-port.js';
import { ffmpegPath } from './ffmpeg.js';
import { encodedImageSize } from './image-size.js';
import { mjpegSource, mjpegSourceSchema } from './mjpeg.source.js';
import type { StreamSource } from './stream-source.js';
import { watchCamera } from './testing/camera-watch.js';
import { hasCommand, killPeer, requireSystem, startPeer, until } from './testing/peers.js';

const STALL_MS = 2000;

/**
 * ffmpeg's own HTTP server streaming an MJPEG test pattern. `-listen 1` serves one client and exits
 * when it disconnects, so each connection the source makes needs a fresh server.
 */
async function mjpegServer(port: number): Promise<ChildProcess> {
  const args = ['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=15', '-f', 'mpjpeg', '-listen', '1', `http://127.0.0.1:${port}/stream.mjpg`];
  const { proc } = await startPeer(ffmpegPath(), args, { readyLine: false });
  return proc;
}

/** Frames handed out by free-running grabs over `ms`. */
async function collect(source: StreamSource, ms: number): Promise<Frame[]> {
  const frames: Frame[] = [];
  const end = Date.now() + ms;
  while (Date.now() < end) frames.push(await source.grab({ timeoutMs: 1000 }));
  return frames;
}

describe('MJPEG camera (ffmpeg HTTP server on loopback)', () => {
  beforeAll(() => requireSystem('ffmpeg', () => hasCommand('ffmpeg'), 'ffmpeg'));

  let server: ChildProcess | undefined;
  let source: StreamSource | undefined;
  let watch: ReturnType<typeof watchCamera> | undefined;
  afterEach(async () => {
    watch?.stop();
    watch = undefined;
    await source?.stop();
    await killPeer(server);
    source = server = undefined;
  });

  it('delivers decodable 1280×720 JPEGs at the stream rate, matches a frame to a trigger, and survives the server restarting', async () => {
    const port = await freePort();
    server = await mjpegServer(port);
    const cfg = mjpegSourceSchema.parse({ type: 'mjpeg', url: `http://127.0.0.1:${port}/stream.mjpg`, stallAfterMs: STALL_MS });
    source = mjpegSource(cfg, { history: 8, logger: silentLogger() });
    watch = watchCamera(source);
    await source.start();

    await until(() => source!.stats().framesReceived > 0, 10_000, 'first frame');
    const n0 = source.stats().framesReceived;
    const t0 = Date.now();
    const frames = await collect(source, 2500);
    const rate = ((source.stats().framesReceived - n0) * 1000) / (Date.now() - t0);
    expect(rate).toBeGreaterThanOrEqual(10);
    expect(rate).toBeLessThanOrEqual(20);
    expect(source.stats()).toMatchObject({ width: 1280, height: 720 });
    expect(source.health().state).toBe('ok');
    // Every frame handed out is a whole 1280×720 JPEG; a few are decoded to pixels to prove it.
    expect(frames.length).toBeGreaterThan(20);
    for (const f of frames) expect(encodedImageSize(f.data)).toEqual({ width: 1280, height: 720 });
    for (const f of [frames[0]!, frames[Math.floor(frames.length / 2)]!, frames.at(-1)!]) {
      const { info } = await sharp(f.data).raw().toBuffer({ resolveWithObject: true });
      expect([info.width, info.height]).toEqual([1280, 720]);
    }

    // A trigger: the frame handed out is the first taken at or after it.
    const trigger = Date.now();
    const frame = await source.grab({ after: trigger, timeoutMs: 1000 });
    expect(frame.capturedAt).toBeGreaterThanOrEqual(trigger);
    expect(frame.capturedAt - trigger).toBeLessThan(500);

    // The camera dies mid-stream: down, with a reason, within the stall budget.
    await killPeer(server);
    const killedAt = Date.now();
    await until(() => source!.health().state === 'down', STALL_MS + 1000, 'health down after the server died');
    const downAfter = Date.now() - killedAt;
    const reason = source.health().detail;
    expect(reason).toBeTruthy();
    // The supervisor raises "camera lost": AlarmWord bit 0 set, Ready cleared.
    await until(() => watch!.cameraLost(), 5000, 'camera lost alarm');
    expect(watch.word() & 1).toBe(1);
    expect(watch.ready()).toBe(false);

    // It comes back on the same port: frames resume without recreating the source.
    server = await mjpegServer(port);
    const restartedAt = Date.now();
    const before = source.stats().framesReceived;
    await until(() => source!.stats().framesReceived > before, 10_000, 'frames after the server restarted');
    const resumeMs = Date.now() - restartedAt;
    expect(source.health().state).toBe('ok');
    expect(source.stats().restarts).toBeGreaterThan(0);
    await until(() => !watch!.cameraLost() && watch!.ready(), 2000, 'camera lost cleared and Ready set');
    expect(watch.word() & 1).toBe(0);
    console.log(
      `mjpeg: ${rate.toFixed(1)} frames/s at 1280×720; down ${downAfter} ms after the server died ("${reason}"); frames resumed ${resumeMs} ms after it restarted (restarts ${source.stats().restarts})`,
    );
  });

  it('says "connection refused" while no server listens, and a grab fails with that reason', async () => {
    const port = await freePort();
    source = mjpegSource(mjpegSourceSchema.parse({ type: 'mjpeg', url: `http://127.0.0.1:${port}/stream.mjpg` }), { history: 1, logger: silentLogger() });
    await source.start();
    await until(() => source!.health().state === 'down', 5000, 'health down');
    expect(source.health().detail).toBe('camera unreachable: connection refused');
    await expect(source.grab({ timeoutMs: 300 })).rejects.toThrow(/no frame from mjpeg .* within 300 ms: camera unreachable: connection refused/);
  });
});
