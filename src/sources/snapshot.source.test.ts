import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../domain/errors.js';
import { createLogger } from '../observability/logger.js';
import { freePort } from '../plc/free-port.js';
import { encodedImageSize } from './image-size.js';
import { SnapshotSource, snapshotSource, snapshotSourceSchema } from './snapshot.source.js';
import { watchCamera } from './testing/camera-watch.js';
import { until } from './testing/peers.js';

const JPEGS = [0, 1, 2].map((i) => readFileSync(new URL(`../../fixtures/blister/blister-000${i}.jpg`, import.meta.url)));
const SIZE = encodedImageSize(JPEGS[0]!)!;
const SECRET = 's3cret-Pa55';

interface CameraOptions {
  auth?: 'basic' | 'digest' | 'forbidden';
  delayMs?: number;
  /** What a successful GET answers instead of the next fixture. */
  reply?: { status?: number; type?: string; body?: Buffer | string };
}

/**
 * A still-image camera on loopback: Basic, or Digest (MD5, qop=auth, checked with its own
 * hashing), serving the blister fixtures in turn.
 */
async function camera(o: CameraOptions = {}) {
  const seen = { requests: 0, stills: 0, at: [] as number[] };
  const nonces = new Set<string>();
  const H = (s: string): string => createHash('md5').update(s).digest('hex');
  const authorized = (req: IncomingMessage): boolean => {
    const h = req.headers.authorization ?? '';
    if (o.auth === 'basic') return h === `Basic ${Buffer.from(`operator:${SECRET}`).toString('base64')}`;
    const p: Record<string, string> = {};
    for (const m of h.replace(/^Digest /, '').matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]*))/g)) p[m[1]!] = m[2] ?? m[3] ?? '';
    if (!h.startsWith('Digest ') || !nonces.has(p.nonce ?? '')) return false;
    const ha1 = H(`operator:cam:${SECRET}`);
    return p.response === H(`${ha1}:${p.nonce}:${p.nc}:${p.cnonce}:auth:${H(`GET:${req.url}`)}`);
  };
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    seen.requests++;
    if (o.auth === 'forbidden') return void res.writeHead(403).end('forbidden');
    if (o.auth && !authorized(req)) {
      const nonce = randomBytes(8).toString('hex');
      nonces.add(nonce);
      const challenge = o.auth === 'basic' ? 'Basic realm="cam"' : `Digest realm="cam", qop="auth", nonce="${nonce}"`;
      return void res.writeHead(401, { 'www-authenticate': challenge }).end();
    }
    seen.at.push(Date.now());
    const still = JPEGS[seen.stills++ % JPEGS.length]!;
    setTimeout(() => {
      const r = o.reply;
      if (r) res.writeHead(r.status ?? 200, r.type ? { 'content-type': r.type } : {}).end(r.body ?? '');
      else res.writeHead(200, { 'content-type': 'image/jpeg' }).end(still);
    }, o.delayMs ?? 0);
  };
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { server, seen, url: (pass = SECRET) => `http://operator:${pass}@${base}/snapshot.jpg` };
}

function logCapture() {
  const lines: string[] = [];
  return { lines, logger: createLogger('debug', { write: (s: string) => void lines.push(s) }) };
}

