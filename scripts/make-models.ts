/**
 * Fits the three demo models on freshly rendered training images (seeds disjoint from the
 * committed fixtures), exports them as ONNX with manifests into models/, then evaluates each on
 * the committed fixtures with onnxruntime-node and prints the table (npm run models).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import type { Manifest } from '../src/vision/manifest.js';
import { demoModels, modelsDir, type DemoModel } from './lib/demo-models.js';
import { evaluateClassifierSet, evaluateDetectorSet, type SetReport } from './lib/fixture-eval.js';

const fixturesDir = join(modelsDir, '..', 'fixtures');

/**
 * Fit one model in a worker thread, so two fits share the two cores. Node 20 does not apply
 * --import tsx inside a worker, so the worker registers tsx itself before loading the entry.
 */
function inWorker(name: DemoModel): Promise<Manifest> {
  const boot = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(new URL('./lib/model-worker.ts', import.meta.url).href)}); });`;
  return new Promise((resolve, reject) => {
    const worker = new Worker(boot, { eval: true, workerData: name });
    worker.once('message', (m: Manifest) => resolve(m));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`model worker for ${name} exited with code ${code}`));
    });
  });
}

async function session(m: Manifest): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(await readFile(join(modelsDir, `${m.name}.onnx`)));
}

function printTable(reports: readonly { model: string; report: SetReport; flaggedTruth: string }[]): void {
  console.log('\nEvaluation on the committed fixtures (score ≥ 0.5, NMS IoU 0.45, match IoU ≥ 0.3)');
  console.log('model                 set       images  correct  flagged-truth-found  false-flags  recall per class');
  for (const { model, report, flaggedTruth } of reports) {
    const imgs = report.images;
    const bad = imgs.filter((i) => i.truth === flaggedTruth);
    const good = imgs.filter((i) => i.truth !== flaggedTruth);
    const recall = Object.entries(report.recall).map(([c, r]) => `${c} ${r}`).join(', ');
    console.log(
      `${model.padEnd(22)}${report.set.padEnd(10)}${String(imgs.length).padStart(6)}  ${`${imgs.filter((i) => i.correct).length}/${imgs.length}`.padStart(7)}  ${`${bad.filter((i) => i.flagged && i.correct).length}/${bad.length}`.padStart(19)}  ${`${good.filter((i) => i.flagged).length}/${good.length}`.padStart(11)}  ${recall}`,
    );
    for (const i of imgs.filter((x) => !x.correct)) console.log(`    ✗ ${i.file} (${i.truth}): ${i.note}`);
  }
}

const t0 = Date.now();
const ppeRun = inWorker('ppe-detector');
const blisterManifest = await demoModels['blister-detector']();
const cleaningManifest = await demoModels['cleaning-classifier']();
const ppeManifest = await ppeRun;
printTable([
  { model: blisterManifest.name, report: await evaluateDetectorSet(await session(blisterManifest), blisterManifest, join(fixturesDir, 'blister'), blisterManifest.classes.filter((c) => c !== 'tablet')), flaggedTruth: 'defective' },
  { model: ppeManifest.name, report: await evaluateDetectorSet(await session(ppeManifest), ppeManifest, join(fixturesDir, 'gowning'), ['head_no_mask', 'hand_bare']), flaggedTruth: 'violation' },
  { model: cleaningManifest.name, report: await evaluateClassifierSet(await session(cleaningManifest), cleaningManifest, join(fixturesDir, 'hopper'), 'residue'), flaggedTruth: 'residue' },
]);
console.log(`\nnpm run models took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
