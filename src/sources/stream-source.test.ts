import { afterEach, describe, expect, it } from 'vitest';
import type { ImageData } from '../domain/frame.js';
import { silentLogger } from '../observability/logger.js';
import { StreamSource, type StreamTiming } from './stream-source.js';
import { until } from './testing/peers.js';

const img = (n: number): ImageData => ({ data: Buffer.alloc(12, n), raw: { width: 2, height: 2, channels: 3 } });

/** A camera the test drives by hand: `emit` sends a frame; `fail` ends the connection with a reason. */
function handCamera() {
  let emit: ((i: ImageData) => void) | null = null;
  let fail: ((e: Error) => void) | null = null;
  let connections = 0;
  const session = (e: (i: ImageData) => void, signal: AbortSignal) =>
    new Promise<void>((resolve, reject) => {
      connections++;
      emit = e;
      fail = reject;
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
  return {
    session,
    send: (n: number) => emit?.(img(n)),
    fail: (why: string) => fail?.(new Error(why)),
    connections: () => connections,
  };
}

describe('StreamSource', () => {
  let src: StreamSource | undefined;
  afterEach(async () => {
    await src?.stop();
    src = undefined;
  });
  const make = (cam: ReturnType<typeof handCamera>, t: Partial<StreamTiming> = {}) =>
    (src = new StreamSource('rtsp', 'hand camera', cam.session, { reconnectMinMs: 20, reconnectMaxMs: 50, ...t }, silentLogger()));

  it('gives a trigger the first frame taken after it, each frame to one trigger only', async () => {
    const cam = handCamera();
    const s = make(cam, { history: 8 });
    await s.start();
    await until(() => cam.connections() === 1, 1000, 'connected');
    cam.send(1);
    await new Promise((r) => setTimeout(r, 5));
    const trigger = Date.now();
    const a = s.grab({ after: trigger, timeoutMs: 1000 });
    const b = s.grab({ after: trigger, timeoutMs: 1000 });
    await new Promise((r) => setTimeout(r, 5));
    cam.send(2);
    cam.send(3);
    const [fa, fb] = await Promise.all([a, b]);
    expect(fa.data[0]).toBe(2);
    expect(fb.data[0]).toBe(3);
    expect(fa.capturedAt).toBeGreaterThanOrEqual(trigger);
    // A trigger in the recent past finds its frame in the ring without waiting.
    cam.send(4);
    await new Promise((r) => setTimeout(r, 5));
    const past = Date.now();
    cam.send(5);
    await new Promise((r) => setTimeout(r, 5));
    expect((await s.grab({ after: past, timeoutMs: 10 })).data[0]).toBe(5);
    expect(s.health().state).toBe('ok');
  });

  it('a free-running grab gets the newest frame not yet inspected, and counts the frames it never saw', async () => {
    const cam = handCamera();
    const s = make(cam, { history: 1 });
    await s.start();
    await until(() => cam.connections() === 1, 1000, 'connected');
    for (let i = 1; i <= 5; i++) cam.send(i);
    expect((await s.grab({ timeoutMs: 100 })).data[0]).toBe(5);
    expect(s.stats()).toMatchObject({ framesReceived: 5, framesDropped: 4 });
    // The same frame is never inspected twice: the next grab waits for a new one.
    await expect(s.grab({ timeoutMs: 100 })).rejects.toThrow(/no frame from hand camera within 100 ms/);
    setTimeout(() => cam.send(6), 20);
    expect((await s.grab({ timeoutMs: 1000 })).data[0]).toBe(6);
  });

  it('a trigger with no frame after it within the limit fails with the reason, for a not-inspected answer', async () => {
    const cam = handCamera();
    const s = make(cam, { history: 8 });
    await s.start();
    await until(() => cam.connections() === 1, 1000, 'connected');
    cam.send(1);
    const t0 = Date.now();
    await expect(s.grab({ after: Date.now() + 1, timeoutMs: 150 })).rejects.toMatchObject({ code: 'LINESIDE_ERR_SOURCE_UNAVAILABLE' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
  });

  it('restarts a stalled connection, reports why, and counts the recovery', async () => {
    const cam = handCamera();
    const s = make(cam, { stallAfterMs: 300 });
    await s.start();
    await until(() => cam.connections() === 1, 1000, 'connected');
    cam.send(1);
    expect(s.health().state).toBe('ok');
    await until(() => s.health().state === 'down', 1500, 'stall detected');
    expect(s.health().detail).toMatch(/no frame for 0\.3 s/);
    await until(() => cam.connections() >= 2, 1000, 'reconnected');
    expect(s.stats().restarts).toBe(0); // no frame yet on the new connection
    cam.send(2);
    expect(s.health().state).toBe('ok');
    expect(s.stats().restarts).toBe(1);
  });

  it('reconnects after a failure, keeping the camera\'s reason until frames flow again', async () => {
    const cam = handCamera();
    const s = make(cam);
    await s.start();
    await until(() => cam.connections() === 1, 1000, 'connected');
    cam.fail('Connection refused');
    await until(() => s.health().state === 'down', 1000, 'down');
    expect(s.health().detail).toBe('Connection refused');
    await until(() => cam.connections() === 2, 1000, 'retried');
    expect(s.health().state).toBe('down');
    cam.send(1);
    expect(s.health().state).toBe('ok');
  });

  it('cancels a grab at once for an aborted signal, and rejects waiting grabs on stop', async () => {
    const cam = handCamera();
    const s = make(cam);
    await s.start();
    const ac = new AbortController();
    ac.abort();
    await expect(s.grab({ signal: ac.signal, timeoutMs: 5000 })).rejects.toMatchObject({ code: 'LINESIDE_ERR_STOPPED' });
    const pending = s.grab({ timeoutMs: 5000 });
    await s.stop();
    await expect(pending).rejects.toMatchObject({ code: 'LINESIDE_ERR_STOPPED' });
  });
});
