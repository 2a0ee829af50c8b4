import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import type { PartStationConfig } from '../config/schema.js';
import { demoConfig } from '../e2e/harness.js';
import { inspectFrame } from '../stations/inspect.js';
import { planPockets, renderBlister } from '../../scripts/lib/render-blister.js';
import { Rng } from '../../scripts/lib/rng.js';
import { inspectorFor } from '../stations/recipe-switch.js';
import { padded, singleStage, twoStage, withAlongside } from './inspector.js';
import { Model } from './model.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CARD = readFileSync(`${ROOT}fixtures/blister/blister-0003.jpg`);

describe('two-stage inspection by configuration', () => {
  let detector: Model;
  let classifier: Model;
  beforeAll(async () => {
    detector = await Model.load('blister', { path: `${ROOT}models/blister-detector.onnx`, workers: 1, threads: 1 });
    classifier = await Model.load('judge', { path: `${ROOT}models/cleaning-classifier.onnx`, workers: 2, threads: 1 });
  });
  afterAll(async () => {
    await detector?.close();
    await classifier?.close();
  });

  it('crops every region the detector finds and attaches the second model\'s answer to its box', async () => {
    const pipeline = twoStage(detector, classifier, { classes: ['tablet'], minScore: 0.5, pad: 0.1, maxRegions: 32 });
    const r = await pipeline.infer(CARD);
    if (r.output.kind !== 'detections') throw new Error('expected detections');
    const tablets = r.output.detections.filter((d) => d.label === 'tablet' && d.score >= 0.5);
    const judged = r.output.detections.filter((d) => d.label.startsWith('tablet/'));
    expect(tablets.length).toBeGreaterThanOrEqual(5);
    expect(judged).toHaveLength(tablets.length);
    // Each answer is exactly what the second model says about that crop of the original frame.
    for (const t of tablets) {
      const j = judged.find((d) => d.box === t.box)!;
      const alone = await classifier.infer(CARD, padded(t.box, 0.1, 640, 400));
      if (alone.output.kind !== 'scores') throw new Error('expected scores');
      const top = [...alone.output.scores].sort((a, b) => b.score - a.score)[0]!;
      expect(j.label).toBe(`tablet/${top.label}`);
      expect(j.score).toBeCloseTo(top.score, 6);
    }
    // Other labels are not passed on.
    expect(r.output.detections.some((d) => d.label.startsWith('empty_pocket/'))).toBe(false);
    expect(pipeline.versions).toEqual({ blister: detector.versionTag, judge: classifier.versionTag });
  });

  it('rules decide on the second stage\'s answer, and the record names both models', async () => {
    const cfg = demoConfig((c) => {
      c.models.judge = { path: 'models/cleaning-classifier.onnx' };
      const st = c.stations.find((s) => s.id === 'blister')!;
      st.secondStage = { model: 'judge', classes: ['tablet'], maxRegions: 3 };
      st.rules = { classes: { 'tablet/residue': { reject: 0, code: 77 } } };
    });
    const station = cfg.stations.find((s) => s.id === 'blister') as PartStationConfig;
    const pipeline = twoStage(detector, classifier, station.secondStage!);
    const insp = await inspectFrame(station, pipeline, { triggerCount: 1, partId: 'P1', batchId: null, recipeIndex: null, startedAt: Date.now() }, async () => ({ data: CARD, capturedAt: Date.now(), origin: 'card' }));
    expect(insp.record.modelVersions).toEqual({ blister: detector.versionTag, judge: classifier.versionTag });
    const judged = insp.record.findings.filter((f) => f.label.startsWith('tablet/'));
    expect(judged.length).toBe(3);
    // A rule on `tablet/residue` with reject 0 rejects as soon as the second model calls any tablet residue.
    const residue = judged.filter((f) => f.label === 'tablet/residue');
    expect(insp.record.verdict).toBe(residue.length > 0 ? 'reject' : 'pass');
    if (residue.length > 0) expect(insp.record.rejectCode).toBe(77);
  });

  it('a single model is the same inspector with one version', () => {
    expect(singleStage(detector).versions).toEqual({ blister: detector.versionTag });
  });

  it('refuses a second stage naming a model that is not defined', () => {
    const raw = structuredClone(demoConfig()) as unknown as { stations: Array<{ id: string; secondStage?: unknown }> };
    raw.stations.find((s) => s.id === 'blister')!.secondStage = { model: 'nope' };
    expect(() => parseConfig(raw, ROOT, 'line.yaml')).toThrow('line.yaml: station "blister": secondStage.model: "nope" is not defined under models (defined: blister, blister-anomaly, ppe, cleaning, faces)');
  });
});

