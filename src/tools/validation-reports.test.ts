import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { targetsOf, type ValidationReport } from './validate.js';

/**
 * The committed validation reports (npm run build:models → scripts/validate-models.ts): one for
 * every model in models/, of that very model file (same sha256), on a held-out set, meeting the
 * targets of issue 8 at the station's reject threshold: recall ≥ 0.95 per defect type with a false
 * reject rate ≤ 1 %, AUROC ≥ 0.98, and supervised models rejecting for the right reason — or, where
 * a model falls short, saying so in its report (and in the README: product defects).
 */
/** Targets a committed model does not meet (measured; README: product defects), by report wording without the figures. */
const KNOWN_SHORTFALLS: Readonly<Record<string, readonly string[]>> = {
  'blister-detector': ['AUROC', 'recall chipped_tablet', 'recall damaged_foil', 'recall foreign_particle'],
};

const modelsDir = fileURLToPath(new URL('../../models/', import.meta.url));
const models = readdirSync(modelsDir)
  .filter((f) => f.endsWith('.onnx'))
  .map((f) => f.replace(/\.onnx$/, ''));

function report(name: string): ValidationReport {
  return JSON.parse(readFileSync(join(modelsDir, `${name}.validation.json`), 'utf8')) as ValidationReport;
}

describe('validation reports in models/', () => {
  it('there are demo models to check', () => {
    expect(models.length).toBeGreaterThanOrEqual(3);
  });

  for (const name of models) {
    describe(name, () => {
      it('has a report and chart of this very model file on a held-out set with good and defect folders', () => {
        expect(existsSync(join(modelsDir, `${name}.validation.json`))).toBe(true);
        const r = report(name);
        const manifest = JSON.parse(readFileSync(join(modelsDir, `${name}.json`), 'utf8')) as { sha256: string };
        expect(r.model.sha256).toBe(manifest.sha256);
        expect(existsSync(join(modelsDir, `${name}.validation.png`))).toBe(true);
        expect(r.dataset.digest).toMatch(/^[0-9a-f]{64}$/);
        expect(r.dataset.counts.good).toBeGreaterThanOrEqual(100);
        const defects = Object.keys(r.dataset.counts).filter((k) => k !== 'good');
        expect(defects.length).toBeGreaterThanOrEqual(1);
        expect(r.images).toHaveLength(Object.values(r.dataset.counts).reduce((a, b) => a + b, 0));
        expect(new Set(r.images.map((i) => i.sha256)).size).toBe(r.images.length);
      });

      it('records, truthfully, which targets it meets: all of them, or exactly the shortfalls the README states', () => {
        const r = report(name);
        // The report's own verdict agrees with its numbers …
        expect(r.targets).toEqual(targetsOf(r));
        // … and every target is met except the shortfalls stated in the README; a change either way must update both.
        expect(r.targets!.unmet.map((u) => u.replace(/ [\d.]+ [<>] [\d.]+$/, ''))).toEqual(KNOWN_SHORTFALLS[name] ?? []);
      });

      it('rejects each defect type it catches for the right reason (supervised models)', () => {
        const r = report(name);
        if (r.task === undefined || r.task === 'anomaly') {
          // An anomaly model has one score and no classes: it cannot name a reason.
          expect(r.reasons).toBeUndefined();
          return;
        }
        expect(r.threshold.why).toContain('reject threshold of station');
        // At most 5 % of a defect type's images are rejected under another defect's reason (misses are the recall target's business).
        for (const [type, reason] of Object.entries(r.reasons!)) {
          // A type the model has no class for can only be caught under another reason: the recall target covers it.
          if (reason.expected.length === 0) continue;
          const wrongReason = r.recall[type]! - reason.rejectedForRightReason;
          expect({ type, wrongReason }).toEqual({ type, wrongReason: expect.toSatisfy((v: number) => v <= 0.05 + 1e-9) });
        }
      });
    });
  }
});
