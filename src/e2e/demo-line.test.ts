import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { Appliance } from '../main.js';
import { readSimCounters } from '../plc/sim/sim-counters.client.js';
import { demoConfig, signedIn, sleep, startAppliance, waitFor } from './harness.js';

/**
 * The whole appliance against the simulated PLC on free ports: the PLC's own tallies, read over
 * OPC UA, must show every triggered part answered within its window with the right part ID, and
 * every answer must be in SQLite.
 */
describe('end to end: simulated PLC ↔ appliance', () => {
  let app: Appliance | undefined;
  afterEach(async () => {
    await app?.stop();
    app = undefined;
  });

  it('answers every triggered part in time, with the right part ID, and records each one', async () => {
    app = await startAppliance(
      demoConfig((c) => {
        c.plc.simulate = { windowMs: 1000, stations: { blister: { partsPerMinute: 300 } } };
      }),
    );
    const sim = app.sim!;
    await waitFor(async () => (await fetch(`${app!.httpUrl}/healthz`)).status === 200, 15_000, 'all components healthy');
    await sleep(8000);
    sim.setPartsPerMinute('blister', 0);
    await sleep(1500); // the last part's window closes

    const plcSaw = await readSimCounters(sim.endpoint, 'blister');
    expect(plcSaw.PartsTriggered).toBeGreaterThanOrEqual(30);
    expect(plcSaw.ResultsReceived).toBe(plcSaw.PartsTriggered);
    expect(plcSaw.TimedOut).toBe(0);
    expect(plcSaw.Mismatched).toBe(0);
    expect(plcSaw.Passed + plcSaw.Rejected).toBe(plcSaw.ResultsReceived);
    // The fixtures include defective blisters: the line must see real rejects, not only passes.
    expect(plcSaw.Rejected).toBeGreaterThan(0);
    expect(plcSaw.Passed).toBeGreaterThan(0);

    const db = new Database(app.store.file, { readonly: true });
    try {
      const rows = db
        .prepare(`SELECT i.trigger_count AS n, i.part_id AS part, i.verdict, p.result, p.error FROM inspections i JOIN plc_answers p ON p.inspection_id = i.id WHERE i.station_id = 'blister' ORDER BY i.trigger_count`)
        .all() as Array<{ n: number; part: string; verdict: string; result: number; error: string | null }>;
      expect(rows.map((r) => r.n)).toEqual(Array.from({ length: plcSaw.PartsTriggered }, (_, i) => i + 1));
      expect(rows.every((r) => r.error === null && /^BLISTER-\d+$/.test(r.part))).toBe(true);
      expect(rows.filter((r) => r.result === 1)).toHaveLength(plcSaw.Passed);
      const rejectsWithEvidence = db.prepare(`SELECT COUNT(*) AS n FROM inspections i JOIN evidence e ON e.inspection_id = i.id WHERE i.station_id = 'blister' AND i.verdict = 'reject'`).get() as { n: number };
      const rejects = db.prepare(`SELECT COUNT(*) AS n FROM inspections WHERE station_id = 'blister' AND verdict = 'reject'`).get() as { n: number };
      // Every blister reject keeps its evidence image with the boxes drawn.
      expect(rejects.n).toBeGreaterThan(0);
      expect(rejectsWithEvidence.n).toBe(rejects.n);
    } finally {
      db.close();
    }

    const stations = (await (await fetch(`${app.httpUrl}/api/stations`, { headers: await signedIn(app) })).json()) as Array<{ id: string; counters: Record<string, number> }>;
    const blister = stations.find((s) => s.id === 'blister')!;
    expect(Object.values(blister.counters).reduce((a, b) => a + b, 0)).toBe(plcSaw.PartsTriggered);
    const metrics = await (await fetch(`${app.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/lineside_inspections_total\{station="blister",verdict="pass"\} \d+/);
    expect(metrics).toContain('lineside_inspection_duration_seconds_count{station="blister"}');
  });
});

describe('end to end: a secured PLC link', () => {
  let app: Appliance | undefined;
  afterEach(async () => {
    await app?.stop();
    app = undefined;
  });

  it('runs the line over SignAndEncrypt with a user whose password is in a secrets file', async () => {
    const config = demoConfig((c) => {
      const secret = join(c.dataDir!, 'plc-password');
      writeFileSync(secret, 's3cret-plc\n', { mode: 0o600 });
      c.plc.security = { mode: 'SignAndEncrypt', policy: 'Aes256_Sha256_RsaPss', user: { userName: 'vision', passwordFile: secret } };
      c.plc.simulate = { windowMs: 1500, stations: { blister: { partsPerMinute: 240 } } };
    });
    app = await startAppliance(config);
    const sim = app.sim!;
    await waitFor(async () => (await fetch(`${app!.httpUrl}/healthz`)).status === 200, 30_000, 'all components healthy');
    await waitFor(() => sim.counters('blister').ResultsReceived >= 10, 20_000, 'ten answered parts');
    sim.setPartsPerMinute('blister', 0);
    await sleep(2000);

    const plcSaw = sim.counters('blister');
    expect(plcSaw.ResultsReceived).toBe(plcSaw.PartsTriggered);
    expect(plcSaw.TimedOut).toBe(0);
    expect(plcSaw.Mismatched).toBe(0);
    // The link's own certificate was made on first start in <dataDir>/pki; the password never reaches the page.
    expect(readdirSync(join(config.dataDir, 'pki', 'own', 'certs'))).toContain('client_certificate.pem');
    const page = await (await fetch(`${app.httpUrl}/api/stations`, { headers: await signedIn(app) })).text();
    expect(page).not.toContain('s3cret-plc');
  }, 60_000);
});
