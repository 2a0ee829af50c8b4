import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { renderSample } from '../../scripts/lib/anomaly-set.js';
import { VALIDATION_SEEDS } from '../../scripts/lib/seeds.js';
import type { Appliance } from '../main.js';
import { demoConfig, sleep, startAppliance, waitFor } from './harness.js';

/**
 * Reject code per defect type and the finding that must carry it (config/demo.yaml, blister
 * station): the detector's class where it has one, else `anomaly` from the taught model running
 * alongside (a chip, with its rim check). A speck or a torn foil the detector mistakes for one of its own defects (it does so
 * on 25 % of particle and 7 % of foil cards in its validation report) is rejected under that
 * defect's code instead: still rejected, the reason wrong.
 */
const EXPECTED = {
  missing_tablet: { code: 10, classes: ['empty_pocket'] },
  broken_tablet: { code: 11, classes: ['broken_tablet'] },
  wrong_colour: { code: 12, classes: ['wrong_colour'] },
  foreign_particle: { code: 19, classes: ['anomaly'] },
  damaged_foil: { code: 19, classes: ['anomaly'] },
  chipped_tablet: { code: 19, classes: ['anomaly'] },
} as const;
type Kind = keyof typeof EXPECTED | 'good';
const PER_KIND = 3;
/** Seeds of a range no training or validation set uses (scripts/lib/seeds.ts): cards never trained on. */
const SEED_BASE = VALIDATION_SEEDS.blister + 90_000;

/**
 * The blister station against the simulated PLC, fed blisters rendered with exactly one defect of
 * each type the two models find: each is rejected with its defect's reject code, as the PLC reads
 * RejectCode and the record's findings say, and good cards pass.
 */
describe('end to end: every blister defect type is rejected with its own reason', () => {
  let app: Appliance | undefined;
  afterEach(async () => {
    await app?.stop();
    app = undefined;
  });

  it('tells the PLC reject with the defect type’s code for each, and pass for good cards', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lineside-defects-'));
    const kinds: readonly Kind[] = ['good', 'missing_tablet', 'broken_tablet', 'wrong_colour', 'foreign_particle', 'damaged_foil', 'chipped_tablet'];
    const files = new Map<string, Kind>();
    for (const [k, kind] of kinds.entries()) {
      for (let i = 0; i < PER_KIND; i++) {
        const seed = SEED_BASE + k * 1_000 + i;
        const file = `${String(files.size).padStart(2, '0')}-${kind}-${seed}.jpg`;
        writeFileSync(join(dir, file), await renderSample(seed, kind));
        files.set(file, kind);
      }
    }
    app = await startAppliance(
      demoConfig((c) => {
        c.stations = c.stations.filter((s) => s.id === 'blister');
        c.stations[0]!.source = { type: 'replay', path: dir };
        c.plc.simulate = { windowMs: 1500, stations: { blister: { partsPerMinute: 240 } } };
      }),
    );
    const sim = app.sim!;
    await waitFor(() => sim.counters('blister').ResultsReceived >= files.size, 30_000, `${files.size} parts answered`);
    sim.setPartsPerMinute('blister', 0);
    await sleep(1700);

    const db = new Database(app.store.file, { readonly: true });
    const rows = db
      .prepare(`SELECT id, trigger_count AS count, frame_origin AS origin, verdict, reject_code AS code FROM inspections WHERE station_id = 'blister' ORDER BY id`)
      .all() as Array<{ id: number; count: number; origin: string; verdict: string; code: number }>;
    const findings = db.prepare(`SELECT label FROM findings WHERE inspection_id = ? AND effect = 'reject'`);
    const answers = new Map(sim.answers('blister').map((a) => [a.count, a]));
    const seen = new Map<string, unknown>();
    for (const r of rows) {
      const kind = files.get(r.origin);
      if (kind === undefined || seen.has(r.origin)) continue;
      const plc = answers.get(r.count);
      const labels = (findings.all(r.id) as Array<{ label: string }>).map((f) => f.label);
      seen.set(r.origin, { verdict: r.verdict, code: r.code, plcResult: plc?.result, plcRejectCode: plc?.rejectCode, reasonRight: kind === 'good' ? labels.length === 0 : labels.some((l) => (EXPECTED[kind].classes as readonly string[]).includes(l)) });
    }
    db.close();
    expect([...seen.keys()].sort()).toEqual([...files.keys()].sort());
    const wrongReason: string[] = [];
    for (const [file, kind] of files) {
      const got = seen.get(file) as { code: number; reasonRight: boolean };
      if (kind !== 'good' && EXPECTED[kind].code === 19 && got.code !== 19) {
        // The detector claimed this card for one of its classes (see above): rejected, by that code.
        expect({ file, ...got }).toEqual({ file, verdict: 'reject', code: expect.toSatisfy((c: number) => [10, 11, 12].includes(c)), plcResult: 2, plcRejectCode: got.code, reasonRight: false });
        wrongReason.push(file);
        continue;
      }
      const want = kind === 'good' ? { verdict: 'pass', code: 0, plcResult: 1, plcRejectCode: 0, reasonRight: true } : { verdict: 'reject', code: EXPECTED[kind].code, plcResult: 2, plcRejectCode: EXPECTED[kind].code, reasonRight: true };
      expect({ file, ...got }).toEqual({ file, ...want });
    }
    // Measured with these seeds: 1 of the 6 particle and foil cards (a particle card) is claimed by the detector.
    expect(wrongReason.length).toBeLessThanOrEqual(1);
  }, 60_000);
});
