import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { BRIGHTNESS, brightnessExpected, layersModelJson, writeBrightnessModel } from '../../scripts/lib/tfjs-writer.js';
import { ErrorCode } from '../domain/errors.js';
import { Model } from './model.js';
import { createTfjsWorker, TfjsRunner } from './tfjs.runner.js';
import type { TfjsWorkerSetup } from './tfjs-protocol.js';

const SLOW = 120_000;
const tempDir = () => mkdtempSync(join(tmpdir(), 'lineside-tfjs-'));
const dims = [1, BRIGHTNESS.height, BRIGHTNESS.width, 3];

/** An NHWC image-like tensor in [0,1], `n` images, different per seed. */
function image(n: number, seed: number): Float32Array {
  const out = new Float32Array(n * BRIGHTNESS.height * BRIGHTNESS.width * 3);
  for (let i = 0; i < out.length; i++) out[i] = 0.5 + 0.5 * Math.sin(i * 0.37 + seed);
  return out;
}

/** The sha256 rule for TF.js models: model.json, then its shards in manifest order. */
function shaOf(dir: string): string {
  return createHash('sha256').update(readFileSync(join(dir, 'model.json'))).update(readFileSync(join(dir, 'group1-shard1of1.bin'))).digest('hex');
}

function writeManifest(dir: string, extra: Record<string, unknown> = {}): string {
  const path = join(dir, 'model.manifest.json');
  const manifest = {
    name: 'brightness', version: '1.0.0', task: 'classify', decoder: 'softmax', classes: [...BRIGHTNESS.classes], outputs: ['probs'],
    input: { width: BRIGHTNESS.width, height: BRIGHTNESS.height, layout: 'NHWC', channels: 'RGB', scale: '0-1' },
    intendedUse: 'test', licence: 'test', sha256: shaOf(dir), ...extra,
  };
  writeFileSync(path, JSON.stringify(manifest));
  return path;
}

const grey = (v: number, size = 32) => sharp({ create: { width: size, height: size, channels: 3, background: { r: v, g: v, b: v } } }).png().toBuffer();

describe('TfjsRunner (TF.js graph model in worker threads)', () => {
  let runner: TfjsRunner | undefined;
  afterEach(async () => {
    await runner?.close();
    runner = undefined;
  });

  it('runs the test graph model in a worker on the wasm backend with the exactly computable outputs', { timeout: SLOW }, async () => {
    const dir = tempDir();
    runner = await TfjsRunner.open(await writeBrightnessModel(dir), { workers: 1, threads: 1 });
    expect(runner.backend).toBe('wasm');
    expect(runner.liveWorkers).toBe(1);
    expect(runner.inputs).toEqual([{ name: 'image', shape: ['batch', 8, 8, 3] }]);
    expect(runner.outputs).toEqual([{ name: 'probs', shape: ['batch', 2] }, { name: 'label', shape: ['batch'] }]);
    const x = image(2, 1);
    const want = brightnessExpected(x, 2);
    const out = await runner.run({ data: x.slice(), dims: [2, 8, 8, 3] });
    expect(out.outputs['probs']!.dims).toEqual([2, 2]);
    [...out.outputs['probs']!.data].forEach((p, i) => expect(p).toBeCloseTo(want.probs[i]!, 5));
    expect([...out.outputs['label']!.data]).toEqual(want.label);
    expect(out.inferMs).toBeGreaterThan(0);
    rmSync(dir, { recursive: true });
  });

  it('keeps the main thread responsive while the worker is busy (1 ms timer lag stays small)', { timeout: SLOW }, async () => {
    runner = await TfjsRunner.open(await writeBrightnessModel(tempDir()), { workers: 1, threads: 1 });
    let last = performance.now();
    let maxLag = 0;
    let ticks = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      maxLag = Math.max(maxLag, now - last);
      last = now;
      ticks++;
    }, 1);
    // Back-to-back inference inside the worker for a while: on the main thread this would starve the timer.
    const bench = await runner.bench({ data: image(1, 2), dims }, 3000);
    clearInterval(timer);
    expect(bench.times).toHaveLength(3000);
    expect(bench.wallMs).toBeGreaterThan(300);
    expect(ticks).toBeGreaterThan(bench.wallMs / 20);
    expect(maxLag).toBeLessThan(250);
  });

  it('a crashed worker leaves the pool: its request fails, the other worker serves, then the runner says every worker stopped', { timeout: SLOW }, async () => {
    const threads: Worker[] = [];
    const spawn = (setup: TfjsWorkerSetup): Worker => {
      const w = createTfjsWorker(setup);
      threads.push(w);
      return w;
    };
    runner = await TfjsRunner.open(await writeBrightnessModel(tempDir()), { workers: 2, threads: 1 }, spawn);
    expect(runner.liveWorkers).toBe(2);
    // A long request lands on the first free worker; that worker dies under it.
    const inFlight = runner.bench({ data: image(1, 3), dims }, 100_000);
    await threads[0]!.terminate();
    await expect(inFlight).rejects.toMatchObject({ code: ErrorCode.modelRun, message: 'inference worker crashed' });
    expect(runner.liveWorkers).toBe(1);
    const x = image(1, 4);
    const out = await runner.run({ data: x.slice(), dims });
    expect([...out.outputs['label']!.data]).toEqual(brightnessExpected(x).label);
    await threads[1]!.terminate();
    expect(runner.liveWorkers).toBe(0);
    await expect(runner.run({ data: x.slice(), dims })).rejects.toMatchObject({ code: ErrorCode.modelRun, message: 'every inference worker of this model has stopped' });
  });

  it('refuses bad model files with a clear LinesideError naming the file', { timeout: SLOW }, async () => {
    const open = (path: string) => TfjsRunner.open(path, { workers: 1, threads: 1 });
    const empty = tempDir();
    await expect(open(empty)).rejects.toMatchObject({ code: ErrorCode.modelLoad, message: `TF.js model file ${join(empty, 'model.json')} does not exist` });

    const notGraph = tempDir();
    writeFileSync(join(notGraph, 'model.json'), JSON.stringify({ hello: 'world' }));
    await expect(open(notGraph)).rejects.toMatchObject({ code: ErrorCode.modelLoad, message: expect.stringContaining(`${join(notGraph, 'model.json')} is not a TF.js graph model`) });
    const layers = tempDir();
    writeFileSync(join(layers, 'model.json'), JSON.stringify(layersModelJson()));
    await expect(open(join(layers, 'model.json'))).rejects.toThrow(`${join(layers, 'model.json')} is a TF.js layers model, not a graph model`);

    const noShard = tempDir();
    await writeBrightnessModel(noShard);
    rmSync(join(noShard, 'group1-shard1of1.bin'));
    await expect(open(noShard)).rejects.toMatchObject({ code: ErrorCode.modelLoad, message: expect.stringContaining(`weight file ${join(noShard, 'group1-shard1of1.bin')} (listed in model.json) does not exist`) });

    const shortShard = tempDir();
    await writeBrightnessModel(shortShard);
    truncateSync(join(shortShard, 'group1-shard1of1.bin'), 10);
    await expect(open(shortShard)).rejects.toMatchObject({
      code: ErrorCode.modelLoad,
      message: expect.stringMatching(new RegExp(`^weight file ${join(shortShard, 'group1-shard1of1.bin')} holds 10 bytes; model.json needs \\d+ for `)),
    });
  });
});

