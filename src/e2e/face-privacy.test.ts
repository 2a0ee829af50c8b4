import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { renderGowning } from '../../scripts/lib/render-gowning.js';
import type { ConfigInput } from '../config/schema.js';
import type { Appliance } from '../main.js';
import { laplacianVariance } from '../vision/testing/sharpness.js';
import { demoConfig, signedIn, startAppliance, waitFor } from './harness.js';

/** One unmasked person standing in zone A (feet at x 320, y 334): the same frame over and over. */
async function scene(): Promise<{ dir: string; original: Buffer; face: { x: number; y: number; w: number; h: number } }> {
  const dir = mkdtempSync(join(tmpdir(), 'lineside-faces-'));
  const x = 320;
  const r = await renderGowning(5150, [], [{ mask: false, gloves: [true, true], x }]);
  for (let i = 0; i < 4; i++) writeFileSync(join(dir, `scene-${i}.jpg`), r.jpeg);
  // Renderer geometry (as in ppe-zone.test.ts): the face of a person with feet at y 334.
  const s = 0.92 + 16 / 250;
  return { dir, original: r.jpeg, face: { x: x - 10 * s, y: 334 - 262 * s + 20 * s, w: 20 * s, h: 24 * s } };
}

function gowningOnly(dir: string, privacy: Record<string, unknown>, models: Record<string, unknown> = {}): (c: ConfigInput) => void {
  return (c) => {
    c.stations = c.stations.filter((s) => s.id === 'gowning');
    Object.assign(c.models, models);
    const st = c.stations[0] as Record<string, unknown>;
    st.source = { type: 'replay', path: dir, fps: 4 };
    st.zones = [{ id: 'A', polygon: [[0, 250], [640, 250], [640, 360], [0, 360]], require: ['gloves'] }];
    st.ppe = { headLabels: ['head_mask', 'head_no_mask'], items: { gloves: { missing: ['hand_bare'], worn: ['hand_glove'], code: 21 }, mask: { missing: ['head_no_mask'], code: 20 } } };
    st.privacy = privacy;
    c.plc.simulate = { windowMs: 1000, stations: {} };
  };
}

/** The page's live view of the gowning station, once it has a frame. */
async function liveFrame(app: Appliance): Promise<Buffer> {
  const headers = await signedIn(app);
  let jpeg: Buffer | null = null;
  await waitFor(
    async () => {
      const res = await fetch(`${app.httpUrl}/api/stations/gowning/live.jpg`, { headers });
      if (res.status === 200) jpeg = Buffer.from(await res.arrayBuffer());
      return jpeg !== null;
    },
    15_000,
    'a live view frame',
  );
  return jpeg!;
}

function faceBlurs(app: Appliance): Array<{ faceBlur: string; models: string }> {
  const db = new Database(app.store.file, { readonly: true });
  try {
    // Frames are planned (and the face model run) only while stored or watched: the live view is watched here.
    return db.prepare(`SELECT face_blur AS faceBlur, model_versions AS models FROM inspections WHERE station_id = 'gowning' AND verdict != 'not_inspected' AND face_blur IS NOT NULL`).all() as Array<{ faceBlur: string; models: string }>;
  } finally {
    db.close();
  }
}

/** face_blur of every inspected frame so far. */
function allFaceBlurs(app: Appliance): Array<string | null> {
  const db = new Database(app.store.file, { readonly: true });
  try {
    return (db.prepare(`SELECT face_blur AS f FROM inspections WHERE station_id = 'gowning' AND verdict != 'not_inspected' ORDER BY id`).all() as Array<{ f: string | null }>).map((r) => r.f);
  } finally {
    db.close();
  }
}

describe('end to end: faces blurred in the live view and named in the record', () => {
  let app: Appliance | undefined;
  afterEach(async () => {
    await app?.stop();
    app = undefined;
  });

  it('with privacy.faceModel (BlazeFace from the npm package): the live view shows the face blurred, the record names the face model', async () => {
    const { dir, original, face } = await scene();
    app = await startAppliance(
      demoConfig(gowningOnly(dir, { faceModel: 'faces' }, { faces: { path: 'node_modules/@vladmandic/human/models/blazeface.json', manifest: 'config/pretrained/blazeface.manifest.yaml' } })),
    );
    const live = await liveFrame(app);
    const before = await laplacianVariance(original, face);
    const after = await laplacianVariance(live, face);
    console.log(`face model: face Laplacian variance, frame ${before.toFixed(1)}, live view ${after.toFixed(1)}`);
    expect(after).toBeLessThan(before / 5);
    await waitFor(() => faceBlurs(app!).length >= 3, 10_000, 'three inspections');
    const rows = faceBlurs(app);
    // BlazeFace finds this cartoon face itself: nothing left to the PPE model's head box.
    for (const r of rows) {
      expect(r.faceBlur).toBe('face model blazeface@human-3.3.6+c2b3e51d720d: 1 face');
      expect(JSON.parse(r.models)).toMatchObject({ faces: 'blazeface@human-3.3.6+c2b3e51d720d' });
    }
  }, 60_000);

  it('without a face model: the PPE model’s head box blurs the face in the live view, and the record says so', async () => {
    const { dir, original, face } = await scene();
    app = await startAppliance(demoConfig(gowningOnly(dir, {})));
    // Nobody watching, everyone compliant (nothing stored): no blur is planned for these frames.
    await waitFor(() => allFaceBlurs(app!).length >= 2, 10_000, 'two inspections');
    expect(allFaceBlurs(app).slice(0, 2)).toEqual([null, null]);
    const live = await liveFrame(app);
    const before = await laplacianVariance(original, face);
    const after = await laplacianVariance(live, face);
    console.log(`head boxes: face Laplacian variance, frame ${before.toFixed(1)}, live view ${after.toFixed(1)}`);
    expect(after).toBeLessThan(before / 5);
    await waitFor(() => faceBlurs(app!).length >= 3, 10_000, 'three inspections');
    for (const r of faceBlurs(app)) expect(r.faceBlur).toBe('station model boxes: 1');
  }, 60_000);

  it('a faceModel that is not a detector stops the station naming it and the key', async () => {
    const { dir } = await scene();
    await expect(startAppliance(demoConfig(gowningOnly(dir, { faceModel: 'cleaning' })))).rejects.toThrow(
      /station "gowning": (LINESIDE_ERR_CONFIG: )?privacy\.faceModel: model "cleaning" is a classify model \(softmax\); a face model must be a detector/,
    );
  }, 60_000);
});
