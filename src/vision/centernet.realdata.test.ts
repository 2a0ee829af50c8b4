import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Detection } from '../domain/detection.js';
import { Model } from './model.js';

/**
 * CenterNet (COCO, 80 classes) as shipped by @vladmandic/human, through the TF.js runner, the
 * `detections` decoder and config/pretrained/centernet.manifest.yaml, on real COCO photographs
 * (../shared/realdata): a person detector for real camera images.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const IMAGES = fileURLToPath(new URL('../../../shared/realdata/yolox-nano/images/', import.meta.url));

const of = (out: { kind: string; detections?: readonly Detection[] }, label: string): Detection[] => (out.kind === 'detections' ? out.detections!.filter((d) => d.label === label) : []);

describe('CenterNet (@vladmandic/human) on real photographs', () => {
  let model: Model;
  beforeAll(async () => {
    expect(existsSync(IMAGES), `${IMAGES} must exist (../shared/realdata beside the clone)`).toBe(true);
    model = await Model.load('people', { path: `${ROOT}node_modules/@vladmandic/human/models/centernet.json`, manifest: `${ROOT}config/pretrained/centernet.manifest.yaml`, workers: 1, threads: 1 });
  });
  afterAll(() => model?.close());

  it('finds people: the skier, most of the group, none at the desk (where it finds the keyboard)', async () => {
    const run = async (name: string) => (await model.infer(await readFile(`${IMAGES}${name}`))).output;
    const skier = of(await run('000000000785.jpg'), 'person');
    const group = of(await run('000000001000.jpg'), 'person');
    const desk = await run('000000001503.jpg');
    console.log(`CenterNet persons: skier ${skier.length} (best ${skier[0]?.score.toFixed(2)}), group photo ${group.length} of 12, desk ${of(desk, 'person').length}`);
    expect(skier).toHaveLength(1);
    expect(skier[0]!.score).toBeGreaterThan(0.7);
    // The skier stands in the middle of the 640×425 photo, head to skis.
    expect(skier[0]!.box.h).toBeGreaterThan(250);
    // Measured: 8 of the 12 at score ≥ 0.3 (people overlapping in a row merge or drop).
    expect(group.length).toBeGreaterThanOrEqual(7);
    expect(of(desk, 'person')).toHaveLength(0);
    expect(of(desk, 'keyboard').length).toBeGreaterThanOrEqual(1);
  });
});