describe('Model.load of a TF.js graph model', () => {
  let model: Model | undefined;
  afterEach(async () => {
    await model?.close();
    model = undefined;
  });

  it('loads the folder with its manifest and canary, tags the combined sha256, classifies dark and bright images', { timeout: SLOW }, async () => {
    const dir = tempDir();
    await writeBrightnessModel(dir);
    writeFileSync(join(dir, 'bright.png'), await grey(230));
    writeManifest(dir, { canary: { image: 'bright.png', expect: { label: 'bright', minScore: 0.9 } } });
    model = await Model.load('brightness', { path: dir, workers: 1, threads: 1 });
    expect(model.versionTag).toBe(`brightness@1.0.0+${shaOf(dir).slice(0, 12)}`);
    const top = async (v: number) => {
      const r = await model!.infer(await grey(v, 40));
      if (r.output.kind !== 'scores') throw new Error(`expected scores, got ${r.output.kind}`);
      return [...r.output.scores].sort((a, b) => b.score - a.score)[0]!;
    };
    const dark = await top(20);
    expect(dark.label).toBe('dark');
    expect(dark.score).toBeCloseTo(brightnessExpected(new Float32Array(192).fill(20 / 255)).probs[0]!, 4);
    expect((await top(235)).label).toBe('bright');
  });

  it('refuses a TF.js model whose files do not match the manifest sha256, or that has no manifest, naming the file', { timeout: SLOW }, async () => {
    const dir = tempDir();
    const modelJson = await writeBrightnessModel(dir);
    await expect(Model.load('x', { path: modelJson, workers: 1, threads: 1 })).rejects.toMatchObject({
      code: ErrorCode.modelLoad,
      message: expect.stringContaining(`TF.js model ${modelJson} has no manifest (looked for model.manifest.yaml, model.manifest.yml, model.manifest.json beside it)`),
    });
    writeManifest(dir);
    // A weight changed after the manifest was pinned: the shard is in the hash.
    const shard = join(dir, 'group1-shard1of1.bin');
    const bytes = readFileSync(shard);
    bytes[0] = bytes[0]! ^ 1;
    writeFileSync(shard, bytes);
    await expect(Model.load('x', { path: modelJson, workers: 1, threads: 1 })).rejects.toMatchObject({
      code: ErrorCode.modelLoad,
      message: expect.stringContaining(`TF.js model ${modelJson} (with 1 weight file) has sha256`),
    });
  });

  it('checks the input shape against the manifest at load', { timeout: SLOW }, async () => {
    const dir = tempDir();
    await writeBrightnessModel(dir);
    writeManifest(dir, { input: { width: 16, height: 16, layout: 'NHWC' } });
    await expect(Model.load('x', { path: dir, workers: 1, threads: 1 })).rejects.toMatchObject({
      code: ErrorCode.modelLoad,
      message: `model ${dir}: input image is [batch,8,8,3], manifest says [1,16,16,3]`,
    });
  });

  it('a TF.js model whose output says nothing is refused per frame and turns unhealthy', { timeout: SLOW }, async () => {
    const dir = tempDir();
    await writeBrightnessModel(dir, 0);
    writeManifest(dir);
    model = await Model.load('dead', { path: dir, workers: 1, threads: 1 });
    const img = await grey(200);
    for (let i = 0; i < 5; i++) await expect(model.infer(img)).rejects.toMatchObject({ code: ErrorCode.modelUnhealthy });
    expect(model.health.value.state).toBe('down');
  });
});
