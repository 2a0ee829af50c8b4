import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import type { Appliance } from '../main.js';
import { renderHopper } from '../../scripts/lib/render-hopper.js';
import { demoConfig, E2E_PASSWORD, signedIn, startAppliance, waitFor } from './harness.js';

/**
 * Cleaning verification on the running appliance against the simulated PLC: a view set with
 * residue fails with residue area and location per view, raises cleaningFailed and holds Ready;
 * after cleaning, a re-check passes, releases Ready and is signed by a second verifier.
 */
describe('end to end: cleaning verification with residue localisation', () => {
  let app: Appliance | undefined;
  afterEach(async () => {
    await app?.stop();
    app = undefined;
  });

  it('fails on residue (area, box, alarm, Ready held), passes after cleaning (Ready released, signed)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lineside-cleaning-'));
    const views = join(dir, 'views');
    mkdirSync(views);
    // One piece of equipment: the same render seed, clean (the reference) and with residue.
    const clean = (await renderHopper(4242, false)).jpeg;
    const dirty = await renderHopper(4242, true);
    const reference = join(dir, 'HOP-7-clean.jpg');
    writeFileSync(reference, clean);
    for (let i = 0; i < 3; i++) writeFileSync(join(views, `v${i}.jpg`), dirty.jpeg);
    const config = demoConfig((c) => {
      c.plc.simulate = { windowMs: 1000, stations: { blister: { partsPerMinute: 0 } } };
      const hopper = c.stations.find((s) => s.id === 'hopper') as Record<string, unknown>;
      hopper.source = { type: 'replay', path: views, fps: 20 };
      hopper.residue = { references: { 'HOP-7': reference } };
      hopper.holdReadyUntilPass = true;
      // The demo classifier is trained on other renders; here the reference comparison decides.
      hopper.rules = { minScore: 0, classes: {} };
    });
    app = await startAppliance(config);
    const sim = app.sim!;
    await waitFor(() => sim.ready('hopper'), 20_000, 'hopper Ready');

    const failed = await app.stations.find((s) => s.config.id === 'hopper')!.requestCheck('olga', 'HOP-7', 'B-CHANGE-2');
    expect(failed?.verdict).toBe('reject');
    expect(failed?.requestedBy).toBe('olga');
    expect(failed?.partId).toBe('HOP-7');
    expect(failed?.batchId).toBe('B-CHANGE-2');
    const residue = failed!.findings.filter((f) => /^view\d:residue:reference$/.test(f.rule));
    expect(residue.length).toBeGreaterThanOrEqual(3);
    expect(residue[0]!.label).toMatch(/^residue \d+ px \(\d+\.\d\d%\) at \d+,\d+ \d+x\d+$/);
    // The first view's regions lie on the drawn residue.
    const truth = dirty.objects[0]!.box;
    const v1 = residue.filter((f) => f.rule.startsWith('view1:'));
    expect(v1.some((f) => Math.abs(f.box!.x - truth.x) < 20 && Math.abs(f.box!.y - truth.y) < 20)).toBe(true);
    expect(app.alarms.word('hopper') & (1 << 3)).not.toBe(0);
    await waitFor(() => !sim.ready('hopper'), 5_000, 'Ready held false after the failed check');

    // Cleaned: the same equipment, a little brighter light.
    const cleaned = await sharp(clean).linear(1.04, 2).jpeg({ quality: 90 }).toBuffer();
    for (let i = 0; i < 3; i++) writeFileSync(join(views, `v${i}.jpg`), cleaned);
    // The re-check as the page asks for it: the requester is audited with the record it made.
    const operator = await signedIn(app, 'operator');
    const res = await fetch(`${app.httpUrl}/api/stations/hopper/check`, { method: 'POST', headers: { ...operator, 'content-type': 'application/json' }, body: JSON.stringify({ equipmentId: 'HOP-7', batchId: 'B-CHANGE-2' }) });
    expect(res.status, await res.clone().text()).toBeLessThan(300);
    const passed = app.recorder.last('hopper')!;
    expect(passed.verdict).toBe('pass');
    expect(passed).toMatchObject({ partId: 'HOP-7', batchId: 'B-CHANGE-2', requestedBy: 'e2e-operator' });
    // Who asked is in the record itself, as stored and as the API serves it.
    expect(app.store.inspections.get(passed.id)?.requestedBy).toBe('e2e-operator');
    const served = (await (await fetch(`${app.httpUrl}/api/inspections/${passed.id}`, { headers: operator })).json()) as { requestedBy: string };
    expect(served.requestedBy).toBe('e2e-operator');
    // The batch report of the changeover lists both checks with who asked for each.
    const report = app.store.batchReport('B-CHANGE-2', { generatedBy: { user: 'e2e-qa', role: 'qa' } });
    expect(report.cleaningChecks.map((c) => [c.equipmentId, c.verdict, c.requestedBy])).toEqual([['HOP-7', 'reject', 'olga'], ['HOP-7', 'pass', 'e2e-operator']]);
    expect(app.audit.recent(20).find((e) => e.action === 'checkRequested')).toMatchObject({ objectId: String(passed.id), newValue: { equipmentId: 'HOP-7', batchId: 'B-CHANGE-2', verdict: 'pass' } });
    // Second verifier signs the passing record.
    const qa = await signedIn(app, 'supervisor');
    const signed = await fetch(`${app.httpUrl}/api/inspections/${passed.id}/sign`, { method: 'POST', headers: { ...qa, 'content-type': 'application/json' }, body: JSON.stringify({ password: E2E_PASSWORD }) });
    expect(signed.status, await signed.clone().text()).toBe(201);
    expect(app.records.reviews.inspectionWithReviews(passed.id)!.signatures).toEqual([expect.objectContaining({ meaning: 'verified', username: 'e2e-supervisor' })]);
    expect(app.alarms.word('hopper') & (1 << 3)).toBe(0);
    await waitFor(() => sim.ready('hopper'), 5_000, 'Ready released after the passing check');
  }, 60_000);
});