describe('a taught anomaly model alongside the detector', () => {
  let detector: Model;
  let anomaly: Model;
  beforeAll(async () => {
    detector = await Model.load('blister', { path: `${ROOT}models/blister-detector.onnx`, workers: 1, threads: 1 });
    anomaly = await Model.load('anomaly', { path: `${ROOT}models/blister-anomaly.onnx`, workers: 1, threads: 1 });
  });
  afterAll(async () => {
    await detector?.close();
    await anomaly?.close();
  });
  const station = (): PartStationConfig => {
    const cfg = demoConfig((c) => {
      c.models.anomaly = { path: 'models/blister-anomaly.onnx' };
      const st = c.stations.find((s) => s.id === 'blister')!;
      st.alongside = { model: 'anomaly', explainedBy: ['empty_pocket', 'broken_tablet'] };
      st.rules = { minScore: 0.3, classes: { empty_pocket: { reject: 0.5, code: 10 }, broken_tablet: { reject: 0.5, code: 11 }, anomaly: { reject: 0.5, code: 19 } } };
    });
    return cfg.stations.find((s) => s.id === 'blister') as PartStationConfig;
  };
  const inspect = async (st: PartStationConfig, jpeg: Buffer) =>
    inspectFrame(st, inspectorFor(st, (k) => (k === 'anomaly' ? anomaly : detector)), { triggerCount: 1, partId: 'P1', batchId: null, recipeIndex: null, startedAt: Date.now() }, async () => ({ data: jpeg, capturedAt: Date.now(), origin: 'card' }));

  it('rejects what the detector has no class for (a speck on the foil) as anomaly, boxed where it is', async () => {
    const card = await renderBlister(777_001, planPockets(new Rng(3), 0), { particles: 1 });
    const speck = card.defects.find((d) => d.class === 'foreign_particle')!.box;
    const insp = await inspect(station(), card.jpeg);
    expect(insp.record.verdict).toBe('reject');
    expect(insp.record.rejectCode).toBe(19);
    const f = insp.record.findings.find((x) => x.label === 'anomaly' && x.effect === 'reject')!;
    const cx = speck.x + speck.w / 2;
    const cy = speck.y + speck.h / 2;
    expect(cx).toBeGreaterThanOrEqual(f.box!.x - 4);
    expect(cx).toBeLessThanOrEqual(f.box!.x + f.box!.w + 4);
    expect(cy).toBeGreaterThanOrEqual(f.box!.y - 4);
    expect(cy).toBeLessThanOrEqual(f.box!.y + f.box!.h + 4);
    expect(insp.record.modelVersions).toEqual({ blister: detector.versionTag, anomaly: anomaly.versionTag });
  });

  it('names the detector\'s class when it explains the anomaly, and passes a good card', async () => {
    const plan = planPockets(new Rng(4), 0).map((p, i) => (i === 6 ? 'empty_pocket' : p));
    const empty = await inspect(station(), (await renderBlister(777_002, plan)).jpeg);
    expect(empty.record.rejectCode).toBe(10);
    expect(empty.record.findings.some((f) => f.label === 'anomaly')).toBe(false);
    // Without explainedBy the same region is reported twice: by class and as an anomaly.
    const st = station();
    const unexplained = await inspect({ ...st, alongside: { ...st.alongside!, explainedBy: [] } }, (await renderBlister(777_002, plan)).jpeg);
    expect(unexplained.record.findings.some((f) => f.label === 'anomaly' && f.effect === 'reject')).toBe(true);
    const good = await inspect(station(), (await renderBlister(777_003, planPockets(new Rng(5), 0))).jpeg);
    expect(good.record.verdict).toBe('pass');
  });

  it('is down when the alongside model is down, naming it', () => {
    const pipeline = withAlongside(singleStage(detector), { ...anomaly, key: 'anomaly', versionTag: anomaly.versionTag, health: { value: { state: 'down', detail: 'canary failed' } } } as unknown as Model, { label: 'anomaly', explainedBy: [] });
    expect(pipeline.health.value).toMatchObject({ state: 'down', detail: 'alongside model anomaly: canary failed' });
  });
});
