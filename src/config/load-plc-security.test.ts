import { describe, expect, it } from 'vitest';
import { parseConfig } from './load.js';
import { configError } from './testing.js';

const base = (security?: unknown) => ({
  dataDir: 'var',
  plc: { endpoint: 'opc.tcp://10.0.0.5:4840', ...(security === undefined ? {} : { security }) },
  models: { det: { path: 'models/det.onnx' } },
  stations: [{ id: 'blister', kind: 'part', source: { type: 'replay', path: 'fixtures/blister' }, model: 'det' }],
});


describe('config: plc.security', () => {
  it('defaults to None, anonymous, with the PKI folder under the data dir', () => {
    const cfg = parseConfig(base(), '/etc/lineside');
    expect(cfg.plc.security).toEqual({ mode: 'None', policy: 'Basic256Sha256', pkiDir: '/etc/lineside/var/pki', user: undefined });
  });

  it('resolves the PKI folder and the password file against the config file', () => {
    const cfg = parseConfig(base({ mode: 'SignAndEncrypt', policy: 'Aes256_Sha256_RsaPss', pkiDir: 'pki', user: { userName: 'vision', passwordFile: 'secrets/plc' } }), '/etc/lineside');
    expect(cfg.plc.security).toEqual({
      mode: 'SignAndEncrypt',
      policy: 'Aes256_Sha256_RsaPss',
      pkiDir: '/etc/lineside/pki',
      user: { userName: 'vision', passwordFile: '/etc/lineside/secrets/plc', password: undefined },
    });
  });

  it('names the key of a bad mode, policy, unknown key or password source', () => {
    expect(configError(base({ mode: 'Encrypt' }))).toMatch(/^line\.yaml: plc\.security\.mode: /);
    expect(configError(base({ policy: 'Basic128Rsa15' }))).toMatch(/^line\.yaml: plc\.security\.policy: /);
    expect(configError(base({ certificate: 'x' }))).toBe('line.yaml: plc.security: unknown key "certificate"');
    expect(configError(base({ user: { userName: 'vision' } }))).toBe('line.yaml: plc.security.user: give exactly one of password or passwordFile');
    const both = configError(base({ user: { userName: 'vision', password: 'hunter2', passwordFile: 'f' } }));
    expect(both).toBe('line.yaml: plc.security.user: give exactly one of password or passwordFile');
    expect(both).not.toContain('hunter2');
  });
});
