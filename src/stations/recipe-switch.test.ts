import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import type { PartStationConfig } from '../config/schema.js';
import type { AlarmCategory } from '../domain/alarm.js';
import type { Frame } from '../domain/frame.js';
import { HealthState } from '../domain/health.js';
import type { Roi } from '../domain/geometry.js';
import { Verdict } from '../domain/verdict.js';
import { silentLogger } from '../observability/logger.js';
import { Metrics } from '../observability/metrics.js';
import type { PlcTrigger } from '../plc/plc-link.js';
import type { AuditEntry, AuditRecord } from '../records/audit.js';
import type { FrameSource } from '../sources/frame-source.js';
import type { Inspector } from '../vision/inspector.js';
import type { InferResult } from '../vision/model.js';
import { TypedEmitter } from '../domain/typed-emitter.js';
import type { LinesideEvents } from '../domain/events.js';
import type { Inspected } from './inspect.js';
import { PartStation } from './part.station.js';
import { listedRecipes } from './recipe-switch.js';
import { Supervisor } from './supervisor.js';

/** A blister station with two recipes: 1 rejects an empty pocket at 0.5, 2 (another model and ROI) only at 0.7. */
function stationConfig(withRecipes = true): PartStationConfig {
  const cfg = parseConfig(
    {
      plc: { endpoint: 'opc.tcp://127.0.0.1:4840' },
      models: { det10: { path: 'det10.onnx' }, det14: { path: 'det14.onnx' } },
      stations: [
        {
          id: 'blister',
          kind: 'part',
          source: { type: 'replay', path: 'fixtures' },
          model: 'det10',
          rules: { roi: { x: 0, y: 0, w: 100, h: 100 }, classes: { empty_pocket: { reject: 0.5, code: 10 } } },
          recipes: withRecipes
            ? {
                1: { name: '10-count' },
                2: { name: '14-count', model: 'det14', rules: { roi: { x: 0, y: 0, w: 140, h: 100 }, classes: { empty_pocket: { reject: 0.7, code: 10 } } } },
              }
            : undefined,
        },
      ],
    },
    '/etc/lineside',
  );
  return cfg.stations[0] as PartStationConfig;
}

/** A model stand-in: finds one empty pocket at 0.6; each call waits until released when `hold` is set. */
function fakeModel(key: string) {
  const calls: Array<{ roi: Roi | undefined; release: () => void }> = [];
  let hold = false;
  const model = {
    key,
    versionTag: `${key}@1`,
    health: { value: { state: HealthState.ok, since: 0 } },
    calls,
    holdNext(on: boolean) {
      hold = on;
    },
    async infer(_img: unknown, roi?: Roi): Promise<InferResult> {
      await new Promise<void>((release) => {
        calls.push({ roi, release });
        if (!hold) release();
      });
      return {
        output: { kind: 'detections', detections: [{ classId: 0, label: 'empty_pocket', score: 0.6, box: { x: 10, y: 10, w: 5, h: 5 } }] },
        transform: { srcWidth: 200, srcHeight: 100 },
        preprocessMs: 0,
        inferMs: 1,
        decodeMs: 0,
      } as unknown as InferResult;
    },
  };
  return model;
}

