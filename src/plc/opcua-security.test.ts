import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../observability/logger.js';
import { OpcUaPlcLink } from './opcua.link.js';
import type { PlcSecurity } from './opcua-security.js';
import { Answerer, waitFor } from './opcua.test-support.js';
import { listPki, trustCertificate } from './pki.js';
import type { SimPlc } from './sim/sim-plc.js';
import { simPartId, startSimPlc } from './sim/sim-plc.js';
import type { StationTagMap } from './tags.js';
import { resolveTagMap } from './tags.js';

const report = createLogger('info').child({ test: 'plc-security' });
const policies = ['Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss'] as const;
const USER = { userName: 'operator', password: 'correct horse' };
// Key pairs and certificates are made on first use; on a loaded 2-core box that can take seconds.
const SETTLE_MS = 25_000;

/**
 * One simulated PLC offering every secure mode and policy, which (like a real PLC) trusts no client
 * certificate by itself and wants a user name. The tests run in order: the first one commissions
 * the trust both ways, as an engineer would.
 */
describe('OpcUaPlcLink security (Sign / SignAndEncrypt, certificates, users)', () => {
  let dir: string;
  let clientPki: string;
  let sim: SimPlc;
  let link: OpcUaPlcLink | undefined;

  const linkWith = (security: Partial<PlcSecurity>, tags: Partial<StationTagMap> = {}): OpcUaPlcLink =>
    new OpcUaPlcLink({
      endpoint: sim.endpoint,
      publishingIntervalMs: 20,
      heartbeatMs: 200,
      heartbeatTimeoutMs: 3000,
      stations: [{ id: 'blister', tags: resolveTagMap('blister', { tags }), counter: 'TriggerCount' }],
      logger: createLogger('silent'),
      security: { mode: 'Sign', policy: 'Basic256Sha256', pkiDir: clientPki, user: USER, ...security },
    });

  /** Starts a link and waits until it is ok or down; returns how long that took. */
  const settle = async (l: OpcUaPlcLink): Promise<number> => {
    const t0 = Date.now();
    await l.start();
    await waitFor('link ok or down', () => l.health().state !== 'starting', SETTLE_MS);
    return Date.now() - t0;
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'lineside-plc-security-'));
    clientPki = path.join(dir, 'client-pki');
    sim = await startSimPlc({
      port: 0,
      windowMs: 3000,
      stations: [{ id: 'blister', kind: 'part', partsPerMinute: 0 }],
      security: { modes: ['Sign', 'SignAndEncrypt'], policies: [...policies], pkiDir: path.join(dir, 'plc-pki'), trustClients: false, users: [USER] },
    });
  }, 60_000);

  afterEach(async () => {
    await link?.stop();
    link = undefined;
  });

  afterAll(async () => {
    await sim?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses an untrusted PLC certificate naming it, and connects once `pki trust` trusted it', async () => {
    link = linkWith({});
    await settle(link);
    const plcCert = (await listPki(path.join(dir, 'plc-pki'))).find((e) => e.state === 'own');
    expect(plcCert).toBeDefined();
    const health = link.health();
    expect(health.state).toBe('down');
    expect(health.detail).toContain(`PLC certificate at ${sim.endpoint} is not trusted`);
    expect(health.detail).toContain(`thumbprint ${plcCert!.thumbprint}`);
    expect(health.detail).toContain(`lineside pki trust ${plcCert!.thumbprint}`);
    const rejected = (await listPki(clientPki)).filter((e) => e.state === 'rejected');
    expect(rejected.map((e) => e.thumbprint)).toEqual([plcCert!.thumbprint]);
    await link.stop();

    const trusted = await trustCertificate(clientPki, plcCert!.thumbprint);
    expect(trusted).toMatchObject({ state: 'trusted', thumbprint: plcCert!.thumbprint, subject: plcCert!.subject });
    expect((await listPki(clientPki)).filter((e) => e.state === 'rejected')).toEqual([]);
    // The PLC side of commissioning: its operator trusts the appliance's certificate.
    await sim.trustClientCertificate(readFileSync(path.join(clientPki, 'own/certs/client_certificate.pem')));

    link = linkWith({});
    await settle(link);
    expect(link.health()).toMatchObject({ state: 'ok' });
  });

  it('connects and answers a trigger in every secure mode and policy', async () => {
    const connectMs: Record<string, number> = {};
    for (const mode of ['Sign', 'SignAndEncrypt'] as const) {
      for (const policy of policies) {
        link = linkWith({ mode, policy });
        const answers = new Answerer(link, 'blister', true);
        connectMs[`${mode}/${policy}`] = await settle(link);
        expect(link.health(), `${mode}/${policy}`).toMatchObject({ state: 'ok' });
        const before = sim.counters('blister').ResultsReceived;
        sim.setPartsPerMinute('blister', 600);
        await waitFor(`${mode}/${policy}: an answered trigger`, () => sim.counters('blister').ResultsReceived > before, SETTLE_MS);
        sim.setPartsPerMinute('blister', 0);
        expect(answers.errors).toEqual([]);
        expect(answers.triggers.every((t) => t.partId === simPartId('blister', t.count))).toBe(true);
        await link.stop();
        link = undefined;
      }
    }
    expect(sim.counters('blister').Mismatched).toBe(0);
    report.info({ connectMs }, 'secure link: start to ok');
  }, 120_000);

  it('reports a wrong password by health, naming the user but not the password', async () => {
    link = linkWith({ user: { userName: 'operator', password: 'wrong-secret' } });
    await settle(link);
    const h = link.health();
    expect(h).toMatchObject({ state: 'down', detail: 'PLC refused user "operator": wrong user name or password (BadUserAccessDenied)' });
    expect(JSON.stringify(h)).not.toContain('wrong-secret');
  });

  it('reads the password from a secrets file', async () => {
    const file = path.join(dir, 'plc-password');
    writeFileSync(file, `${USER.password}\n`, { mode: 0o600 });
    link = linkWith({ mode: 'SignAndEncrypt', policy: 'Aes256_Sha256_RsaPss', user: { userName: USER.userName, passwordFile: file } });
    await settle(link);
    expect(link.health()).toMatchObject({ state: 'ok' });
  });

  it('two links starting together on a fresh PKI folder both connect and share one certificate', async () => {
    const fresh = path.join(dir, 'fresh-pki');
    link = linkWith({ mode: 'None', pkiDir: fresh });
    const second = linkWith({ mode: 'None', pkiDir: fresh });
    try {
      await Promise.all([settle(link), settle(second)]);
      expect([link.health().state, second.health().state]).toEqual(['ok', 'ok']);
      expect((await listPki(fresh)).filter((e) => e.state === 'own')).toHaveLength(1);
    } finally {
      await second.stop();
    }
  });

  it('still names a tag of the wrong data type over an encrypted link', async () => {
    link = linkWith({ mode: 'SignAndEncrypt', policy: 'Aes128_Sha256_RsaOaep' }, { Result: 'ns=1;s=blister.Score' });
    await settle(link);
    expect(link.health().state).toBe('down');
    expect(link.health().detail).toContain('station blister: tag Result (ns=1;s=blister.Score) is Float, expected Int16');
  });
});
