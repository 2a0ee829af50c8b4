import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../domain/errors.js';
import { writeBrokenModel } from '../vision/testing/broken-models.js';
import { inferImages } from './infer.js';
import { runCli } from './testing/run-cli.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MODEL = join(ROOT, 'models/blister-detector.onnx');
const labels = JSON.parse(readFileSync(join(ROOT, 'fixtures/blister/labels.json'), 'utf8')) as { images: Array<{ file: string; defects: Array<{ class: string }> }> };

const cli = (...args: string[]) => runCli('infer', ...args);

describe('lineside infer', () => {
  it('reports the decoded detections in original image pixels and writes an annotated copy', async () => {
    const out = mkdtempSync(join(tmpdir(), 'lineside-infer-'));
    const file = join(ROOT, 'fixtures/blister/blister-0003.jpg');
    const report = await inferImages({ model: MODEL, images: [file], outDir: out });
    const r = report.images[0]!;
    if ('error' in r) throw new Error(r.error);
    expect([r.width, r.height]).toEqual([640, 400]);
    expect(r.output.kind).toBe('detections');
    const dets = r.output.kind === 'detections' ? r.output.detections : [];
    // The fixture's labelled defect is among the detections, and every box lies inside the image.
    const defect = labels.images.find((l) => l.file === 'blister-0003.jpg')!.defects[0]!.class;
    expect(dets.some((d) => d.label === defect && d.score >= 0.5)).toBe(true);
    for (const d of dets) {
      expect(d.box.x).toBeGreaterThanOrEqual(0);
      expect(d.box.y).toBeGreaterThanOrEqual(0);
      expect(d.box.x + d.box.w).toBeLessThanOrEqual(640);
      expect(d.box.y + d.box.h).toBeLessThanOrEqual(400);
    }
    expect(report.version).toMatch(/^blister-detector@1\.0\.0\+[0-9a-f]{12}$/);
    const meta = await sharp(r.annotated).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 640, 400]);
  });

  it('goes on past an image that is not an image, names it, and exits 1', { timeout: 60_000 }, async () => {
    const out = mkdtempSync(join(tmpdir(), 'lineside-infer-'));
    const notImage = join(out, 'notes.jpg');
    writeFileSync(notImage, 'shift notes, not a picture');
    const r = await cli('--model', MODEL, '--out', out, notImage, join(ROOT, 'fixtures/blister/blister-0000.jpg'));
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as { images: Array<{ image: string; error?: string; output?: unknown }> };
    expect(report.images[0]).toMatchObject({ image: notImage, error: expect.stringContaining('LINESIDE_ERR_IMAGE_DECODE') });
    expect(report.images[1]!.output).toBeTruthy();
    expect(r.stderr).toContain(`${notImage}: LINESIDE_ERR_IMAGE_DECODE`);
    expect(existsSync(join(out, 'blister-0000.lineside.jpg'))).toBe(true);
  });

  it('a model that describes itself in its metadata runs without a manifest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lineside-infer-'));
    copyFileSync(MODEL, join(dir, 'self-describing.onnx'));
    const report = await inferImages({ model: join(dir, 'self-describing.onnx'), images: [join(ROOT, 'fixtures/blister/blister-0003.jpg')], outDir: dir });
    expect(report.manifest).toBe(`metadata of ${join(dir, 'self-describing.onnx')}`);
    expect(report.notes.join('\n')).toMatch(/no manifest: read from the model's own metadata/);
    const r = report.images[0]!;
    expect('output' in r && r.output.kind === 'detections' && r.output.detections.some((d) => d.label === 'empty_pocket')).toBe(true);
  });

  it('a manifest without sha256 is filled from the file, with a note to add it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lineside-infer-'));
    copyFileSync(MODEL, join(dir, 'new-export.onnx'));
    const manifest = JSON.parse(readFileSync(join(ROOT, 'models/blister-detector.json'), 'utf8')) as Record<string, unknown>;
    delete manifest.sha256;
    delete manifest.canary; // its image path is relative to the original folder
    writeFileSync(join(dir, 'new-export.json'), JSON.stringify(manifest));
    const report = await inferImages({ model: join(dir, 'new-export.onnx'), images: [join(ROOT, 'fixtures/blister/blister-0000.jpg')], outDir: dir });
    expect(report.notes[0]).toMatch(/manifest has no sha256; used the file's \([0-9a-f]{64}\): add it before deploying/);
  });

  it('refuses bad models with the file named: not ONNX, no manifest, a manifest that disagrees with the shapes', async () => {
    const notOnnx = writeBrokenModel('not-onnx');
    await expect(inferImages({ model: notOnnx.path, manifest: notOnnx.manifest, images: [] })).rejects.toMatchObject({ code: ErrorCode.modelLoad, message: expect.stringContaining(notOnnx.path) });

    // No manifest and nothing in the file to say what it is.
    const dead = writeBrokenModel('all-zero');
    const unlabelled = join(mkdtempSync(join(tmpdir(), 'lineside-infer-')), 'unlabelled.onnx');
    copyFileSync(dead.path, unlabelled);
    await expect(inferImages({ model: unlabelled, images: [] })).rejects.toThrow(`model ${unlabelled} has no manifest and its metadata does not say: classes, decoder`);

    const dir = mkdtempSync(join(tmpdir(), 'lineside-infer-'));
    copyFileSync(MODEL, join(dir, 'bare.onnx'));

    const wrong = JSON.parse(readFileSync(join(ROOT, 'models/blister-detector.json'), 'utf8')) as { input: { width: number; height: number } };
    wrong.input.width = 416;
    wrong.input.height = 416;
    writeFileSync(join(dir, 'bare.json'), JSON.stringify(wrong));
    await expect(inferImages({ model: join(dir, 'bare.onnx'), images: [] })).rejects.toThrow(/bare\.onnx: input images is \[1,3,320,320\], manifest says \[1,3,416,416\]/);
  });
});
