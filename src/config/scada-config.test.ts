import { describe, expect, it } from 'vitest';
import { parseConfig } from './load.js';
import { configError } from './testing.js';

const base = (scada?: unknown) => ({
  plc: { endpoint: 'opc.tcp://127.0.0.1:4840', simulate: {} },
  models: { det: { path: 'models/det.onnx' } },
  stations: [{ id: 'blister', kind: 'part', source: { type: 'replay', path: 'fixtures/blister' }, model: 'det' }],
  ...(scada === undefined ? {} : { scada }),
});

describe('config: scada (OPC UA server for SCADA/MES)', () => {
  it('is off by default, secure only, no anonymous, its PKI folder under the data directory', () => {
    const { scada } = parseConfig(base(), '/etc/lineside');
    expect(scada).toEqual({
      enabled: false,
      host: '127.0.0.1',
      port: 4841,
      securityModes: ['Sign', 'SignAndEncrypt'],
      securityPolicies: ['Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss'],
      allowAnonymous: false,
      pkiDir: '/etc/lineside/data/scada-pki',
    });
  });

  it('names the key of a bad value', () => {
    expect(configError(base({ enabled: true, securityModes: ['Encrypt'] }))).toMatch(/^line\.yaml: scada\.securityModes\[0\]: /);
    expect(configError(base({ enabled: true, securityModes: [] }))).toMatch(/^line\.yaml: scada\.securityModes: /);
    expect(configError(base({ enabled: true, port: 70000 }))).toMatch(/^line\.yaml: scada\.port: /);
    expect(configError(base({ enabled: true, anonymous: true }))).toBe('line.yaml: scada: unknown key "anonymous"');
  });

  it('refuses a port the appliance already listens on', () => {
    expect(configError(base({ enabled: true, port: 8080 }))).toMatch(/^line\.yaml: scada\.port: 8080 is also http\.port/);
    expect(configError(base({ enabled: true, port: 4840 }))).toMatch(/^line\.yaml: scada\.port: 4840 is the simulated PLC's port/);
  });
});
