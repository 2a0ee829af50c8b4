/**
 * Validates every demo model on held-out sets rendered here (npm run validate:models, the last
 * step of npm run build:models): renders the sets into .lineside-validation/ (git-ignored), runs
 * the real `lineside validate` code with the demo config's station thresholds and reject codes, and
 * writes models/<model>.validation.json and .png. Paths in the reports are relative to the
 * repository and the reports carry no timestamps, so a rebuild gives the same bytes.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validate } from '../src/tools/validate.js';
import { VALIDATION_REASONS, writeBlisterValidationSet, writeGowningValidationSet, writeHopperValidationSet } from './lib/validation-sets.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);

const jobs = [
  { model: 'blister-detector', station: 'blister', set: 'blister', write: writeBlisterValidationSet, reasons: VALIDATION_REASONS.blister },
  // The taught anomaly model (npm run teach:demo), on the very same held-out cards; its threshold is its own.
  { model: 'blister-anomaly', station: undefined, set: 'blister', write: writeBlisterValidationSet, reasons: undefined },
  { model: 'ppe-detector', station: 'gowning', set: 'gowning', write: writeGowningValidationSet, reasons: VALIDATION_REASONS.gowning },
  { model: 'cleaning-classifier', station: 'hopper', set: 'hopper', write: writeHopperValidationSet, reasons: VALIDATION_REASONS.hopper },
] as const;

const t0 = performance.now();
const rendered = new Set<string>();
for (const job of jobs) {
  const started = performance.now();
  const dataset = join('.lineside-validation', job.set);
  if (!rendered.has(job.set)) await job.write(dataset);
  rendered.add(job.set);
  const scoring = performance.now();
  const report = await validate({
    model: join('models', `${job.model}.onnx`),
    dataset,
    out: join('models', `${job.model}.validation.json`),
    ...(job.station ? { station: { config: join('config', 'demo.yaml'), station: job.station }, reasons: job.reasons } : {}),
  });
  console.log(`${report.summary}\n(rendered in ${((scoring - started) / 1000).toFixed(1)} s, scored in ${((performance.now() - scoring) / 1000).toFixed(1)} s)\n`);
}
console.log(`npm run validate:models took ${((performance.now() - t0) / 1000).toFixed(1)} s`);
