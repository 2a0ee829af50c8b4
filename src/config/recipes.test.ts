import { describe, expect, it } from 'vitest';
import { parseConfig } from './load.js';
import { stationModelKeys, stationRecipes } from './recipes.js';
import { configError } from './testing.js';

const base = (recipes: unknown, extra: Record<string, unknown> = {}) => ({
  plc: { endpoint: 'opc.tcp://127.0.0.1:4840' },
  models: { det: { path: 'models/det.onnx' }, det2: { path: 'models/det2.onnx' }, cls: { path: 'models/cls.onnx' } },
  stations: [
    {
      id: 'blister',
      kind: 'part',
      source: { type: 'replay', path: 'fixtures/blister' },
      model: 'det',
      secondStage: { model: 'cls' },
      rules: { roi: { x: 0, y: 0, w: 100, h: 50 }, minScore: 0.3, classes: { empty_pocket: { reject: 0.5, code: 10 } } },
      recipes,
      ...extra,
    },
  ],
});

describe('station recipes in the config', () => {
  it("applies each recipe's keys over the station's own and leaves the rest as the station has them", () => {
    const cfg = parseConfig(
      base({
        1: { name: '10-count blister' },
        2: { name: '14-count blister', model: 'det2', secondStage: null, rules: { classes: { empty_pocket: { reject: 0.7, code: 12 } } } },
      }),
      '/etc/lineside',
    );
    const [one, two] = stationRecipes(cfg.stations[0]!)!;
    expect(one!.index).toBe(1);
    expect(one!.name).toBe('10-count blister');
    expect(one!.station.model).toBe('det');
    expect(one!.station.secondStage?.model).toBe('cls');
    expect(two!.station.model).toBe('det2');
    expect(two!.station.secondStage).toBeUndefined();
    expect(two!.station.rules.classes).toEqual({ empty_pocket: { reject: 0.7, code: 12 } });
    // Keys the recipe does not name stay the station's.
    expect(two!.station.rules.roi).toEqual({ x: 0, y: 0, w: 100, h: 50 });
    expect(two!.station.rules.minScore).toBe(0.3);
    // Every model any recipe may switch to is loaded at start.
    expect(stationModelKeys(cfg.stations[0]!).sort()).toEqual(['cls', 'det', 'det2']);
  });

  it('a station without recipes has none (its own config serves every index)', () => {
    const cfg = parseConfig(base(undefined), '/etc/lineside');
    expect(stationRecipes(cfg.stations[0]!)).toBeNull();
  });

  it('names the station, the recipe index and the key of a bad recipe', () => {
    expect(configError(base({ 2: { model: 'nope' } }))).toBe(
      'line.yaml: station "blister": recipes.2.model: "nope" is not defined under models (defined: det, det2, cls)',
    );
    expect(configError(base({ 3: { secondStage: { model: 'gone' } } }))).toContain('station "blister": recipes.3.secondStage.model: "gone" is not defined under models');
    expect(configError(base({ 4: { rules: { minScore: 2 } } }))).toMatch(/^line\.yaml: station "blister": recipes\.4\.rules\.minScore: /);
    expect(configError(base({ 5: { rules: { classes: { empty_pocket: { reject: 0.4, inconclusive: 0.6 } } } } }))).toContain(
      'station "blister": recipes.5.rules.classes.empty_pocket.inconclusive: 0.6 must not exceed reject (0.4)',
    );
    expect(configError(base({ 6: { maxFrameAgeMs: 100 } }))).toContain('station "blister": recipes.6: unknown key "maxFrameAgeMs"');
  });

  it('refuses a recipe index the PLC cannot send', () => {
    expect(configError(base({ small: { name: 'x' } }))).toContain('station "blister": recipes');
    expect(configError(base({ small: { name: 'x' } }))).toContain('recipe index must be a whole number from 0 to 32767');
    expect(configError(base({ 40000: { name: 'x' } }))).toContain('recipe index must be a whole number from 0 to 32767');
  });

  it('refuses recipes on a station the PLC does not trigger, and an empty list', () => {
    expect(configError(base({ 1: {} }, { trigger: 'interval' }))).toContain('station "blister": recipes: needs trigger: plc');
    expect(configError(base({}))).toContain('station "blister": recipes: lists no recipe');
  });
});
