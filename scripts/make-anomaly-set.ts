/**
 * Renders a teaching set (good blisters only) and a held-out validation set (good plus every defect
 * type, other seeds) for `lineside teach` and `lineside validate`:
 *   node --import tsx scripts/make-anomaly-set.ts OUT_DIR [GOOD_TEACH] [GOOD_TEST] [PER_DEFECT] [TEST_SEEDS]
 * writes OUT_DIR/teach/good and OUT_DIR/test/{good,missing_tablet,…}. TEST_SEEDS (default: the
 * demo model's held-out range) renders the test set from another range, e.g. ANOMALY_SEEDS.fresh.
 */
import { join, resolve } from 'node:path';
import { writeAnomalySet } from './lib/anomaly-set.js';
import { ANOMALY_SEEDS } from './lib/seeds.js';

const [out, teach = '60', test = '100', perDefect = '40', testSeeds = String(ANOMALY_SEEDS.heldOut)] = process.argv.slice(2);
if (!out) {
  console.error('usage: node --import tsx scripts/make-anomaly-set.ts OUT_DIR [GOOD_TEACH] [GOOD_TEST] [PER_DEFECT] [TEST_SEEDS]');
  process.exit(2);
}
const t0 = performance.now();
await writeAnomalySet(join(resolve(out), 'teach'), ANOMALY_SEEDS.teach, Number(teach), 0);
await writeAnomalySet(join(resolve(out), 'test'), Number(testSeeds), Number(test), Number(perDefect));
console.log(`${out}: teach ${teach} good; test ${test} good + ${perDefect} per defect type (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
