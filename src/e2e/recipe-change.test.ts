import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { AlarmBit } from '../domain/alarm.js';
import { Appliance } from '../main.js';
import { silentLogger } from '../observability/logger.js';
import { readSimCounters, readTags } from '../plc/sim/sim-counters.client.js';
import { demoConfig, sleep, waitFor } from './harness.js';

describe('end to end: recipe changeover driven by the PLC', () => {
  let app: Appliance | undefined;
  afterEach(async () => {
    await app?.stop();
    app = undefined;
  });

  it('echoes the new RecipeIndex quickly, inspects the following parts with it, and survives an unknown index', async () => {
    app = await Appliance.start(
      demoConfig((c) => {
        c.plc.simulate = { windowMs: 1000, stations: { blister: { partsPerMinute: 300 } } };
      }),
      { logger: silentLogger() },
    );
    const sim = app.sim!;
    await waitFor(async () => (await fetch(`${app!.httpUrl}/healthz`)).status === 200, 15_000, 'all components healthy');
    await waitFor(() => sim.counters('blister').ResultsReceived >= 10, 15_000, 'ten parts on recipe 1');
    expect(sim.recipe('blister')).toMatchObject({ requested: 1, active: 1, waiting: false });

    sim.setRecipeIndex('blister', 2);
    const beforeChange = sim.counters('blister').PartsTriggered;
    await waitFor(() => !sim.recipe('blister').waiting, 5000, 'RecipeIndexActive = 2');
    const changeMs = sim.recipe('blister').lastChangeMs!;
    console.log(`recipe changeover 1 → 2: RecipeIndex written → RecipeIndexActive echoed in ${changeMs.toFixed(1)} ms`);
    expect(changeMs).toBeLessThan(1000);
    await waitFor(() => sim.counters('blister').ResultsReceived >= beforeChange + 10, 15_000, 'ten parts on recipe 2');

    // An index the station has no recipe for: the line stops (not Ready, alarm), the echo stays 2.
    sim.setRecipeIndex('blister', 9);
    await waitFor(() => app!.alarms.isActive('blister', 'recipeUnknown'), 5000, 'unknown-recipe alarm');
    // What the PLC reads: Ready false, alarm bit 8, RecipeIndexActive still the last good recipe.
    await waitFor(async () => (await readTags(sim.endpoint, ['ns=1;s=blister.Ready']))[0] === false, 5000, 'Ready cleared on the PLC');
    const [word, active] = await readTags(sim.endpoint, ['ns=1;s=blister.AlarmWord', 'ns=1;s=blister.RecipeIndexActive']);
    expect(Number(word) & (1 << AlarmBit.recipeUnknown)).not.toBe(0);
    expect(active).toBe(2);
    expect((await fetch(`${app.httpUrl}/healthz`)).status).toBe(503);
    expect(sim.recipe('blister')).toMatchObject({ requested: 9, active: 2, waiting: true });
    const whileUnknown = sim.counters('blister').PartsTriggered;
    await sleep(1000);
    expect(sim.counters('blister').PartsTriggered).toBe(whileUnknown);

    // Back to a known one: recovered.
    sim.setRecipeIndex('blister', 1);
    await waitFor(() => !sim.recipe('blister').waiting, 5000, 'RecipeIndexActive = 1');
    await waitFor(async () => (await fetch(`${app!.httpUrl}/healthz`)).status === 200, 5000, 'healthy again');
    expect(app.alarms.isActive('blister', 'recipeUnknown')).toBe(false);
    await waitFor(async () => (await readTags(sim.endpoint, ['ns=1;s=blister.Ready']))[0] === true, 5000, 'Ready back on the PLC');
    console.log(`recipe changeover 9 (unknown) → 1: echoed in ${sim.recipe('blister').lastChangeMs!.toFixed(1)} ms`);
    const back = sim.counters('blister').PartsTriggered;
    await waitFor(() => sim.counters('blister').ResultsReceived >= back + 5, 15_000, 'five parts on recipe 1 again');
    sim.setPartsPerMinute('blister', 0);
    await sleep(1500); // the last part's window closes

    const plcSaw = await readSimCounters(sim.endpoint, 'blister');
    expect(plcSaw.TimedOut).toBe(0);
    expect(plcSaw.Mismatched).toBe(0);
    expect(plcSaw.ResultsReceived).toBe(plcSaw.PartsTriggered);

    const db = new Database(app.store.file, { readonly: true });
    try {
      const rows = db
        .prepare(`SELECT trigger_count AS n, recipe_index AS recipe, recipe_name AS name, verdict, reason FROM inspections WHERE station_id = 'blister' ORDER BY trigger_count`)
        .all() as Array<{ n: number; recipe: number; name: string | null; verdict: string; reason: string | null }>;
      expect(rows).toHaveLength(plcSaw.PartsTriggered);
      // Recipe 1, then 2, then 1 again: each part carries the recipe it was inspected with, in one run per recipe.
      const runs = rows.map((r) => r.recipe).filter((r, i, all) => i === 0 || all[i - 1] !== r);
      expect(runs).toEqual([1, 2, 1]);
      const names: Record<number, string> = { 1: 'Tablet 10 mg', 2: 'Tablet 20 mg (tighter limits)' };
      expect(rows.filter((r) => r.name !== names[r.recipe])).toEqual([]);
      // The PLC held its conveyor during each change, so no part met a change halfway.
      expect(rows.filter((r) => (r.reason ?? '').includes('recipe'))).toEqual([]);
    } finally {
      db.close();
    }
    // The appliance's own audit trail (hash-chained, in its database).
    const changes = app.audit.between(0, Date.now() + 1).filter((e) => e.action === 'recipeChanged');
    expect(changes.map((e) => [e.action, e.actor.user, e.objectId, e.oldValue, e.newValue, e.reason])).toEqual([
      ['recipeChanged', 'system', 'blister', null, { index: 1, name: 'Tablet 10 mg' }, 'PLC RecipeIndex'],
      ['recipeChanged', 'system', 'blister', { index: 1, name: 'Tablet 10 mg' }, { index: 2, name: 'Tablet 20 mg (tighter limits)' }, 'PLC RecipeIndex'],
      ['recipeChanged', 'system', 'blister', { index: 2, name: 'Tablet 20 mg (tighter limits)' }, { index: 1, name: 'Tablet 10 mg' }, 'PLC RecipeIndex'],
    ]);
  }, 90_000);
});