function rig(withRecipes = true) {
  const config = stationConfig(withRecipes);
  const models = { det10: fakeModel('det10'), det14: fakeModel('det14') };
  const events: string[] = [];
  const commits: Array<{ record: Inspected['record']; resultCount: number | null; roi: Roi | undefined }> = [];
  const active = new Set<AlarmCategory>();
  const audit: AuditEntry[] = [];
  let trigger: ((t: PlcTrigger) => void) | null = null;
  let recipeIndex: ((n: number) => void) | null = null;
  const echoes: number[] = [];
  let ready: boolean | null = null;
  const source: FrameSource = {
    kind: 'replay',
    description: 'test frames',
    start: async () => undefined,
    stop: async () => undefined,
    grab: async () => ({ data: Buffer.alloc(3), width: 1, height: 1, channels: 3, capturedAt: Date.now(), origin: 'f.jpg' }) as unknown as Frame,
    health: () => ({ state: HealthState.ok, since: 0 }),
    stats: () => ({ framesReceived: 0, framesDropped: 0, restarts: 0, fps: 0, lastFrameAt: null, width: null, height: null }),
  };
  const modelOf = (key: string) => models[key as keyof typeof models] as never;
  const station = new PartStation(config, {
    source,
    model: { health: models.det10.health, versions: { det10: 'det10@1' }, infer: (i, r) => models.det10.infer(i, r) } as Inspector,
    recipes: listedRecipes(config, modelOf),
    recorder: {
      commit: async (st, insp, resultCount) => {
        commits.push({ record: insp.record, resultCount, roi: st.rules.roi });
        events.push(`answer ${resultCount}`);
        return null;
      },
    },
    alarms: { raise: (_s, c) => void active.add(c), clear: (_s, c) => void active.delete(c) },
    plc: {
      onTrigger: (_id, h) => ((trigger = h), () => (trigger = null)),
      onRecipeIndex: (_id, h) => ((recipeIndex = h), () => (recipeIndex = null)),
      setRecipeIndexActive: (_id, n) => {
        echoes.push(n);
        events.push(`echo ${n}`);
      },
    },
    audit: {
      append: (e: AuditEntry) => {
        audit.push(e);
        return { ...e, seq: audit.length, at: Date.now(), prevHash: '', hash: '' } as AuditRecord;
      },
    },
    metrics: new Metrics(),
    logger: silentLogger(),
  });
  const supervisor = new Supervisor([station], {
    plc: { health: () => ({ state: HealthState.ok, since: 0 }), setReady: (_id, r) => void (ready = r) },
    storage: () => ({ state: HealthState.ok, since: 0 }),
    alarms: { raise: () => undefined, clear: () => undefined },
    metrics: new Metrics(),
    bus: new TypedEmitter<LinesideEvents>(),
  });
  let count = 0;
  let plcRecipe = 1;
  return {
    station,
    models,
    commits,
    events,
    echoes,
    audit,
    active,
    ready: () => (supervisor.check(), ready),
    async start() {
      await station.start();
    },
    /** The PLC writes RecipeIndex. */
    selectRecipe(n: number) {
      plcRecipe = n;
      recipeIndex!(n);
    },
    /** The PLC triggers the next part (stamped with the RecipeIndex it last wrote). */
    triggerPart(stampedWith = plcRecipe) {
      count++;
      trigger!({ stationId: 'blister', counter: 'TriggerCount', count, partId: `P-${count}`, batchId: 'B1', recipeIndex: stampedWith, receivedAt: Date.now(), missed: 0 });
      return count;
    },
    settled: () => station.recipes!.settled(),
    async drain() {
      await station.stop();
    },
  };
}

const waitUntil = async (check: () => boolean): Promise<void> => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!check()) throw new Error('condition not reached');
};

