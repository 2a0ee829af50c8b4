/**
 * `npm run bench:inference` (also run by `npm run bench`): for each demo model and, when
 * ../shared/realdata is present, YOLOX-Nano — inference in lineside's worker thread against the
 * same session.run on the main thread, measured alternately in one run, and the event-loop delay
 * the main thread suffers meanwhile (what the PLC link, the web page and the recorder would feel).
 * Also the TF.js test graph model (scripts/lib/tfjs-writer.ts) on the wasm backend, the same way.
 *
 *   npm run bench:inference -- [--rounds 3] [--runs 200]
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { OnnxRunner } from '../src/vision/onnx.runner.js';
import { selectTfjsBackend } from '../src/vision/tfjs-backend.js';
import { executeGraph, inputTensor, loadTfjsGraphModel, outputNamesOf, toWire } from '../src/vision/tfjs-io.js';
import { TfjsRunner } from '../src/vision/tfjs.runner.js';
import { writeBrightnessModel } from './lib/tfjs-writer.js';

const { values: args } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, runs: { type: 'string', default: '200' } } });
const ROUNDS = Number(args.rounds);
const RUNS = Number(args.runs);
const root = fileURLToPath(new URL('../', import.meta.url));
const YOLOX = join(root, '../shared/realdata/yolox-nano/yolox_nano.onnx');

const models = [
  { name: 'blister-detector (demo)', path: join(root, 'models/blister-detector.onnx') },
  { name: 'ppe-detector (demo)', path: join(root, 'models/ppe-detector.onnx') },
  { name: 'cleaning-classifier (demo)', path: join(root, 'models/cleaning-classifier.onnx') },
  { name: 'blister-anomaly (taught)', path: join(root, 'models/blister-anomaly.onnx') },
  ...(existsSync(YOLOX) ? [{ name: 'YOLOX-Nano 416 (third-party)', path: YOLOX }] : []),
];

interface Phase {
  /** Median wall time per inference as the main thread sees it, ms. */
  readonly perRunMs: number;
  /** Event-loop delay while the runs went on: p50 and p99, ms. */
  readonly loopP50: number;
  readonly loopP99: number;
  readonly loopMax: number;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function input(dims: readonly number[]): Float32Array {
  const n = dims.reduce((p, d) => p * d, 1);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = 0.5 + 0.5 * Math.sin(i * 0.0137);
  return out;
}

/** Runs `one` RUNS times back to back, timing each and watching the event loop. */
async function phase(one: (i: number) => Promise<unknown>): Promise<Phase> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  // Something else on the loop, as the appliance always has: a 1 ms timer, like a PLC heartbeat or an HTTP poll.
  const tick = setInterval(() => undefined, 1);
  h.enable();
  const times: number[] = [];
  const start = performance.now();
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await one(i);
    times.push(performance.now() - t);
  }
  h.disable();
  clearInterval(tick);
  // No sample at all: the loop never turned (work that resolves by microtasks only), so it was
  // blocked for the whole phase; report that rather than a delay of 0.
  if (h.count === 0) {
    const blocked = performance.now() - start;
    return { perRunMs: median(times), loopP50: blocked, loopP99: blocked, loopMax: blocked };
  }
  return { perRunMs: median(times), loopP50: h.percentile(50) / 1e6, loopP99: h.percentile(99) / 1e6, loopMax: h.max / 1e6 };
}

