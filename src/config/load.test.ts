import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfigFile, parseConfig } from './load.js';
import { configError } from './testing.js';

const base = () => ({
  plc: { endpoint: 'opc.tcp://127.0.0.1:4840' },
  models: { det: { path: 'models/det.onnx' } },
  stations: [
    { id: 'blister', kind: 'part', source: { type: 'replay', path: 'fixtures/blister' }, model: 'det' },
    { id: 'gowning', kind: 'zone', source: { type: 'replay', path: 'fixtures/gowning' }, model: 'det' },
  ],
});


describe('config', () => {
  it('fills defaults, resolves paths against the config file and freezes the result', () => {
    const cfg = parseConfig(base(), '/etc/lineside');
    const part = cfg.stations[0]!;
    expect(part.kind === 'part' && part.maxFrameAgeMs).toBe(2000);
    expect(part.queueDepth).toBe(4);
    expect(cfg.models.det!.path).toBe('/etc/lineside/models/det.onnx');
    expect(part.source.type === 'replay' && part.source.path).toBe('/etc/lineside/fixtures/blister');
    expect(cfg.http.port).toBe(8080);
    expect(Object.isFrozen(cfg.stations[0])).toBe(true);
  });

  it('names the station and the key of a value out of bounds', () => {
    const raw = base();
    (raw.stations[1] as Record<string, unknown>).raiseAfterMs = -5;
    expect(configError(raw)).toMatch(/^line\.yaml: station "gowning": raiseAfterMs: /);
  });

  it('names the station and the unknown key', () => {
    const raw = base();
    (raw.stations[0] as Record<string, unknown>).maxFrameAge = 100;
    expect(configError(raw)).toContain('station "blister": (top level): unknown key "maxFrameAge"');
  });

  it('names a nested key inside a station', () => {
    const raw = base();
    (raw.stations[0] as Record<string, unknown>).rules = { classes: { empty_pocket: { reject: 1.5 } } };
    expect(configError(raw)).toContain('station "blister": rules.classes.empty_pocket.reject');
  });

  it('rejects a station that refers to an undefined model', () => {
    const raw = base();
    raw.stations[0]!.model = 'nope';
    expect(configError(raw)).toContain('station "blister": model: "nope" is not defined under models (defined: det)');
  });

  it('alongside: the model beside the station\'s own is loaded with it; an unknown id names the station and the key', async () => {
    const { stationModelKeys } = await import('./recipes.js');
    const ok = base();
    (ok.models as Record<string, unknown>).anomaly = { path: 'models/blister-anomaly.onnx' };
    (ok.stations[0] as Record<string, unknown>).alongside = { model: 'anomaly', explainedBy: ['empty_pocket'] };
    const cfg = parseConfig(ok, '/etc/lineside');
    expect(cfg.stations[0]).toMatchObject({ alongside: { model: 'anomaly', label: 'anomaly', explainedBy: ['empty_pocket'] } });
    expect(stationModelKeys(cfg.stations[0]!)).toEqual(['det', 'anomaly']);
    const bad = base();
    (bad.stations[0] as Record<string, unknown>).alongside = { model: 'gone' };
    expect(configError(bad)).toContain('station "blister": alongside.model: "gone" is not defined under models (defined: det)');
  });

  it('privacy.faceModel: a face model defined under models is loaded for the station; an unknown id names the station and the key', async () => {
    const { stationModelKeys } = await import('./recipes.js');
    const ok = base();
    (ok.models as Record<string, unknown>).faces = { path: 'faces/blazeface.json', manifest: 'pretrained/blazeface.manifest.yaml' };
    (ok.stations[1] as Record<string, unknown>).privacy = { faceModel: 'faces' };
    const cfg = parseConfig(ok, '/etc/lineside');
    const zone = cfg.stations[1]!;
    expect(zone.kind === 'zone' && zone.privacy).toMatchObject({ blurFaces: true, faceModel: 'faces', faceMargin: 0.25 });
    expect(stationModelKeys(zone)).toEqual(['det', 'faces']);
    expect(cfg.models.faces!.manifest).toBe('/etc/lineside/pretrained/blazeface.manifest.yaml');

    const bad = base();
    (bad.stations[1] as Record<string, unknown>).privacy = { faceModel: 'blazeface' };
    expect(configError(bad)).toContain('station "gowning": privacy.faceModel: "blazeface" is not defined under models (defined: det)');
    const margin = base();
    (margin.stations[1] as Record<string, unknown>).privacy = { faceModel: 'det', faceMargin: 2 };
    expect(configError(margin)).toMatch(/station "gowning": privacy\.faceMargin: /);
  });

  it('rejects duplicate station ids and an unknown source type', () => {
    const dup = base();
    dup.stations[1]!.id = 'blister';
    expect(configError(dup)).toContain('station "blister": id: duplicate station id');
    const src = base();
    (src.stations[0]!.source as Record<string, unknown>).type = 'ftp';
    expect(configError(src)).toMatch(/station "blister": source\.type: /);
  });

  it('rejects an inconclusive threshold above the reject threshold', () => {
    const raw = base();
    (raw.stations[0] as Record<string, unknown>).rules = { classes: { empty_pocket: { reject: 0.5, inconclusive: 0.7 } } };
    expect(configError(raw)).toContain('rules.classes.empty_pocket.inconclusive: 0.7 must not exceed reject (0.5)');
  });

  it('reports broken YAML with its line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lineside-cfg-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'plc:\n  endpoint: [unclosed\n');
    expect(() => loadConfigFile(file)).toThrow(/bad\.yaml: not valid YAML at line \d/);
  });

  it('accepts the shipped demo config', () => {
    const cfg = loadConfigFile(fileURLToPath(new URL('../../config/demo.yaml', import.meta.url)));
    expect(cfg.stations.map((s) => s.kind)).toEqual(['part', 'zone', 'cleaning']);
  });
});