describe('recipe changeover at the PLC RecipeIndex', () => {
  it('answers parts triggered during the change not-inspected, finishes the old parts first, then switches models, rules and ROI together and echoes', async () => {
    const r = rig();
    await r.start();
    r.selectRecipe(1);
    await r.settled();
    expect(r.echoes).toEqual([1]);

    // Part 1 is in the model (held there) when the PLC changes to recipe 2.
    r.models.det10.holdNext(true);
    r.triggerPart();
    await waitUntil(() => r.models.det10.calls.length === 1);
    r.selectRecipe(2);
    const during = r.triggerPart();
    // Nothing is echoed while the old recipe still has a part to answer.
    await new Promise((res) => setTimeout(res, 20));
    expect(r.echoes).toEqual([1]);
    r.models.det10.calls[0]!.release();
    await r.settled();
    const after = r.triggerPart();
    await r.drain();

    const byCount = new Map(r.commits.map((c) => [c.resultCount, c]));
    // The old part: the old recipe entirely (model det10, threshold 0.5 → reject, 100 px ROI).
    expect(byCount.get(1)!.record).toMatchObject({ recipeIndex: 1, recipeName: '10-count', verdict: Verdict.reject, modelVersions: { det10: 'det10@1' } });
    expect(r.models.det10.calls[0]!.roi).toEqual({ x: 0, y: 0, w: 100, h: 100 });
    // The part in between: not inspected, saying why; no model ran for it.
    expect(byCount.get(during)!.record.verdict).toBe(Verdict.notInspected);
    expect(byCount.get(during)!.record.reason).toBe('recipe change 1 → 2 in progress');
    // After the echo: the new recipe entirely (det14, threshold 0.7 → the same 0.6 pocket passes, 140 px ROI).
    expect(byCount.get(after)!.record).toMatchObject({ recipeIndex: 2, recipeName: '14-count', verdict: Verdict.pass, modelVersions: { det14: 'det14@1' } });
    expect(r.models.det14.calls.map((c) => c.roi)).toEqual([{ x: 0, y: 0, w: 140, h: 100 }]);
    expect(byCount.get(after)!.roi).toEqual({ x: 0, y: 0, w: 140, h: 100 });
    // In order: the old part's answer, the in-between answer, then the echo, then the new part.
    expect(r.events).toEqual(['echo 1', 'answer 1', `answer ${during}`, 'echo 2', `answer ${after}`]);
    // Audited: first selection and the change, by the system, with the reason.
    expect(r.audit).toEqual([
      { actor: { user: 'system', role: 'system' }, action: 'recipeChanged', objectType: 'station', objectId: 'blister', oldValue: null, newValue: { index: 1, name: '10-count' }, reason: 'PLC RecipeIndex' },
      { actor: { user: 'system', role: 'system' }, action: 'recipeChanged', objectType: 'station', objectId: 'blister', oldValue: { index: 1, name: '10-count' }, newValue: { index: 2, name: '14-count' }, reason: 'PLC RecipeIndex' },
    ]);
  });

  it('inspects a part the PLC raised just before the change with the old recipe, and echoes only after it is answered', async () => {
    const r = rig();
    await r.start();
    r.selectRecipe(1);
    await r.settled();
    r.models.det10.holdNext(true);
    r.selectRecipe(2);
    // Reaches the station after the new RecipeIndex, but the PLC stamped it before (old product).
    const late = r.triggerPart(1);
    await waitUntil(() => r.models.det10.calls.length === 1);
    expect(r.echoes).toEqual([1]);
    r.models.det10.calls[0]!.release();
    await r.settled();
    await r.drain();
    expect(r.commits.find((c) => c.resultCount === late)!.record).toMatchObject({ recipeIndex: 1, verdict: Verdict.reject, modelVersions: { det10: 'det10@1' } });
    expect(r.events).toEqual(['echo 1', `answer ${late}`, 'echo 2']);
  });

  it('stops the station on an unknown index (not inspected, alarm, not Ready, echo kept) and recovers when the PLC goes back', async () => {
    const r = rig();
    await r.start();
    r.selectRecipe(2);
    await r.settled();
    expect(r.ready()).toBe(true);

    r.selectRecipe(7);
    await r.settled();
    const refused = r.triggerPart();
    await new Promise((res) => setTimeout(res, 10));
    expect(r.active.has('recipeUnknown')).toBe(true);
    expect(r.ready()).toBe(false);
    expect(r.station.health().recipe?.detail).toBe('recipe 7 is not configured for station "blister" (configured: 1, 2); recipe 2 stays active on the PLC');
    expect(r.echoes).toEqual([2]);

    r.selectRecipe(1);
    await r.settled();
    expect(r.active.has('recipeUnknown')).toBe(false);
    expect(r.ready()).toBe(true);
    expect(r.echoes).toEqual([2, 1]);
    const inspected = r.triggerPart();
    await r.drain();

    const refusedRecord = r.commits.find((c) => c.resultCount === refused)!.record;
    expect(refusedRecord.verdict).toBe(Verdict.notInspected);
    expect(refusedRecord.recipeIndex).toBe(7);
    expect(refusedRecord.reason).toContain('recipe 7 is not configured for station "blister"');
    expect(r.commits.find((c) => c.resultCount === inspected)!.record).toMatchObject({ recipeIndex: 1, verdict: Verdict.reject });
    // Only real changes are audited: 2, then 2 → 1 (the unknown 7 was never in force).
    expect(r.audit.map((a) => a.newValue)).toEqual([{ index: 2, name: '14-count' }, { index: 1, name: '10-count' }]);
  });

  it('is not Ready and inspects nothing before the PLC has selected a recipe', async () => {
    const r = rig();
    await r.start();
    expect(r.ready()).toBe(false);
    r.triggerPart();
    await r.drain();
    expect(r.commits[0]!.record.verdict).toBe(Verdict.notInspected);
    expect(r.commits[0]!.record.reason).toBe('no recipe selected by the PLC yet (RecipeIndex not received)');
    expect(r.models.det10.calls).toHaveLength(0);
  });

  it('without recipes, runs its own model and rules for every index and echoes whichever the PLC selects', async () => {
    const r = rig(false);
    await r.start();
    r.selectRecipe(5);
    await r.settled();
    const part = r.triggerPart();
    await r.drain();
    expect(r.echoes).toEqual([5]);
    expect(r.commits.find((c) => c.resultCount === part)!.record).toMatchObject({ recipeIndex: 5, recipeName: null, verdict: Verdict.reject });
  });

  it('repeats the echo when the PLC sends the same index again, without a new audit entry', async () => {
    const r = rig();
    await r.start();
    r.selectRecipe(1);
    await r.settled();
    r.selectRecipe(1);
    await r.settled();
    await r.drain();
    expect(r.echoes).toEqual([1, 1]);
    expect(r.audit).toHaveLength(1);
  });
});
