import { stationRecipes, type StationRecipe } from '../config/recipes.js';
import type { StationConfig } from '../config/schema.js';
import { HealthCell, HealthState, type ComponentHealth } from '../domain/health.js';
import type { Logger } from '../observability/logger.js';
import type { PlcLink } from '../plc/plc-link.js';
import { SYSTEM, type AuditLog } from '../records/audit.js';
import { singleStage, twoStage, withAlongside, type Inspector } from '../vision/inspector.js';
import type { Model } from '../vision/model.js';
import type { AlarmCenter } from './alarm-center.js';

/** A recipe ready to run: its config and its models (loaded and checked at start). */
export interface LoadedRecipe extends StationRecipe {
  readonly inspector: Inspector;
}

/** What a trigger gets: the recipe to inspect it with, or why it is not inspected. */
export type RecipeChoice = { readonly ok: true; readonly recipe: LoadedRecipe } | { readonly ok: false; readonly reason: string; readonly recipeIndex: number | null };

/**
 * Where a station without `recipes` gets its recipe: its own config serves every index, so a
 * changeover only drains the old product's parts and echoes the new index.
 */
export type RecipeSource = { readonly kind: 'listed'; readonly recipes: ReadonlyMap<number, LoadedRecipe> } | { readonly kind: 'own'; readonly recipe: (index: number) => LoadedRecipe };

export interface RecipeSwitchDeps {
  readonly stationId: string;
  readonly source: RecipeSource;
  readonly plc: Pick<PlcLink, 'setRecipeIndexActive'>;
  readonly alarms: Pick<AlarmCenter, 'raise' | 'clear'>;
  readonly audit?: Pick<AuditLog, 'append'>;
  /** Resolves once every part triggered so far has been answered (the old recipe's last parts). */
  readonly drained: () => Promise<unknown>;
  readonly logger: Logger;
}

type State =
  | { readonly kind: 'none' }
  | { readonly kind: 'active' }
  | { readonly kind: 'changing'; readonly to: number }
  | { readonly kind: 'unknown'; readonly requested: number };

/**
 * A part station's recipe, driven by the PLC's RecipeIndex. A change is a clean cut: parts
 * triggered before it finish with the old recipe, parts triggered while it is in progress are
 * answered not-inspected, and only when all of them are answered is the new recipe put in place
 * (one assignment: models, rules and ROI together) and RecipeIndexActive written. An index with no
 * recipe stops the station (not-inspected, alarm, not Ready) while RecipeIndexActive keeps the
 * last good one.
 */
export class RecipeSwitch {
  readonly #d: RecipeSwitchDeps;
  #active: LoadedRecipe | null = null;
  #state: State = { kind: 'none' };
  /** Bumped by every request, so a change overtaken by a newer one does not complete. */
  #generation = 0;
  #settled: Promise<void> = Promise.resolve();
  readonly #health = new HealthCell(HealthState.down, 'waiting for the PLC to select a recipe (RecipeIndex)');

  constructor(deps: RecipeSwitchDeps) {
    this.#d = deps;
  }

  /** The recipe in use (null before the PLC selected one). */
  get active(): LoadedRecipe | null {
    return this.#active;
  }

  /** Resolves when the latest request has been handled (switched, or found unknown). */
  settled(): Promise<void> {
    return this.#settled;
  }

  /** The PLC wrote RecipeIndex (or the subscription delivered its current value). */
  request(index: number): void {
    const generation = ++this.#generation;
    if (this.#state.kind === 'active' && this.#active?.index === index) {
      // The same recipe again (e.g. after a reconnection): nothing changes, the echo is repeated.
      this.#d.plc.setRecipeIndexActive(this.#d.stationId, index);
      return;
    }
    this.#state = { kind: 'changing', to: index };
    this.#health.set(HealthState.down, `changing recipe to ${index}`);
    this.#d.logger.info({ stationId: this.#d.stationId, from: this.#active?.index ?? null, to: index }, 'recipe change requested by the PLC');
    this.#settled = this.#change(index, generation);
  }

