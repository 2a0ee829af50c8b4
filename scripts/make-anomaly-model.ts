/**
 * The demo anomaly model, built the way a plant builds one: good blisters rendered into
 * build/anomaly-set/teach/good, `teach` on them, then `validate` on a held-out set from other
 * seeds (build/anomaly-set/test). Writes models/blister-anomaly.{onnx,json} and the validation
 * report models/blister-anomaly.validation.{json,png}. Run from the repository root (npm run models).
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { teach } from '../src/tools/teach.js';
import { validate } from '../src/tools/validate.js';
import { writeAnomalySet } from './lib/anomaly-set.js';
import { ANOMALY_SEEDS } from './lib/seeds.js';

/** Set sizes: 60 good parts to teach from; 200 good and 40 of each defect type held out. */
const TEACH = 60;
const HELD_OUT_GOOD = 200;
const PER_DEFECT = 40;
/** The demo model's "taught at": fixed, so `npm run build:models` is byte-identical run to run. */
const TAUGHT_AT = new Date('2026-12-07T00:00:00Z');

const set = join('build', 'anomaly-set');
const t0 = performance.now();
await rm(set, { recursive: true, force: true });
await writeAnomalySet(join(set, 'teach'), ANOMALY_SEEDS.teach, TEACH, 0);
await writeAnomalySet(join(set, 'test'), ANOMALY_SEEDS.heldOut, HELD_OUT_GOOD, PER_DEFECT);
const taught = await teach({ station: 'blister', images: join(set, 'teach', 'good'), out: join('models', 'blister-anomaly.onnx'), at: TAUGHT_AT });
const report = await validate({ model: taught.model, dataset: join(set, 'test'), out: join('models', 'blister-anomaly.validation.json') });
console.log(`blister-anomaly: taught from ${taught.images} good images; ${report.summary}`);
console.log(`(${((performance.now() - t0) / 1000).toFixed(0)} s)`);
