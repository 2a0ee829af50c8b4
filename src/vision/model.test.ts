import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../domain/errors.js';
import { Model } from './model.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const cfg = { path: `${ROOT}models/blister-detector.onnx`, workers: 1, threads: 1 };

describe('Model (ONNX in worker threads)', () => {
  let model: Model | undefined;
  afterEach(async () => {
    await model?.close();
    model = undefined;
  });

  it('loads, checks and runs the demo detector in its worker, several parts in flight', async () => {
    model = await Model.load('blister', cfg);
    expect(model.versionTag).toMatch(/^blister-detector@1\.0\.0\+[0-9a-f]{12}$/);
    const image = await readFile(`${ROOT}fixtures/blister/blister-0000.jpg`);
    // Several in flight at once (the station overlaps parts): each gets its own, identical answer.
    const results = await Promise.all(Array.from({ length: 6 }, () => model!.infer(image)));
    const first = results[0]!.output;
    expect(first.kind === 'detections' && first.detections.filter((d) => d.label === 'tablet' && d.score >= 0.5)).toHaveLength(10);
    for (const r of results) expect(r.output).toEqual(first);
    expect(results[0]!.inferMs).toBeGreaterThan(0);
  });

  it('refuses a model whose file does not match its manifest hash, naming the file', async () => {
    const bad = { ...cfg, path: `${ROOT}models/ppe-detector.onnx`, manifest: `${ROOT}models/blister-detector.json` };
    await expect(Model.load('x', bad)).rejects.toMatchObject({ code: ErrorCode.modelLoad, message: expect.stringContaining('ppe-detector.onnx has sha256') });
  });

  it('refuses a missing model file with a clear error', async () => {
    await expect(Model.load('x', { ...cfg, path: `${ROOT}models/nope.onnx` })).rejects.toThrow(/model file .*nope\.onnx does not exist/);
  });

  it('answers a corrupt image with a decode error, and stays healthy', async () => {
    model = await Model.load('blister', cfg);
    await expect(model.infer(Buffer.from('garbage'))).rejects.toMatchObject({ code: ErrorCode.imageDecode });
    expect(model.health.value.state).toBe('ok');
  });
});

describe('Model canary (manifest canary, checked at load)', () => {
  /** A copy of a demo manifest in a folder of its own, its canary replaced (the image path relative to that folder). */
  function manifestWith(name: string, canary: unknown): string {
    const dir = mkdtempSync(join(tmpdir(), 'lineside-canary-'));
    const m = JSON.parse(readFileSync(`${ROOT}models/${name}.json`, 'utf8')) as Record<string, unknown>;
    m.canary = canary;
    writeFileSync(join(dir, `${name}.json`), JSON.stringify(m));
    return join(dir, `${name}.json`);
  }
  const fromManifestDir = (manifest: string, fixture: string) => relative(join(manifest, '..'), `${ROOT}fixtures/${fixture}`);

  it('loads every demo model: each passes the canary its manifest names', async () => {
    for (const name of ['blister-detector', 'ppe-detector', 'cleaning-classifier']) {
      const m = await Model.load(name, { path: `${ROOT}models/${name}.onnx`, workers: 1, threads: 1 });
      expect(m.manifest.canary?.image, name).toMatch(/^\.\.\/fixtures\//);
      await m.close();
    }
  });

  it('refuses a detector whose canary answer is wrong, naming the model, the image, expected and found', async () => {
    const manifest = manifestWith('blister-detector', {
      image: '', // set below, relative to the manifest's own folder
      expect: [{ label: 'empty_pocket', min: 2, minScore: 0.5 }, { label: 'broken_tablet', min: 1, max: 1 }, { label: 'tablet', max: 5 }],
    });
    const m = JSON.parse(readFileSync(manifest, 'utf8')) as { canary: { image: string } };
    m.canary.image = fromManifestDir(manifest, 'blister/blister-0003.jpg');
    writeFileSync(manifest, JSON.stringify(m));
    const err = await Model.load('x', { ...cfg, manifest }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCode.modelLoad });
    const prefix = `model ${cfg.path} failed its canary fixtures/blister/blister-0003.jpg: `;
    const message = (err as Error).message;
    expect(message.slice(0, prefix.length)).toBe(prefix);
    // The empty pocket's runner-up and the tablets' scores come from the model: two decimals, no more.
    expect(message.slice(prefix.length)).toMatch(/^expected ≥2 empty_pocket ≥ 0\.50, found 1 \(next best 0\.[01]\d\); expected ≤5 tablet ≥ 0\.50, found 8 \((?:(?:1\.00|0\.9\d), ){5}…\)$/);
  });

  it('refuses a classifier whose canary is not its top class', async () => {
    const manifest = manifestWith('cleaning-classifier', { image: '', expect: { label: 'clean', minScore: 0.6 } });
    const m = JSON.parse(readFileSync(manifest, 'utf8')) as { canary: { image: string } };
    m.canary.image = fromManifestDir(manifest, 'hopper/hopper-0000.jpg');
    writeFileSync(manifest, JSON.stringify(m));
    await expect(Model.load('x', { path: `${ROOT}models/cleaning-classifier.onnx`, manifest, workers: 1, threads: 1 })).rejects.toThrow(
      /cleaning-classifier\.onnx failed its canary fixtures\/hopper\/hopper-0000\.jpg: expected top class clean ≥ 0\.60, found clean 0\.00, top residue 1\.00$/,
    );
  });

  it('refuses a missing or undecodable canary image with a clear load error', async () => {
    const missing = manifestWith('blister-detector', { image: 'canary/missing.jpg', expect: [{ label: 'tablet', min: 8 }] });
    await expect(Model.load('x', { ...cfg, manifest: missing })).rejects.toMatchObject({
      code: ErrorCode.modelLoad,
      message: `model ${cfg.path}: canary image ${join(missing, '..', 'canary/missing.jpg')} does not exist (canary.image of ${missing})`,
    });
    const notImage = manifestWith('blister-detector', { image: 'blister-detector.json', expect: [{ label: 'tablet', min: 8 }] });
    await expect(Model.load('x', { ...cfg, manifest: notImage })).rejects.toMatchObject({
      code: ErrorCode.modelLoad,
      message: `model ${cfg.path}: canary image ${notImage} cannot be decoded (canary.image of ${notImage})`,
    });
  });
});
