import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Box } from '../domain/geometry.js';
import { Model } from './model.js';

/**
 * BlazeFace from the npm package @vladmandic/human (a dependency), loaded as a zone station loads
 * its privacy.faceModel — the manifests in config/pretrained/, the TF.js runner, the blazeface
 * decoder — on the project's generated gowning scenes (cartoon renders, not photographs), against
 * the renderer's head boxes. Real photographs are the realdata suite's (blazeface.realdata.test.ts).
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MODEL = `${ROOT}node_modules/@vladmandic/human/models/blazeface.json`;

interface Labels {
  images: Array<{ file: string; objects: Array<{ class: string; box: Box }> }>;
}

const overlaps = (a: Box, b: Box): boolean => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

describe('BlazeFace on the generated gowning scenes', () => {
  let labels: Labels;
  const models: Model[] = [];
  beforeAll(async () => {
    labels = JSON.parse(await readFile(`${ROOT}fixtures/gowning/labels.json`, 'utf8')) as Labels;
  });
  afterAll(() => Promise.all(models.map((m) => m.close())));

  /** Heads of the renderer's labels that a face box overlaps, and face boxes that overlap no head. */
  async function measure(manifest: string): Promise<{ model: Model; heads: number; found: number; strays: number }> {
    const model = await Model.load('faces', { path: MODEL, manifest: `${ROOT}config/pretrained/${manifest}`, workers: 1, threads: 1 });
    models.push(model);
    let heads = 0;
    let found = 0;
    let strays = 0;
    for (const im of labels.images) {
      const out = (await model.infer(await readFile(`${ROOT}fixtures/gowning/${im.file}`))).output;
      const faces = out.kind === 'detections' ? out.detections.map((d) => d.box) : [];
      const hs = im.objects.filter((o) => o.class.startsWith('head_')).map((o) => o.box);
      heads += hs.length;
      found += hs.filter((h) => faces.some((f) => overlaps(f, h))).length;
      strays += faces.filter((f) => !hs.some((h) => overlaps(f, h))).length;
    }
    return { model, heads, found, strays };
  }

  it('loads pinned from the package and runs in a TF.js worker', async () => {
    const { model, heads, found, strays } = await measure('blazeface.manifest.yaml');
    expect(model.versionTag).toBe('blazeface@human-3.3.6+c2b3e51d720d');
    expect(model.manifest.decoder).toBe('blazeface');
    console.log(`gowning scenes, whole frame: ${found}/${heads} heads found, ${strays} boxes on no head`);
    // Measured: 38 of 49 (masked cartoon faces at 256 px are at the edge of what it finds), no strays.
    expect(found / heads).toBeGreaterThan(0.7);
    expect(strays).toBeLessThanOrEqual(2);
  }, 60_000);

  it('finds every head in 320-px tiles', async () => {
    const { heads, found, strays } = await measure('blazeface-tiled.manifest.yaml');
    console.log(`gowning scenes, 320-px tiles: ${found}/${heads} heads found, ${strays} boxes on no head`);
    // Measured: 49 of 49, one stray box.
    expect(found / heads).toBeGreaterThanOrEqual(0.95);
    expect(strays).toBeLessThanOrEqual(4);
  }, 90_000);
});
