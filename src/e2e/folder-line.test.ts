import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { Appliance } from '../main.js';
import { demoConfig, ROOT, startAppliance, waitFor } from './harness.js';

/**
 * A smart camera that writes one JPEG per part into a folder (as over FTP): every file becomes one
 * inspection, with the part ID from its name, and is moved out once recorded.
 */
describe('end to end: a smart camera dropping files', () => {
  let app: Appliance | undefined;
  afterEach(async () => {
    await app?.stop();
    app = undefined;
  });

  it('inspects each file once, takes the part ID from its name, and moves it to processed/', async () => {
    const drop = mkdtempSync(join(tmpdir(), 'lineside-drop-'));
    // Two files were waiting before lineside started (it was down); the rest arrive while it runs.
    const put = (i: number): void => copyFileSync(join(ROOT, `fixtures/blister/blister-${String(i).padStart(4, '0')}.jpg`), join(drop, `LOT7-P${String(1000 + i)}_cam1.jpg`));
    put(0);
    put(1);
    app = await startAppliance(
      demoConfig((c) => {
        c.stations = c.stations.filter((s) => s.id === 'blister');
        const st = c.stations[0]! as { trigger?: string; source: unknown; recipes?: unknown };
        st.trigger = 'frame';
        // The PLC selects recipes; a smart camera's station has none.
        delete st.recipes;
        st.source = { type: 'folder', path: drop, settleMs: 100, partIdPattern: '-(?<id>P\\d+)_' };
        c.plc.simulate = { windowMs: 1000, stations: { blister: { partsPerMinute: 0 } } };
      }),
    );
    for (let i = 2; i < 12; i++) put(i);
    await waitFor(() => app!.recorder.counters('blister').pass + app!.recorder.counters('blister').reject >= 12, 20_000, '12 files inspected');
    // Files are moved out after their record is written: wait for the last move.
    const moved = (): number => {
      const processed = join(drop, 'processed');
      return existsSync(processed) ? readdirSync(processed).reduce((n, day) => n + readdirSync(join(processed, day)).length, 0) : 0;
    };
    await waitFor(() => moved() === 12, 5000, 'all 12 files moved to processed/');
    expect(readdirSync(drop).filter((f) => f.endsWith('.jpg'))).toEqual([]);

    const db = new Database(app.store.file, { readonly: true });
    const rows = db.prepare(`SELECT part_id AS partId, frame_origin AS origin, verdict FROM inspections WHERE station_id = 'blister' ORDER BY id`).all() as Array<{ partId: string; origin: string; verdict: string }>;
    db.close();
    expect(rows).toHaveLength(12);
    expect(rows.map((r) => r.partId).sort()).toEqual(Array.from({ length: 12 }, (_, i) => `P${1000 + i}`));
    expect(new Set(rows.map((r) => r.origin)).size).toBe(12);
    // Each verdict matches the fixture's label: defective cards rejected, good cards passed.
    const labels = JSON.parse(readFileSync(join(ROOT, 'fixtures/blister/labels.json'), 'utf8')) as { images: Array<{ file: string; label: string }> };
    for (const r of rows) {
      const i = Number(r.partId.slice(1)) - 1000;
      const label = labels.images.find((l) => l.file === `blister-${String(i).padStart(4, '0')}.jpg`)!.label;
      expect({ part: r.partId, verdict: r.verdict }).toEqual({ part: r.partId, verdict: label === 'good' ? 'pass' : 'reject' });
    }

    const processed = join(drop, 'processed');
    const days = readdirSync(processed);
    expect(days).toHaveLength(1);
    expect(readdirSync(join(processed, days[0]!)).sort()).toEqual(Array.from({ length: 12 }, (_, i) => `LOT7-P${1000 + i}_cam1.jpg`));
    expect(existsSync(join(drop, '.lineside-inflight')) ? readdirSync(join(drop, '.lineside-inflight')) : []).toEqual([]);
  });
});
