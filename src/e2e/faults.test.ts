import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { Appliance } from '../main.js';
import { freePort } from '../plc/free-port.js';
import { readSimCounters, readTags } from '../plc/sim/sim-counters.client.js';
import { writeBrokenModel } from '../vision/testing/broken-models.js';
import { startSimPlc, type SimPlc } from '../plc/sim/sim-plc.js';
import { demoConfig, ROOT, sleep, startAppliance, waitFor } from './harness.js';

describe('end to end: faults', () => {
  let app: Appliance | undefined;
  let sim: SimPlc | undefined;
  afterEach(async () => {
    await app?.stop();
    await sim?.stop();
    app = undefined;
    sim = undefined;
  });

  it('records a corrupt image as not inspected, tells the PLC 4, and keeps inspecting', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lineside-corrupt-'));
    copyFileSync(join(ROOT, 'fixtures/blister/blister-0000.jpg'), join(dir, 'a-good.jpg'));
    const jpeg = readFileSync(join(ROOT, 'fixtures/blister/blister-0001.jpg'));
    writeFileSync(join(dir, 'b-truncated.jpg'), jpeg.subarray(0, Math.floor(jpeg.length / 3)));
    app = await startAppliance(
      demoConfig((c) => {
        c.stations = c.stations.filter((s) => s.id === 'blister');
        c.stations[0]!.source = { type: 'replay', path: dir };
        c.plc.simulate = { windowMs: 1000, stations: { blister: { partsPerMinute: 240 } } };
      }),
    );
    await waitFor(() => app!.recorder.counters('blister').notInspected >= 2 && app!.recorder.counters('blister').pass + app!.recorder.counters('blister').reject >= 2, 20_000, 'good and corrupt images inspected');
    app.sim!.setPartsPerMinute('blister', 0);
    await sleep(1200);

    const db = new Database(app.store.file, { readonly: true });
    const bad = db
      .prepare(`SELECT i.verdict, i.reason, i.frame_origin AS origin, p.result FROM inspections i JOIN plc_answers p ON p.inspection_id = i.id WHERE i.frame_origin = 'b-truncated.jpg'`)
      .all() as Array<{ verdict: string; reason: string; result: number }>;
    db.close();
    expect(bad.length).toBeGreaterThanOrEqual(2);
    for (const row of bad) {
      expect(row.verdict).toBe('not_inspected');
      expect(row.reason).toContain('LINESIDE_ERR_IMAGE_DECODE');
      expect(row.result).toBe(4);
    }
    const plcSaw = await readSimCounters(app.sim!.endpoint, 'blister');
    expect(plcSaw.TimedOut).toBe(0);
    expect(plcSaw.ResultsReceived).toBe(plcSaw.PartsTriggered);
    // Not-inspected parts are rejected by the PLC, never passed.
    expect(plcSaw.Rejected).toBeGreaterThanOrEqual(bad.length);
  });

  it('keeps running without the PLC, reports it unhealthy, and connects by itself when it appears', async () => {
    const port = await freePort();
    app = await startAppliance(
      demoConfig((c) => {
        c.stations = c.stations.filter((s) => s.id === 'blister');
        c.plc.endpoint = `opc.tcp://127.0.0.1:${port}`;
        delete c.plc.simulate;
      }),
    );
    const health = async (): Promise<{ status: number; body: { components: Record<string, { state: string }> } }> => {
      const res = await fetch(`${app!.httpUrl}/healthz`);
      return { status: res.status, body: (await res.json()) as { components: Record<string, { state: string }> } };
    };
    await sleep(1500);
    const before = await health();
    expect(before.status).toBe(503);
    expect(before.body.components.plc!.state).not.toBe('ok');
    expect(before.body.components['blister.camera']!.state).toBe('ok');

    sim = await startSimPlc({ port, windowMs: 1000, interlockReady: true, stations: [{ id: 'blister', kind: 'part', partsPerMinute: 240 }] });
    await waitFor(async () => (await health()).status === 200, 20_000, 'the link to come up');
    await waitFor(() => app!.recorder.counters('blister').pass + app!.recorder.counters('blister').reject >= 5, 15_000, 'parts inspected');
    sim.setPartsPerMinute('blister', 0);
    await sleep(1200);
    const c = sim.counters('blister');
    expect(c.TimedOut).toBe(0);
    expect(c.ResultsReceived).toBe(c.PartsTriggered);
  });

  it('a model whose output is all zeros: its station never reports pass, the PLC sees the alarm and Ready drop', async () => {
    const dead = writeBrokenModel('all-zero');
    app = await startAppliance(
      demoConfig((c) => {
        c.stations = c.stations.filter((s) => s.id === 'blister');
        c.models = { blister: { path: dead.path, manifest: dead.manifest } };
        // The dead model alone: the demo's anomaly model alongside would still reject.
        delete (c.stations[0] as { alongside?: unknown }).alongside;
        c.stations[0]!.rules = { classes: {} }; // nothing could reject: only the model check stands between a part and pass
        c.plc.simulate = { windowMs: 1000, stations: { blister: { partsPerMinute: 600 } } };
      }),
    );
    const endpoint = app.sim!.endpoint;
    await waitFor(async () => {
      const [word] = await readTags(endpoint, ['ns=1;s=blister.AlarmWord']);
      return (Number(word) & 2) === 2; // bit 1: model unhealthy
    }, 20_000, 'AlarmWord bit 1 (model unhealthy) at the PLC');
    expect((await readTags(endpoint, ['ns=1;s=blister.Ready']))[0]).toBe(false);
    app.sim!.setPartsPerMinute('blister', 0);
    await sleep(1200);
    const plc = await readSimCounters(endpoint, 'blister');
    const counters = app.recorder.counters('blister');
    expect(counters.pass).toBe(0);
    expect(counters.notInspected).toBeGreaterThanOrEqual(5);
    expect(plc.Passed).toBe(0);
    expect(plc.TimedOut).toBe(0);
    expect(app.alarms.isActive('blister', 'modelUnhealthy')).toBe(true);
  });
});
