import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Detection } from '../domain/detection.js';
import type { Box } from '../domain/geometry.js';
import { planFaceBlur } from '../stations/face-blur.js';
import { privacySchema } from '../rules/ppe.schema.js';
import { annotate, liveJpeg } from './annotate.js';
import { Model } from './model.js';
import { laplacianVariance } from './testing/sharpness.js';

/**
 * BlazeFace as shipped by @vladmandic/human, through lineside's TF.js runner, blazeface decoder and
 * the manifests in config/pretrained/, on real COCO photographs (../shared/realdata), and the
 * evidence blur on the faces it finds.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const IMAGES = fileURLToPath(new URL('../../../shared/realdata/yolox-nano/images/', import.meta.url));
const MODEL = `${ROOT}node_modules/@vladmandic/human/models/blazeface.json`;
const GROUP = `${IMAGES}000000001000.jpg`;
const SKIER = `${IMAGES}000000000785.jpg`;

/**
 * Face centres in the group photo (640×480, 12 people), placed by hand by looking at the photo:
 * from left to right, the child in the yellow cap to the boy in the white cap.
 */
const GROUP_FACES: ReadonlyArray<readonly [number, number]> = [
  [82, 210], [161, 176], [241, 148], [250, 200], [313, 125], [381, 176],
  [383, 145], [425, 150], [454, 140], [437, 200], [480, 255], [571, 238],
];

const load = (manifest: string): Promise<Model> =>
  Model.load('faces', { path: MODEL, manifest: `${ROOT}config/pretrained/${manifest}`, workers: 1, threads: 1 });

const boxesOf = (out: { kind: string; detections?: readonly Detection[] }): readonly Detection[] => (out.kind === 'detections' ? out.detections! : []);
const holds = (b: Box, [x, y]: readonly [number, number]): boolean => x >= b.x && x <= b.x + b.w && y >= b.y && y <= b.y + b.h;

describe('BlazeFace (@vladmandic/human) on real photographs', () => {
  let whole: Model;
  let tiled: Model;
  beforeAll(async () => {
    expect(existsSync(GROUP), `${GROUP} must exist (../shared/realdata beside the clone)`).toBe(true);
    whole = await load('blazeface.manifest.yaml');
    tiled = await load('blazeface-tiled.manifest.yaml');
  });
  afterAll(async () => {
    await whole?.close();
    await tiled?.close();
  });

  it('finds the faces of the group photo: 11 of 12 on the whole frame, all 12 in 320-px tiles', async () => {
    const image = await readFile(GROUP);
    const found = async (m: Model): Promise<number> => {
      const dets = boxesOf((await m.infer(image)).output);
      return GROUP_FACES.filter((c) => dets.some((d) => holds(d.box, c))).length;
    };
    const w = await found(whole);
    const t = await found(tiled);
    console.log(`group photo: faces found whole-frame ${w}/12, tiled ${t}/12`);
    expect(w).toBeGreaterThanOrEqual(11);
    expect(t).toBe(12);
  });

  it('finds the skier’s small face, and the same face enlarged to fill most of the input', async () => {
    const skier = await readFile(SKIER);
    const small = boxesOf((await whole.infer(skier)).output);
    expect(small.length).toBeGreaterThanOrEqual(1);
    const face = small[0]!.box;
    // The skier's face, cropped with a margin and enlarged to 256 px: a face of ~150 model pixels.
    const side = Math.round(face.w * 1.8);
    const crop = await sharp(skier)
      .extract({ left: Math.max(0, Math.round(face.x + face.w / 2 - side / 2)), top: Math.max(0, Math.round(face.y + face.h / 2 - side / 2)), width: side, height: side })
      .resize(256, 256)
      .jpeg()
      .toBuffer();
    const big = boxesOf((await whole.infer(crop)).output);
    console.log(`skier: ${small.length} face(s), best ${small[0]!.score.toFixed(2)}; enlarged crop: ${big.length}, ${big[0]?.box.w.toFixed(0)} px wide, score ${big[0]?.score.toFixed(2)}`);
    expect(big.length).toBeGreaterThanOrEqual(1);
    expect(big[0]!.box.w).toBeGreaterThan(100);
    expect(big[0]!.score).toBeGreaterThan(0.5);
  });

  it('blurs every face it finds in the evidence image and the live view: each face box loses most of its Laplacian variance', async () => {
    const image = await readFile(GROUP);
    const faces = boxesOf((await tiled.infer(image)).output).map((d) => d.box);
    const plan = await planFaceBlur(image, privacySchema.parse({}), tiled, []);
    expect(plan.method).toBe(`face model ${tiled.versionTag}: ${faces.length} faces`);
    expect(faces.length).toBeGreaterThanOrEqual(12);
    // The group photo is 640 px wide: the live view (at most 960 px) keeps its pixel grid.
    for (const [what, blurred] of [
      ['evidence', await annotate(image, [], { blur: plan.boxes })],
      ['live view', await liveJpeg(image, plan.boxes, { width: 960, quality: 75 })],
    ] as const) {
      const ratios: number[] = [];
      for (const f of faces) ratios.push((await laplacianVariance(image, f)) / (await laplacianVariance(blurred, f)));
      ratios.sort((a, b) => a - b);
      console.log(`${what}: Laplacian variance drop per face (original / blurred), ${faces.length} faces: min ${ratios[0]!.toFixed(1)}×, median ${ratios[Math.floor(ratios.length / 2)]!.toFixed(1)}×`);
      // Measured: evidence min 162×, median 394×; live view min 101×, median 302× (margin: 2–3×).
      expect(ratios[0]!).toBeGreaterThan(50);
    }
  });
});
