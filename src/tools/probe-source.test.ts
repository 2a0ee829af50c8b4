import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { formatProbe, probeSource, sourceFromAddress } from './probe-source.js';
import { runCli } from './testing/run-cli.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const JPEG = readFileSync(join(ROOT, 'fixtures/blister/blister-0003.jpg'));
const out = (): string => join(mkdtempSync(join(tmpdir(), 'lineside-probe-')), 'sample.jpg');

/** A still-image camera with Basic auth, as many IP cameras are. */
function camera(): Promise<{ server: Server; url: (pass: string) => string }> {
  const server = createServer((req, res) => {
    if (req.headers.authorization !== `Basic ${Buffer.from('installer:Sn4p!').toString('base64')}`) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="cam"' }).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'image/jpeg' }).end(JPEG);
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r({ server, url: (pass) => `http://installer:${encodeURIComponent(pass)}@127.0.0.1:${(server.address() as AddressInfo).port}/snap.jpg` })));
}

const cli = (...args: string[]) => runCli('probe-source', ...args);

describe('lineside probe-source', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

  it('reports resolution, rate and decode time of a still camera found by URL, and saves a sample frame', async () => {
    const cam = await camera();
    server = cam.server;
    const cfg = await sourceFromAddress(cam.url('Sn4p!'));
    expect(cfg.type).toBe('snapshot');
    const file = out();
    const r = await probeSource(cfg, { seconds: 0.5, out: file });
    expect(r).toMatchObject({ kind: 'snapshot', width: 640, height: 400, format: 'jpeg', fps: null });
    expect(r.frames).toBeGreaterThan(0);
    expect(r.decodeMs).toBeGreaterThan(0);
    expect((await sharp(file).metadata()).width).toBe(640);
    const text = formatProbe(r);
    expect(text).toContain('640×400');
    expect(text).not.toContain('Sn4p');
  });

  it('exits 1 with the reason when the credentials are refused, without showing them', async () => {
    const cam = await camera();
    server = cam.server;
    const r = await cli(cam.url('wr0ng-pass'), '--seconds', '0', '--out', out());
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/probe failed: .*refused the credentials \(HTTP 401\)/);
    expect(r.stdout + r.stderr).not.toContain('wr0ng-pass');
  });

  it('exits 1 with the reason when nothing answers', async () => {
    const cam = await camera();
    const url = cam.url('Sn4p!');
    await new Promise<void>((r) => cam.server.close(() => r()));
    const file = out();
    const r = await cli(url, '--type', 'snapshot', '--seconds', '0', '--out', file);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/probe failed: .*(unreachable|refused)/);
    expect(existsSync(file)).toBe(false);
  });

  it('probes a station of a config file: the demo folder replay', async () => {
    const file = out();
    const r = await cli('--config', join(ROOT, 'config/demo.yaml'), '--station', 'blister', '--seconds', '0.3', '--out', file);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/resolution: +640×400 \(jpeg\)/);
    expect(existsSync(file)).toBe(true);
    const bad = await cli('--config', join(ROOT, 'config/demo.yaml'), '--station', 'nope');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('blister, gowning, hopper');
  });
});
