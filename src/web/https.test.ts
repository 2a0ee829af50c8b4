import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { get } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { LinesideEvents } from '../domain/events.js';
import { TypedEmitter } from '../domain/typed-emitter.js';
import { demoConfig, startAppliance } from '../e2e/harness.js';
import { silentLogger } from '../observability/logger.js';
import { Metrics } from '../observability/metrics.js';
import { buildWebApp, type WebDeps } from './app.js';
import { ROLE_USERS, TEST_PASSWORD, webRecords } from './testing.js';

/** A self-signed certificate for 127.0.0.1, as a plant's IT would issue one for the box. */
function certificate(): { dir: string; cert: Buffer; key: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), 'lineside-tls-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=lineside test', '-addext', 'subjectAltName=IP:127.0.0.1',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  return { dir, cert: readFileSync(join(dir, 'cert.pem')), key: readFileSync(join(dir, 'key.pem')) };
}

function fetchTls(url: string, ca: Buffer): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, { ca }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    }).on('error', reject);
  });
}

describe('the page over HTTPS', () => {
  let app: ReturnType<typeof buildWebApp> | undefined;
  afterEach(async () => app?.close());

  it('serves the page with the configured certificate and sends HSTS', async () => {
    const { cert, key } = certificate();
    const kit = await webRecords(['viewer']);
    try {
      app = buildWebApp({ line: 'L3', version: '0', tls: { cert, key }, bus: new TypedEmitter<LinesideEvents>(), records: kit.records, metrics: new Metrics(), logger: silentLogger() } as unknown as WebDeps);
      await app.listen({ host: '127.0.0.1', port: 0 });
      const res = await fetchTls(`https://127.0.0.1:${(app.server.address() as AddressInfo).port}/`, cert);
      expect(res.status).toBe(200);
      expect(res.body).toContain('lineside · L3');
      expect(res.headers['strict-transport-security']).toBe('max-age=31536000');
      // Under HTTPS the session cookie is Secure as well as HttpOnly and SameSite=Strict.
      const login = await app.inject({ method: 'POST', url: '/api/login', payload: { username: ROLE_USERS.viewer, password: TEST_PASSWORD } });
      const set = String([login.headers['set-cookie']].flat()[0]);
      expect(set).toMatch(/HttpOnly/i);
      expect(set).toMatch(/SameSite=Strict/i);
      expect(set).toMatch(/Secure/);
    } finally {
      await app?.close();
      app = undefined;
      kit.close();
    }
  });

  it('refuses to start when the certificate file cannot be read, naming the key', async () => {
    const { dir } = certificate();
    const config = demoConfig((c) => {
      c.http = { host: '127.0.0.1', port: 0, tls: { certFile: join(dir, 'missing.pem'), keyFile: join(dir, 'key.pem') } };
    });
    await expect(startAppliance(config)).rejects.toThrow(/http\.tls\.certFile: cannot read .*missing\.pem/);
  });
});
