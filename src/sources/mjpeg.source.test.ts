import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../observability/logger.js';
import { encodedImageSize } from './image-size.js';
import { mjpegSource, mjpegSourceSchema } from './mjpeg.source.js';
import type { StreamSource } from './stream-source.js';
import { until } from './testing/peers.js';

const JPEGS = [0, 1, 2, 3].map((i) => readFileSync(new URL(`../../fixtures/blister/blister-000${i}.jpg`, import.meta.url)));
const SIZE = encodedImageSize(JPEGS[0]!)!;
const PASSWORD = 'Mjpeg-s3cret!';

interface CameraOptions {
  /** What the stream URL answers: a multipart stream (default) or a login page. */
  serve?: 'mjpeg' | 'html';
  /** The camera ends each stream after this many frames. */
  closeAfter?: number;
}

/** An MJPEG camera on loopback with Digest auth (MD5, qop=auth, checked with its own hashing). */
async function mjpegCamera(o: CameraOptions = {}) {
  const seen = { requests: 0, streams: 0, open: 0, frames: 0 };
  const nonces = new Set<string>();
  const H = (s: string): string => createHash('md5').update(s).digest('hex');
  const authorized = (req: IncomingMessage): boolean => {
    const h = req.headers.authorization ?? '';
    const p: Record<string, string> = {};
    for (const m of h.replace(/^Digest /, '').matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]*))/g)) p[m[1]!] = m[2] ?? m[3] ?? '';
    if (!h.startsWith('Digest ') || !nonces.has(p.nonce ?? '')) return false;
    return p.response === H(`${H(`viewer:ipcam:${PASSWORD}`)}:${p.nonce}:${p.nc}:${p.cnonce}:auth:${H(`GET:${req.url}`)}`);
  };
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    seen.requests++;
    if (!authorized(req)) {
      const nonce = randomBytes(8).toString('hex');
      nonces.add(nonce);
      return void res.writeHead(401, { 'www-authenticate': `Digest realm="ipcam", qop="auth", nonce="${nonce}"` }).end();
    }
    if (o.serve === 'html') return void res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!DOCTYPE html><html><body><form>Login</form></body></html>');
    seen.streams++;
    seen.open++;
    res.writeHead(200, { 'content-type': 'multipart/x-mixed-replace; boundary="--lineside"', 'cache-control': 'no-cache' });
    let sent = 0;
    const timer = setInterval(() => {
      const jpeg = JPEGS[seen.frames++ % JPEGS.length]!;
      res.write(`--lineside\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\n\r\n`);
      res.write(jpeg);
      res.write('\r\n');
      if (++sent === o.closeAfter) res.end();
    }, 40);
    res.on('close', () => {
      clearInterval(timer);
      seen.open--;
    });
  };
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { server, seen, url: (pass = PASSWORD) => `http://viewer:${encodeURIComponent(pass)}@127.0.0.1:${port}/video.mjpg` };
}

describe('MJPEG source against an HTTP camera with Digest auth', () => {
  let server: Server | undefined;
  let source: StreamSource | undefined;
  afterEach(async () => {
    await source?.stop();
    server?.closeAllConnections();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    server = source = undefined;
  });

  async function open(o: CameraOptions, pass?: string) {
    const cam = await mjpegCamera(o);
    server = cam.server;
    const lines: string[] = [];
    const logger = createLogger('debug', { write: (s: string) => void lines.push(s) });
    const cfg = mjpegSourceSchema.parse({ type: 'mjpeg', url: cam.url(pass), stallAfterMs: 1000, connectTimeoutMs: 2000, reconnectMaxMs: 500 });
    source = mjpegSource(cfg, { history: 4, logger });
    await source.start();
    return { cam, src: source, lines };
  }

  it('delivers the camera’s JPEGs as frames, with their size, and a triggered grab gets a later frame', async () => {
    const { cam, src } = await open({});
    expect(src.kind).toBe('mjpeg');
    await until(() => src.stats().framesReceived >= 5, 5000, 'five frames');
    const frame = await src.grab({ timeoutMs: 1000 });
    expect(JPEGS.some((j) => j.equals(frame.data))).toBe(true);
    expect(src.stats()).toMatchObject({ width: SIZE.width, height: SIZE.height, restarts: 0 });
    expect(src.health().state).toBe('ok');
    const trigger = Date.now();
    const after = await src.grab({ after: trigger, timeoutMs: 1000 });
    expect(after.capturedAt).toBeGreaterThanOrEqual(trigger);
    expect(cam.seen.streams).toBe(1);
  });

  it('a wrong password: down with the 401 reason, and the password in no description, health, stats or log line', async () => {
    const wrong = 'Wr0ng-Pa55word';
    const { src, lines } = await open({}, wrong);
    const h = await until(() => (src.health().state === 'down' ? src.health() : null), 5000, 'health down');
    expect(h.detail).toBe('camera refused the credentials (HTTP 401)');
    expect(src.stats().framesReceived).toBe(0);
    expect(lines.some((l) => l.includes('camera refused the credentials (HTTP 401)'))).toBe(true);
    const everything = [src.description, JSON.stringify(src.health()), JSON.stringify(src.stats()), ...lines].join('\n');
    for (const form of [wrong, encodeURIComponent(wrong), PASSWORD]) expect(everything).not.toContain(form);
    expect(src.description).toContain('***');
  });

  it('an HTML page instead of a stream: down with a reason that says so', async () => {
    const { src } = await open({ serve: 'html' });
    const h = await until(() => (src.health().state === 'down' ? src.health() : null), 5000, 'health down');
    expect(h.detail).toMatch(/web page \(text\/html\), not an MJPEG stream/);
  });

  it('reconnects by itself when the camera closes the stream', async () => {
    const { cam, src } = await open({ closeAfter: 3 });
    await until(() => cam.seen.streams >= 3 && src.stats().framesReceived >= 8, 10_000, 'three streams');
    expect(src.stats().restarts).toBeGreaterThanOrEqual(2);
    await until(() => src.health().state === 'ok', 2000, 'health ok again');
  });

  it('stop() closes the connection to the camera', async () => {
    const { cam, src } = await open({});
    await until(() => src.stats().framesReceived >= 1, 5000, 'a frame');
    expect(cam.seen.open).toBe(1);
    await src.stop();
    await until(() => cam.seen.open === 0, 2000, 'the camera to see the stream closed');
  });
});

describe('mjpeg source config', () => {
  it('takes http(s) URLs and the stream options with their defaults', () => {
    expect(mjpegSourceSchema.parse({ type: 'mjpeg', url: 'http://cam/video.mjpg' })).toEqual({
      type: 'mjpeg',
      url: 'http://cam/video.mjpg',
      stallAfterMs: 3000,
      connectTimeoutMs: 10_000,
      reconnectMaxMs: 2000,
      latencyMs: 0,
    });
    expect(mjpegSourceSchema.safeParse({ type: 'mjpeg', url: 'rtsp://cam/live' }).success).toBe(false);
    expect(mjpegSourceSchema.safeParse({ type: 'mjpeg', url: 'http://cam/x', fps: 5 }).success).toBe(false);
  });
});
