import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../domain/errors.js';
import { SnapshotSource } from './snapshot.source.js';

const JPEG = readFileSync(new URL('../../fixtures/blister/blister-0000.jpg', import.meta.url));

/** A stand-in for a still-image camera on loopback, with Basic auth, like many IP cameras. */
function camera(opts: { delayMs?: number } = {}): Promise<{ base: string; server: Server }> {
  const server = createServer((req, res) => {
    if (req.headers.authorization !== `Basic ${Buffer.from('operator:s3cret').toString('base64')}`) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="cam"' }).end();
      return;
    }
    setTimeout(() => res.writeHead(200, { 'content-type': 'image/jpeg' }).end(JPEG), opts.delayMs ?? 0);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ base: `127.0.0.1:${(server.address() as AddressInfo).port}`, server })));
}

describe('SnapshotSource against an HTTP camera', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

  it('fetches one still per grab with the URL credentials, and never shows them', async () => {
    const cam = await camera();
    server = cam.server;
    const src = new SnapshotSource(`http://operator:s3cret@${cam.base}/snapshot.jpg`, 2000);
    await src.start();
    expect(src.description).not.toContain('s3cret');
    const frame = await src.grab();
    expect(frame.data.equals(JPEG)).toBe(true);
    expect(frame.origin).toBe('/snapshot.jpg');
    expect(src.health().state).toBe('ok');
  });

  it('reports refused credentials clearly and goes down', async () => {
    const cam = await camera();
    server = cam.server;
    const src = new SnapshotSource(`http://operator:wrong@${cam.base}/snapshot.jpg`, 2000);
    const err = await src.grab().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCode.sourceUnavailable, message: expect.stringContaining('refused the credentials (HTTP 401)') });
    expect((err as Error).message).not.toContain('wrong');
    expect(src.health()).toMatchObject({ state: 'down' });
  });

  it('gives up on a camera that does not answer in time', async () => {
    const cam = await camera({ delayMs: 1000 });
    server = cam.server;
    const src = new SnapshotSource(`http://operator:s3cret@${cam.base}/snapshot.jpg`, 100);
    await expect(src.grab()).rejects.toMatchObject({ message: expect.stringContaining('no answer within 100 ms') });
  });
});
