import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { renderGowning } from '../../scripts/lib/render-gowning.js';
import type { Appliance } from '../main.js';
import { readTags } from '../plc/sim/sim-counters.client.js';
import { laplacianVariance } from '../vision/testing/sharpness.js';
import { demoConfig, startAppliance, waitFor } from './harness.js';

describe('end to end: PPE in a zone', () => {
  let app: Appliance | undefined;
  afterEach(async () => {
    await app?.stop();
    app = undefined;
  });

  it('raises one ppeViolation for a person walking in zone A without gloves, sets AlarmWord bit 2, clears after compliance, blurs the face', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lineside-ppe-'));
    // 4 fps: 16 frames (4 s) bare-handed walking right, one frame the detector misses (empty room), then 40 gloved frames.
    const frames: Array<{ gloves: boolean; x: number } | null> = [
      ...Array.from({ length: 8 }, (_, i) => ({ gloves: false, x: 200 + i * 6 })),
      null,
      ...Array.from({ length: 8 }, (_, i) => ({ gloves: false, x: 254 + i * 6 })),
      ...Array.from({ length: 40 }, (_, i) => ({ gloves: true, x: 302 + (i % 10) * 3 })),
    ];
    const originals: Buffer[] = [];
    for (const [i, f] of frames.entries()) {
      const r = await renderGowning(4242, [], f ? [{ mask: false, gloves: f.gloves ? [true, true] : [false, false], x: f.x }] : []);
      originals.push(r.jpeg);
      writeFileSync(join(dir, `scene-${String(i).padStart(3, '0')}.jpg`), r.jpeg);
    }
    app = await startAppliance(
      demoConfig((c) => {
        c.stations = c.stations.filter((s) => s.id === 'gowning');
        const st = c.stations[0] as Record<string, unknown>;
        st.source = { type: 'replay', path: dir, fps: 4 };
        st.raiseAfterMs = 1500;
        st.clearAfterMs = 1500;
        st.zones = [{ id: 'A', polygon: [[0, 250], [640, 250], [640, 360], [0, 360]], require: ['gloves'] }];
        st.ppe = { headLabels: ['head_mask', 'head_no_mask'], items: { gloves: { missing: ['hand_bare'], worn: ['hand_glove'], code: 21 }, mask: { missing: ['head_no_mask'], code: 20 } } };
        c.plc.simulate = { windowMs: 1000, stations: {} };
      }),
    );
    const word = async (): Promise<number> => Number((await readTags(app!.sim!.endpoint, ['ns=1;s=gowning.AlarmWord']))[0]);
    await waitFor(async () => ((await word()) & 4) !== 0, 20_000, 'AlarmWord bit 2 at the PLC');
    await waitFor(async () => ((await word()) & 4) === 0, 20_000, 'AlarmWord bit 2 cleared');
    await app.recorder.flush();

    const db = new Database(app.store.file, { readonly: true });
    const alarms = db.prepare(`SELECT station_id AS source, raised_at AS raisedAt, cleared_at AS clearedAt FROM alarms WHERE category = 'ppeViolation'`).all() as Array<{ source: string; clearedAt: number | null }>;
    const ev = db.prepare(`SELECT e.path, i.frame_origin AS origin FROM evidence e JOIN inspections i ON i.id = e.inspection_id WHERE i.station_id = 'gowning'`).all() as Array<{ path: string; origin: string }>;
    const findings = db.prepare(`SELECT COUNT(*) AS n FROM inspections WHERE station_id = 'gowning' AND verdict = 'reject'`).get() as { n: number };
    db.close();
    expect(alarms).toHaveLength(1);
    expect(alarms[0]!.source).toMatch(/^gowning\/person-\d+$/);
    expect(alarms[0]!.clearedAt).not.toBeNull();
    expect(findings.n).toBeGreaterThan(0);
    // One evidence image: the frame that raised the alarm; no compliant frame is stored.
    expect(ev).toHaveLength(1);
    const i = Number(/scene-(\d+)/.exec(ev[0]!.origin)![1]);
    const stored = await sharp(app.evidence.absolute(ev[0]!.path)).toBuffer();
    const f = frames[i]!;
    // The face of a person placed at x, feet at y 334 (renderer geometry): centre about 262·s above the feet.
    const s = 0.92 + 16 / 250;
    const face = { x: f.x - 10 * s, y: 334 - 262 * s + 28 * s - 8 * s, w: 20 * s, h: 24 * s };
    const before = await laplacianVariance(originals[i]!, face);
    const after = await laplacianVariance(stored, face);
    console.log(`face Laplacian variance: original ${before.toFixed(1)}, evidence ${after.toFixed(1)}`);
    expect(after).toBeLessThan(before / 5);
  }, 60_000);
});