describe('SnapshotSource against an HTTP camera', () => {
  let server: Server | undefined;
  let source: SnapshotSource | undefined;
  afterEach(async () => {
    await source?.stop();
    server?.closeAllConnections();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    server = source = undefined;
  });

  async function open(o: CameraOptions, opts: { pass?: string; timeoutMs?: number } = {}) {
    const cam = await camera(o);
    server = cam.server;
    const log = logCapture();
    source = new SnapshotSource(cam.url(opts.pass), opts.timeoutMs ?? 2000, log.logger);
    await source.start();
    return { cam, src: source, log };
  }

  it('checks an idle camera by itself: down when it stops answering, ok when it is back', async () => {
    const cam = await camera({ auth: 'basic' });
    server = cam.server;
    source = new SnapshotSource(cam.url(), 500, logCapture().logger, 300);
    const watch = watchCamera(source);
    await source.start();
    // No grab at all: the check alone finds the camera answering.
    await until(() => source!.health().state === 'ok', 3000, 'camera checked ok');
    const port = (server.address() as AddressInfo).port;
    server.closeAllConnections();
    await new Promise<void>((r) => server!.close(() => r()));
    await until(() => source!.health().state === 'down', 3000, 'camera found down while idle');
    expect(source.health().detail).toMatch(/unreachable|refused/);
    await until(() => watch.cameraLost() && !watch.ready() && (watch.word() & 1) === 1, 5000, 'camera lost alarm, Ready cleared');
    server = createServer((_req, res) => void res.writeHead(200, { 'content-type': 'image/jpeg' }).end(JPEGS[0]));
    await new Promise<void>((r) => server!.listen(port, '127.0.0.1', r));
    await until(() => source!.health().state === 'ok', 3000, 'camera back');
    await until(() => !watch.cameraLost() && watch.ready(), 2000, 'alarm cleared, Ready again');
    watch.stop();
  });

  it('Basic: a still per grab with the URL credentials, sizes counted, never showing the password', async () => {
    const { cam, src, log } = await open({ auth: 'basic' });
    expect(src.kind).toBe('snapshot');
    expect(src.health()).toMatchObject({ state: 'starting' });
    const frame = await src.grab();
    expect(frame.data.equals(JPEGS[0]!)).toBe(true);
    expect(frame.origin).toBe('/snapshot.jpg');
    expect(src.health().state).toBe('ok');
    expect((await src.grab()).data.equals(JPEGS[1]!)).toBe(true);
    expect(cam.seen.requests).toBe(3); // the first still answers the challenge; the next costs one request
    expect(src.stats()).toMatchObject({ framesReceived: 2, width: SIZE.width, height: SIZE.height, restarts: 0 });
    expect(src.description).toBe(`snapshot ${cam.url('***').replace('operator', '***')}`);
    expect([src.description, ...log.lines].join('\n')).not.toContain(SECRET);
  });

  it('Digest: each still after the first costs one request (the nonce is reused)', async () => {
    const { cam, src } = await open({ auth: 'digest' });
    const frames = [await src.grab(), await src.grab(), await src.grab()];
    expect(frames.map((f) => f.seq)).toEqual([1, 2, 3]);
    expect(frames.every((f, i) => f.data.equals(JPEGS[i]!))).toBe(true);
    expect(cam.seen.requests).toBe(4);
    expect(src.health().state).toBe('ok');
  });

  it('refused credentials: a clear reason, health down, and the password nowhere', async () => {
    const { src, log } = await open({ auth: 'digest' }, { pass: 'wr0ng-Pa55' });
    const err = (await src.grab().catch((e: unknown) => e)) as Error;
    expect(err).toMatchObject({ code: ErrorCode.sourceUnavailable, message: expect.stringContaining('camera refused the credentials (HTTP 401)') });
    expect(src.health()).toMatchObject({ state: 'down', detail: 'camera refused the credentials (HTTP 401)' });
    expect([err.message, src.description, JSON.stringify(src.health()), JSON.stringify(src.stats()), ...log.lines].join('\n')).not.toContain('wr0ng');
    expect(log.lines.some((l) => l.includes('camera refused the credentials'))).toBe(true);
  });

  it('a camera answering 403 is also refused credentials', async () => {
    const { src } = await open({ auth: 'forbidden' });
    await expect(src.grab()).rejects.toMatchObject({ message: expect.stringContaining('camera refused the credentials (HTTP 403)') });
  });

  it('gives up on a camera that does not answer in time, well before it would', async () => {
    const { src } = await open({ auth: 'basic', delayMs: 1500 }, { timeoutMs: 100 });
    const t0 = Date.now();
    await expect(src.grab()).rejects.toMatchObject({ code: ErrorCode.sourceUnavailable, message: expect.stringContaining('no answer within 100 ms') });
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(src.health()).toMatchObject({ state: 'down', detail: 'no answer within 100 ms' });
  });

  it('the caller’s shorter timeout wins', async () => {
    const { src } = await open({ delayMs: 1500 });
    await expect(src.grab({ timeoutMs: 80 })).rejects.toMatchObject({ message: expect.stringContaining('no answer within 80 ms') });
  });

  it('an unreachable camera is reported as such, with the cause', async () => {
    const port = await freePort();
    source = new SnapshotSource(`http://operator:${SECRET}@127.0.0.1:${port}/snapshot.jpg`, 2000);
    await source.start();
    const err = (await source.grab().catch((e: unknown) => e)) as Error;
    expect(err.message).toContain('camera unreachable: connection refused');
    expect(err.cause).toMatchObject({ code: 'ECONNREFUSED' });
    expect(source.health()).toMatchObject({ state: 'down', detail: 'camera unreachable: connection refused' });
  });

  it('an HTTP error, an empty body and a web page are each named', async () => {
    const cases: [CameraOptions['reply'], string][] = [
      [{ status: 500 }, 'camera answered HTTP 500 Internal Server Error'],
      [{ type: 'image/jpeg', body: '' }, 'camera sent an empty image'],
      [{ type: 'text/html', body: '<html><body>Please log in</body></html>' }, 'camera sent text/html, not an image'],
    ];
    for (const [reply, reason] of cases) {
      const { src } = await open({ reply });
      await expect(src.grab()).rejects.toMatchObject({ message: expect.stringContaining(reason) });
      expect(src.health()).toMatchObject({ state: 'down', detail: expect.stringContaining(reason) });
      await src.stop();
      await new Promise<void>((r) => server!.close(() => r()));
      server = undefined;
    }
  });

  it('a JPEG served with a wrong content type is still taken (the bytes say image)', async () => {
    const { src } = await open({ reply: { type: 'application/octet-stream', body: JPEGS[2] } });
    expect((await src.grab()).data.equals(JPEGS[2]!)).toBe(true);
  });

  it('recovers: down after a failure, ok again at the next good still', async () => {
    const slow: CameraOptions = { auth: 'basic', delayMs: 300 };
    const { src } = await open(slow, { timeoutMs: 100 });
    await expect(src.grab({ timeoutMs: 5000 })).rejects.toThrow(/no answer within 100 ms/); // the configured bound holds
    expect(src.health().state).toBe('down');
    slow.delayMs = 0;
    await src.grab();
    expect(src.health().state).toBe('ok');
    expect(src.stats().framesReceived).toBe(1);
  });

  it('a triggered grab returns a still requested after the trigger, even one slightly in the future', async () => {
    const { cam, src } = await open({ auth: 'digest' });
    const trigger = Date.now();
    const f = await src.grab({ after: trigger });
    expect(f.capturedAt).toBeGreaterThanOrEqual(trigger);
    const ahead = Date.now() + 150;
    const g = await src.grab({ after: ahead });
    expect(g.capturedAt).toBeGreaterThanOrEqual(ahead);
    expect(cam.seen.at.at(-1)).toBeGreaterThanOrEqual(ahead);
  });

  it('a grab is cancelled by its signal and by stop(), promptly', async () => {
    const { src } = await open({ delayMs: 5000 }, { timeoutMs: 10_000 });
    const ac = new AbortController();
    const t0 = Date.now();
    const cancelled = src.grab({ signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    await expect(cancelled).rejects.toMatchObject({ code: ErrorCode.stopped });
    const stopped = src.grab();
    setTimeout(() => void src.stop(), 50);
    await expect(stopped).rejects.toMatchObject({ code: ErrorCode.stopped });
    expect(Date.now() - t0).toBeLessThan(1000);
    await expect(src.grab()).rejects.toMatchObject({ message: expect.stringContaining('not started') });
  });
});

describe('snapshot source config', () => {
  it('has the documented defaults and bounds', () => {
    expect(snapshotSourceSchema.parse({ type: 'snapshot', url: 'http://cam/snap.jpg' })).toEqual({ type: 'snapshot', url: 'http://cam/snap.jpg', timeoutMs: 2000, fps: 2, checkEveryMs: 5000 });
    expect(snapshotSourceSchema.safeParse({ type: 'snapshot', url: 'rtsp://cam/live' }).success).toBe(false);
    expect(snapshotSourceSchema.safeParse({ type: 'snapshot', url: 'http://cam/x', timeoutMs: 10 }).success).toBe(false);
    expect(snapshotSourceSchema.safeParse({ type: 'snapshot', url: 'http://cam/x', fps: 60 }).success).toBe(false);
    expect(snapshotSourceSchema.safeParse({ type: 'snapshot', url: 'http://cam/x', extra: 1 }).success).toBe(false);
  });

  it('the factory builds a snapshot source that hides the credentials', () => {
    const cfg = snapshotSourceSchema.parse({ type: 'snapshot', url: `https://operator:${SECRET}@cam.local/snap.jpg` });
    const src = snapshotSource(cfg, { history: 1, logger: logCapture().logger });
    expect(src.kind).toBe('snapshot');
    expect(src.description).toBe('snapshot https://***:***@cam.local/snap.jpg');
  });
});
