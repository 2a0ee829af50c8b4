import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeAnomalySet } from '../../scripts/lib/anomaly-set.js';
import { VALIDATION_SEEDS } from '../../scripts/lib/seeds.js';
import { VALIDATION_REASONS, writeHopperValidationSet } from '../../scripts/lib/validation-sets.js';
import { ErrorCode } from '../domain/errors.js';
import { readManifest } from '../vision/manifest.js';
import { validate, type ValidationReport } from './validate.js';
import { rightReason, supervisedSetup } from './validate-reasons.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const demo = { config: join(root, 'config/demo.yaml'), station: 'blister' };
const dir = mkdtempSync(join(tmpdir(), 'lineside-validate-test-'));
let blister: ValidationReport;
let hopper: ValidationReport;

// Small held-out sets (the first cards of the committed reports' sets): 6 good, 3 per defect type.
beforeAll(async () => {
  await writeAnomalySet(join(dir, 'blister'), VALIDATION_SEEDS.blister, 6, 3);
  await writeHopperValidationSet(join(dir, 'hopper'), { good: 4, perDefect: 4 });
  blister = await validate({ model: join(root, 'models/blister-detector.onnx'), dataset: join(dir, 'blister'), out: join(dir, 'blister.json'), station: demo, reasons: VALIDATION_REASONS.blister });
  hopper = await validate({
    model: join(root, 'models/cleaning-classifier.onnx'),
    dataset: join(dir, 'hopper'),
    out: join(dir, 'hopper.json'),
    station: { config: demo.config, station: 'hopper' },
  });
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('lineside validate on a detector', () => {
  it('scores each image by its most confident defect class at the station reject threshold, and says why', () => {
    expect(blister.task).toBe('detect');
    expect(blister.defectClasses).toEqual(['empty_pocket', 'broken_tablet', 'wrong_colour']);
    expect(blister.rejectCodes).toEqual({ empty_pocket: 10, broken_tablet: 11, wrong_colour: 12 });
    expect(blister.threshold.value).toBe(0.5);
    expect(blister.threshold.why).toContain('reject threshold of station "blister"');
    for (const i of blister.images) {
      expect(i.score).toBeGreaterThanOrEqual(0);
      expect(i.score).toBeLessThanOrEqual(1);
      if (i.score > 0) expect(blister.defectClasses).toContain(i.topClass);
      else expect(i.topClass).toBeNull();
    }
  });

  it('keeps the anomaly report fields and adds the reason per defect folder', () => {
    expect(blister.dataset.counts).toEqual({ good: 6, missing_tablet: 3, broken_tablet: 3, chipped_tablet: 3, wrong_colour: 3, foreign_particle: 3, damaged_foil: 3 });
    expect(Object.keys(blister.recall).sort()).toEqual(['broken_tablet', 'chipped_tablet', 'damaged_foil', 'foreign_particle', 'missing_tablet', 'wrong_colour']);
    expect(typeof blister.auroc).toBe('number');
    expect(blister.atOnePercentFrr.recall).toBeDefined();
    expect(readFileSync(blister.chart).subarray(1, 4).toString()).toBe('PNG');
    expect(blister.reasons!.missing_tablet!.expected).toEqual(['empty_pocket']);
    // Defect types the detector has no class for: counted for recall, never the right reason.
    expect(blister.reasons!.foreign_particle).toMatchObject({ expected: [], reasonAccuracy: 0, rejectedForRightReason: 0 });
    expect(blister.reasons!.foreign_particle!.note).toContain('no class');
    // Reason accuracy is what the top classes say, counted independently here.
    for (const [folder, r] of Object.entries(blister.reasons!)) {
      const set = blister.images.filter((i) => i.kind === folder);
      const right = set.filter((i) => i.topClass !== null && i.topClass !== undefined && r.expected.includes(i.topClass));
      expect(r.reasonAccuracy).toBeCloseTo(right.length / set.length, 10);
      expect(r.rejectedForRightReason).toBeCloseTo(right.filter((i) => i.score >= 0.5).length / set.length, 10);
      expect(Object.values(r.topClassCounts).reduce((a, b) => a + b, 0)).toBe(set.length);
    }
    // The confusion rows add up to each folder's count; good images that pass are "pass".
    for (const [folder, row] of Object.entries(blister.confusion!)) expect(Object.values(row).reduce((a, b) => a + b, 0)).toBe(blister.dataset.counts[folder]);
    expect(blister.confusion!.good!.pass ?? 0).toBe(Math.round((1 - blister.falseRejectRate) * 6));
  });
});

describe('lineside validate on a classifier', () => {
  it('scores by the defect class probability and names residue as the reason', () => {
    expect(hopper.task).toBe('classify');
    expect(hopper.defectClasses).toEqual(['residue']);
    expect(hopper.threshold.value).toBe(0.6);
    expect(hopper.reasons!.residue!.expected).toEqual(['residue']);
    expect(hopper.images.every((i) => i.topClass === 'residue')).toBe(true);
    // Clean and residue views of the demo hopper are told apart at the station's threshold.
    expect(hopper.falseRejectRate).toBe(0);
    expect(hopper.recall.residue).toBe(1);
  });
});

describe('right reason', () => {
  it('accepts a class the station rejects with the same code, and refuses mappings to classes the model lacks', async () => {
    const manifest = await readManifest(join(root, 'models/blister-detector.json'));
    const setup = supervisedSetup(manifest, ['broken_tablet', 'missing_tablet'], demo, { missing_tablet: ['empty_pocket'] });
    // Two classes the station rejects with one code are the same reason to the PLC.
    const sameCode = { ...setup, codes: { ...setup.codes, chipped: 11 } };
    expect(rightReason(sameCode, 'broken_tablet', 'chipped')).toBe(true);
    expect(rightReason(setup, 'broken_tablet', 'empty_pocket')).toBe(false);
    expect(rightReason(setup, 'missing_tablet', 'empty_pocket')).toBe(true);
    expect(rightReason(setup, 'missing_tablet', null)).toBe(false);
    expect(() => supervisedSetup(manifest, ['missing_tablet'], undefined)).toThrow(/no defect folder of the dataset is a class of blister-detector/);
    expect(() => supervisedSetup(manifest, ['broken_tablet'], undefined, { broken_tablet: ['cracked'] })).toThrow(/cracked is not a class of blister-detector/);
    expect(() => supervisedSetup(manifest, ['broken_tablet'], { config: demo.config, station: 'nope' })).toThrow(expect.objectContaining({ code: ErrorCode.badRequest }));
  });
});
