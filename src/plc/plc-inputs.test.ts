import { describe, expect, it } from 'vitest';
import { silentLogger } from '../observability/logger.js';
import { PlcInputs } from './plc-inputs.js';
import type { PlcTrigger } from './plc-link.js';
import { resolveTagMap } from './tags.js';

function inputs(): PlcInputs {
  return new PlcInputs([{ id: 'blister', tags: resolveTagMap('blister', { tags: {} }), counter: 'TriggerCount' }], 2000, silentLogger());
}
const change = (tag: 'RecipeIndex' | 'TriggerCount' | 'PartId', value: unknown, at = 1) => ({ stationId: 'blister', tag, value, sourceTime: at, receivedAt: at });

describe('PlcInputs: RecipeIndex', () => {
  it('tells the station of a RecipeIndex change before a trigger that carries it', () => {
    const p = inputs();
    const seen: string[] = [];
    p.onRecipeIndex('blister', (n) => seen.push(`recipe ${n}`));
    p.onTrigger('blister', (t: PlcTrigger) => seen.push(`trigger ${t.count} recipe ${t.recipeIndex}`));
    p.change(change('RecipeIndex', 1));
    p.change(change('TriggerCount', 10));
    p.change(change('RecipeIndex', 2));
    p.change(change('PartId', 'P-11'));
    p.change(change('TriggerCount', 11));
    expect(seen).toEqual(['recipe 1', 'recipe 2', 'trigger 11 recipe 2']);
  });

  it('stamps a part raised before the RecipeIndex change with the old index, even when both arrive in one notification', () => {
    const p = inputs();
    const seen: string[] = [];
    p.onTrigger('blister', (t: PlcTrigger) => seen.push(`trigger ${t.count} recipe ${t.recipeIndex}`));
    p.change(change('RecipeIndex', 1, 100));
    p.change(change('TriggerCount', 10, 100));
    // The PLC raised part 11 at t=200 and wrote RecipeIndex 2 at t=201; counters are handled last.
    p.change(change('PartId', 'P-11', 200));
    p.change(change('RecipeIndex', 2, 201));
    p.change(change('TriggerCount', 11, 200));
    p.change(change('PartId', 'P-12', 300));
    p.change(change('TriggerCount', 12, 300));
    expect(seen).toEqual(['trigger 11 recipe 1', 'trigger 12 recipe 2']);
  });

  it('gives a station that subscribes late the PLC’s current RecipeIndex at once', () => {
    const p = inputs();
    p.change(change('RecipeIndex', 3));
    const seen: number[] = [];
    p.onRecipeIndex('blister', (n) => seen.push(n));
    expect(seen).toEqual([3]);
  });

  it('refuses a station it does not follow, by name', () => {
    expect(() => inputs().onRecipeIndex('capper', () => undefined)).toThrow(/no triggered station capper/);
  });
});