  /** The recipe for a part the PLC triggered with `triggerRecipeIndex`, or why it is not inspected. */
  forTrigger(triggerRecipeIndex: number): RecipeChoice {
    const s = this.#state;
    switch (s.kind) {
      case 'none':
        return { ok: false, reason: 'no recipe selected by the PLC yet (RecipeIndex not received)', recipeIndex: triggerRecipeIndex };
      case 'changing':
        // Raised by the PLC before it wrote the new RecipeIndex: a part of the old product, inspected
        // with the old recipe, which stays whole until this part is answered.
        if (this.#active !== null && triggerRecipeIndex === this.#active.index) return { ok: true, recipe: this.#active };
        return { ok: false, reason: `recipe change ${this.#active?.index ?? 'none'} → ${s.to} in progress`, recipeIndex: triggerRecipeIndex };
      case 'unknown':
        return { ok: false, reason: this.#unknownReason(s.requested), recipeIndex: triggerRecipeIndex };
      case 'active': {
        const recipe = this.#active!;
        // The trigger was stamped with another index than the one in force: neither recipe fits it for sure.
        if (triggerRecipeIndex !== recipe.index) {
          return { ok: false, reason: `part triggered for recipe ${triggerRecipeIndex} while recipe ${recipe.index} is active`, recipeIndex: triggerRecipeIndex };
        }
        return { ok: true, recipe };
      }
    }
  }

  /** Down while no recipe is in force (none yet, changing, or unknown index): part of Ready. */
  health(): ComponentHealth {
    return this.#health.value;
  }

  async #change(index: number, generation: number): Promise<void> {
    const { stationId, logger, alarms, plc } = this.#d;
    const startedAt = performance.now();
    try {
      await this.#d.drained();
    } catch (e) {
      // Answering is the recorder's job and never throws; a failure here is logged and the change goes on.
      logger.error({ stationId, err: (e as Error).message }, 'waiting for the parts of the old recipe failed');
    }
    if (generation !== this.#generation) return;
    const next = this.#lookup(index);
    if (next === null) {
      this.#state = { kind: 'unknown', requested: index };
      this.#health.set(HealthState.down, this.#unknownReason(index));
      alarms.raise(stationId, 'recipeUnknown', 'critical', this.#unknownReason(index));
      logger.error({ stationId, recipeIndex: index, active: this.#active?.index ?? null }, 'PLC selected a recipe this station does not have');
      return;
    }
    const previous = this.#active;
    this.#active = next;
    this.#state = { kind: 'active' };
    this.#health.set(HealthState.ok, next.name ? `recipe ${next.index} (${next.name})` : `recipe ${next.index}`);
    alarms.clear(stationId, 'recipeUnknown');
    plc.setRecipeIndexActive(stationId, index);
    const changeMs = performance.now() - startedAt;
    logger.info({ stationId, from: previous?.index ?? null, to: index, name: next.name, changeMs }, 'recipe active');
    if (previous?.index !== next.index) this.#audit(previous, next);
  }

  #lookup(index: number): LoadedRecipe | null {
    const src = this.#d.source;
    return src.kind === 'own' ? src.recipe(index) : (src.recipes.get(index) ?? null);
  }

  #audit(previous: LoadedRecipe | null, next: LoadedRecipe): void {
    const { audit, stationId, logger } = this.#d;
    if (!audit) return;
    const entry = {
      actor: SYSTEM,
      action: 'recipeChanged' as const,
      objectType: 'station',
      objectId: stationId,
      oldValue: previous === null ? null : { index: previous.index, name: previous.name },
      newValue: { index: next.index, name: next.name },
      reason: 'PLC RecipeIndex',
    };
    try {
      audit.append(entry);
    } catch (e) {
      // The line follows its PLC either way; the entry goes to the log so it can be re-entered.
      logger.error({ stationId, audit: entry, err: (e as Error).message }, 'recipe change could not be written to the audit trail');
    }
  }

  #unknownReason(index: number): string {
    const src = this.#d.source;
    const known = src.kind === 'listed' ? [...src.recipes.keys()].join(', ') : '';
    const keeps = this.#active ? `; recipe ${this.#active.index} stays active on the PLC` : '';
    return `recipe ${index} is not configured for station "${this.#d.stationId}" (configured: ${known})${keeps}`;
  }
}

/** The inspector a station config asks for: its model, with a second stage and/or a model alongside. */
export function inspectorFor(station: StationConfig, modelOf: (key: string) => Model): Inspector {
  const main = station.secondStage ? twoStage(modelOf(station.model), modelOf(station.secondStage.model), station.secondStage) : singleStage(modelOf(station.model));
  return station.alongside ? withAlongside(main, modelOf(station.alongside.model), station.alongside) : main;
}

/** A station's configured recipes with their (already loaded) models; undefined without `recipes`. */
export function listedRecipes(station: StationConfig, modelOf: (key: string) => Model): RecipeSource | undefined {
  const recipes = stationRecipes(station);
  if (recipes === null) return undefined;
  return { kind: 'listed', recipes: new Map(recipes.map((r) => [r.index, { ...r, inspector: inspectorFor(r.station, modelOf) }])) };
}
