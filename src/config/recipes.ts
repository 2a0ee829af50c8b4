import { ErrorCode, LinesideError } from '../domain/errors.js';
import type { Config, PartStationConfig, RecipeConfig, StationConfig } from './schema.js';

/** A recipe as the station runs it: the station's config with the recipe's keys applied. */
export interface StationRecipe {
  /** The PLC's RecipeIndex that selects it. */
  readonly index: number;
  readonly name: string | null;
  /** The station with this recipe's model, second stage and rules in place of its own. */
  readonly station: PartStationConfig;
}

/**
 * The recipes of a station, by index, in ascending order; null when the station has none (its own
 * config then serves every index the PLC selects).
 */
export function stationRecipes(station: StationConfig): StationRecipe[] | null {
  if (station.kind !== 'part' || station.recipes === undefined) return null;
  return Object.entries(station.recipes)
    .map(([key, r]) => ({ index: Number(key), name: r.name ?? null, station: applyRecipe(station, r) }))
    .sort((a, b) => a.index - b.index);
}

/** The one recipe of a station without `recipes`: its own config, named after nothing. */
export function ownRecipe(station: PartStationConfig, index: number): StationRecipe {
  return { index, name: null, station };
}

/** Every model key a station may run, its own and its recipes', so all are loaded and checked at start. */
export function stationModelKeys(station: StationConfig): string[] {
  const keys = new Set<string>([station.model]);
  if (station.secondStage) keys.add(station.secondStage.model);
  if (station.alongside) keys.add(station.alongside.model);
  if (station.kind === 'zone' && station.privacy.faceModel !== undefined) keys.add(station.privacy.faceModel);
  for (const r of stationRecipes(station) ?? []) {
    keys.add(r.station.model);
    if (r.station.secondStage) keys.add(r.station.secondStage.model);
  }
  return [...keys];
}

function applyRecipe(station: PartStationConfig, r: RecipeConfig): PartStationConfig {
  const rules = { ...station.rules };
  for (const [k, v] of Object.entries(r.rules ?? {})) if (v !== undefined) (rules as Record<string, unknown>)[k] = v;
  return {
    ...station,
    model: r.model ?? station.model,
    secondStage: r.secondStage === null ? undefined : (r.secondStage ?? station.secondStage),
    rules,
  };
}

/** What the schema cannot check about recipes; each message names the station, the recipe index and the key. */
export function checkRecipes(cfg: Config, label: string): void {
  for (const s of cfg.stations) {
    if (s.kind !== 'part' || s.recipes === undefined) continue;
    const fail = (key: string, message: string): never => {
      throw new LinesideError(ErrorCode.config, `${label}: station "${s.id}": ${key}: ${message}`);
    };
    if (s.trigger !== 'plc') fail('recipes', `needs trigger: plc (the PLC selects the recipe by RecipeIndex; this station has trigger: ${s.trigger})`);
    if (Object.keys(s.recipes).length === 0) fail('recipes', 'lists no recipe; omit the key to use the station\'s own model and rules for every index');
    const known = Object.keys(cfg.models).join(', ') || 'none';
    for (const [index, r] of Object.entries(s.recipes)) {
      if (r.model !== undefined && !(r.model in cfg.models)) fail(`recipes.${index}.model`, `"${r.model}" is not defined under models (defined: ${known})`);
      if (r.secondStage && !(r.secondStage.model in cfg.models)) {
        fail(`recipes.${index}.secondStage.model`, `"${r.secondStage.model}" is not defined under models (defined: ${known})`);
      }
      for (const [cls, c] of Object.entries(r.rules?.classes ?? {})) {
        if (c.reject !== undefined && c.inconclusive !== undefined && c.inconclusive > c.reject) {
          fail(`recipes.${index}.rules.classes.${cls}.inconclusive`, `${c.inconclusive} must not exceed reject (${c.reject})`);
        }
      }
    }
  }
}