async function main(): Promise<void> {
  const rows: Array<{ name: string; dims: readonly number[]; worker: Phase[]; main: Phase[] }> = [];
  rows.push(await benchTfjs());
  for (const m of models) {
    const runner = await OnnxRunner.open(m.path, { workers: 1, threads: 1 });
    const session = await ort.InferenceSession.create(m.path, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    const dims = runner.inputs[0]!.shape.map((d) => (typeof d === 'number' ? d : 1));
    const data = input(dims);
    const feed = { [session.inputNames[0]!]: new ort.Tensor('float32', data, dims) };
    const row = { name: m.name, dims, worker: [] as Phase[], main: [] as Phase[] };
    // Warm both up, then alternate so drift in machine load hits both alike.
    for (let i = 0; i < 10; i++) {
      await runner.run({ data: data.slice(), dims });
      await session.run(feed);
    }
    for (let r = 0; r < ROUNDS; r++) {
      // The worker takes each input buffer over (transferred, not copied): fresh copies made beforehand,
      // as the pipeline makes a fresh tensor per frame anyway.
      const copies = Array.from({ length: RUNS }, () => data.slice());
      row.worker.push(await phase((i) => runner.run({ data: copies[i]!, dims })));
      row.main.push(await phase(() => session.run(feed)));
    }
    await runner.close();
    await session.release();
    rows.push(row);
    const w = row.worker.at(-1)!;
    const mt = row.main.at(-1)!;
    console.log(`${m.name}: worker ${w.perRunMs.toFixed(2)} ms (loop p99 ${w.loopP99.toFixed(2)} ms) · main thread ${mt.perRunMs.toFixed(2)} ms (loop p99 ${mt.loopP99.toFixed(2)} ms)`);
  }
  console.log(`\ninference per frame and event-loop delay, ${RUNS} runs × ${ROUNDS} rounds per side, 1 thread each, medians over rounds:\n`);
  console.log('| model | input | worker: ms per inference | main thread: ms per inference | loop delay p99 with worker | loop delay p99 on main thread | loop max with worker / main |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const f = (ps: Phase[], k: keyof Phase): string => median(ps.map((p) => p[k])).toFixed(2);
    console.log(`| ${r.name} | ${r.dims.join('×')} | ${f(r.worker, 'perRunMs')} | ${f(r.main, 'perRunMs')} | ${f(r.worker, 'loopP99')} ms | ${f(r.main, 'loopP99')} ms | ${f(r.worker, 'loopMax')} / ${f(r.main, 'loopMax')} ms |`);
  }
  if (!existsSync(YOLOX)) console.log('\nYOLOX-Nano: not measured (../shared/realdata is not beside the repository)');
}

/** The TF.js test graph model on wasm: TfjsRunner's worker against the same graph on this thread. */
async function benchTfjs(): Promise<{ name: string; dims: readonly number[]; worker: Phase[]; main: Phase[] }> {
  const path = await writeBrightnessModel(mkdtempSync(join(tmpdir(), 'lineside-bench-tfjs-')));
  const runner = await TfjsRunner.open(path, { workers: 1, threads: 1, backend: 'wasm' });
  await selectTfjsBackend('wasm', { threads: 1 });
  const { model } = await loadTfjsGraphModel(path);
  const names = outputNamesOf(model);
  const dims = runner.inputs[0]!.shape.map((d) => (typeof d === 'number' ? d : 1));
  const data = input(dims);
  const onMain = async (): Promise<void> => {
    const x = inputTensor(model, { data, dims });
    const out = await executeGraph(model, x);
    await toWire(names, out);
    x.dispose();
    for (const t of out) t.dispose();
  };
  const row = { name: 'TF.js brightness test model (wasm)', dims, worker: [] as Phase[], main: [] as Phase[] };
  for (let i = 0; i < 10; i++) {
    await runner.run({ data: data.slice(), dims });
    await onMain();
  }
  for (let r = 0; r < ROUNDS; r++) {
    const copies = Array.from({ length: RUNS }, () => data.slice());
    row.worker.push(await phase((i) => runner.run({ data: copies[i]!, dims })));
    row.main.push(await phase(onMain));
  }
  await runner.close();
  model.dispose();
  const w = row.worker.at(-1)!;
  const mt = row.main.at(-1)!;
  console.log(`${row.name}: worker ${w.perRunMs.toFixed(2)} ms (loop p99 ${w.loopP99.toFixed(2)} ms) · main thread ${mt.perRunMs.toFixed(2)} ms (loop p99 ${mt.loopP99.toFixed(2)} ms)`);
  return row;
}

await main();
