import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { silentLogger } from '../observability/logger.js';
import { formatProbe, probeSource, sourceFromAddress } from '../tools/probe-source.js';
import { rtspSource, rtspSourceSchema } from './rtsp.source.js';
import type { StreamSource } from './stream-source.js';
import { watchCamera } from './testing/camera-watch.js';
import { DEBIAN_PYTHON, frameRate, hasCommand, hasRtspServerPackages, killPeer, requireSystem, RTSP_SERVER_SCRIPT, startPeer, until } from './testing/peers.js';

/** GStreamer's RTSP server (a real RTSP implementation) streaming an H.264 test pattern. */
async function rtspServer(port: number | 0, auth?: [string, string], codec: 'h264' | 'h265' = 'h264'): Promise<{ proc: ChildProcess; port: number }> {
  const { proc, line } = await startPeer(DEBIAN_PYTHON, [RTSP_SERVER_SCRIPT, String(port), '640', '360', '15', ...(auth ?? [])], { env: { CODEC: codec } });
  return { proc, port: Number(line) };
}

const config = (url: string, extra: Record<string, unknown> = {}) => rtspSourceSchema.parse({ type: 'rtsp', url, stallAfterMs: 2000, ...extra });

describe('RTSP camera (GStreamer RTSP server on loopback, decoded by ffmpeg)', () => {
  beforeAll(() => {
    requireSystem('ffmpeg', () => hasCommand('ffmpeg'), 'ffmpeg');
    requireSystem('GStreamer RTSP server', hasRtspServerPackages, 'python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-ugly');
  });

  let server: ChildProcess | undefined;
  let source: StreamSource | undefined;
  let watch: ReturnType<typeof watchCamera> | undefined;
  afterEach(async () => {
    watch?.stop();
    await source?.stop();
    await killPeer(server);
    watch = source = server = undefined;
  });

  it('delivers frames at the stream rate, matches a frame to a trigger, and survives the server restarting', async () => {
    const first = await rtspServer(0, ['operator', 'pa:ss/w0rd']);
    server = first.proc;
    const url = `rtsp://operator:${encodeURIComponent('pa:ss/w0rd')}@127.0.0.1:${first.port}/line`;
    source = rtspSource(config(url), { history: 8, logger: silentLogger() });
    watch = watchCamera(source);
    await source.start();

    const rate = await frameRate(source, 3000);
    expect(rate).toBeGreaterThan(10);
    expect(rate).toBeLessThan(20);
    expect(source.stats()).toMatchObject({ width: 640, height: 360 });
    expect(source.health().state).toBe('ok');

    // A trigger: the frame handed out is the first taken after it, as raw pixels sharp can read.
    const trigger = Date.now();
    const frame = await source.grab({ after: trigger, timeoutMs: 1000 });
    expect(frame.capturedAt).toBeGreaterThanOrEqual(trigger);
    expect(frame.capturedAt - trigger).toBeLessThan(500);
    const meta = await sharp(frame.data, { raw: frame.raw! }).metadata();
    expect([meta.width, meta.height]).toEqual([640, 360]);
    // Each trigger gets its own frame.
    const next = await source.grab({ after: trigger, timeoutMs: 1000 });
    expect(next.seq!).toBeGreaterThan(frame.seq!);

    // The camera dies mid-stream: down within the stall budget, "camera lost" raised, Ready cleared.
    await killPeer(server);
    const killedAt = Date.now();
    await until(() => source!.health().state === 'down', 3500, 'health down after the server died');
    await until(() => watch!.cameraLost(), 6000, 'camera lost alarm');
    expect(watch.word() & 1).toBe(1);
    expect(watch.ready()).toBe(false);
    expect(source.health().detail).not.toContain('pa:ss');
    const lostAfter = Date.now() - killedAt;

    // It comes back on the same address: frames resume without touching lineside.
    server = (await rtspServer(first.port, ['operator', 'pa:ss/w0rd'])).proc;
    const restartedAt = Date.now();
    const before = source.stats().framesReceived;
    await until(() => source!.stats().framesReceived > before, 10_000, 'frames after the server restarted');
    const resumeMs = Date.now() - restartedAt;
    await until(() => !watch!.cameraLost(), 2000, 'camera lost cleared');
    expect(watch.word() & 1).toBe(0);
    await until(() => watch!.ready(), 2000, 'Ready set again');
    expect(source.stats().restarts).toBeGreaterThan(0);
    console.log(`rtsp: ${rate.toFixed(1)} frames/s; camera lost raised ${lostAfter} ms after the server died; frames resumed ${resumeMs} ms after it restarted`);
  });

  it('decodes an H.265 stream the same way', async () => {
    const s = await rtspServer(0, undefined, 'h265');
    server = s.proc;
    source = rtspSource(config(`rtsp://127.0.0.1:${s.port}/line`), { history: 1, logger: silentLogger() });
    await source.start();
    const rate = await frameRate(source, 2000);
    expect(rate).toBeGreaterThan(10);
    expect(rate).toBeLessThan(20);
    const f = await source.grab({ timeoutMs: 1000 });
    expect(f.raw).toEqual({ width: 640, height: 360, channels: 3 });
    console.log(`rtsp h265: ${rate.toFixed(1)} frames/s`);
  });

  it('reports refused credentials in words, and never shows the password', async () => {
    const s = await rtspServer(0, ['operator', 'right-one']);
    server = s.proc;
    const lines: string[] = [];
    const logger = pino({ level: 'debug' }, { write: (l: string) => void lines.push(l) });
    source = rtspSource(config(`rtsp://operator:Wr0ngSecret@127.0.0.1:${s.port}/line`), { history: 1, logger });
    await source.start();
    await until(() => source!.health().state === 'down', 10_000, 'health down');
    expect(source.health().detail).toMatch(/401 Unauthorized/);
    const shown = JSON.stringify([source.description, source.health(), source.stats(), lines]);
    expect(shown).not.toContain('Wr0ngSecret');
    expect(source.description).toBe(`rtsp rtsp://***:***@127.0.0.1:${s.port}/line`);
  });

  it('says "connection refused" when nothing listens, and a grab fails with that reason', async () => {
    // A port where an RTSP server was and is no more.
    const gone = await rtspServer(0);
    await killPeer(gone.proc);
    source = rtspSource(config(`rtsp://127.0.0.1:${gone.port}/line`), { history: 1, logger: silentLogger() });
    await source.start();
    await until(() => source!.health().state === 'down', 10_000, 'health down');
    expect(source.health().detail).toMatch(/refused|Connection/i);
    await expect(source.grab({ timeoutMs: 300 })).rejects.toThrow(/no frame from rtsp .* within 300 ms: .*(refused|Connection)/i);
  });

  it('probe-source: reports the stream a commissioning engineer needs to see, or why there is none', async () => {
    const s = await rtspServer(0, ['operator', 'right-one']);
    server = s.proc;
    const out = join(mkdtempSync(join(tmpdir(), 'lineside-probe-')), 'sample.jpg');
    const cfg = await sourceFromAddress(`rtsp://operator:right-one@127.0.0.1:${s.port}/line`);
    const r = await probeSource(cfg, { seconds: 2, out });
    expect(r).toMatchObject({ kind: 'rtsp', width: 640, height: 360, format: 'raw RGB' });
    expect(r.fps!).toBeGreaterThan(10);
    expect(r.fps!).toBeLessThan(20);
    expect(r.timeToFirstFrameMs).toBeLessThan(10_000);
    expect((await sharp(out).metadata()).width).toBe(640);
    console.log(`probe rtsp: ${formatProbe(r).replace(/\n/g, ' | ')}`);
    const refused = await sourceFromAddress(`rtsp://operator:nope@127.0.0.1:${s.port}/line`);
    await expect(probeSource(refused, { seconds: 1, out })).rejects.toThrow(/401 Unauthorized/);
  });
});
