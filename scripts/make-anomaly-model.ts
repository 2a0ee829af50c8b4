/**
 * The demo anomaly model, taught the way a plant teaches one: good blisters rendered into
 * .lineside-teach/blister/good (git-ignored; seeds ANOMALY_SEEDS.teach, disjoint from every
 * validation and training range), then `lineside teach` on them, writing
 * models/blister-anomaly.{onnx,json}. `npm run validate:models` then validates it on the same
 * held-out blister set as the detector. Run by `npm run build:models` (as `npm run teach:demo`).
 */
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { teach } from '../src/tools/teach.js';
import { writeAnomalySet } from './lib/anomaly-set.js';
import { ANOMALY_SEEDS } from './lib/seeds.js';

/** Good parts to teach from: a minute of a 120-parts-per-minute line (60 gave a 1.3 % false reject rate on the held-out set: README). */
const TEACH = 120;
/** The demo model's "taught at": fixed, so `npm run build:models` is byte-identical run to run. */
const TAUGHT_AT = new Date('2026-12-07T00:00:00Z');

process.chdir(join(dirname(fileURLToPath(import.meta.url)), '..'));
const set = join('.lineside-teach', 'blister');
await rm(set, { recursive: true, force: true });
await writeAnomalySet(set, ANOMALY_SEEDS.teach, TEACH, 0);
const taught = await teach({ station: 'blister', images: join(set, 'good'), out: join('models', 'blister-anomaly.onnx'), at: TAUGHT_AT });
console.log(`blister-anomaly: taught from ${taught.images} good images in ${taught.seconds.toFixed(1)} s; threshold ${taught.threshold.raw.toFixed(3)} (${taught.threshold.rule})`);
