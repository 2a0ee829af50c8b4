import type { PartStationConfig } from '../config/schema.js';
import { ErrorCode, isLinesideError, LinesideError } from '../domain/errors.js';
import { HealthState } from '../domain/health.js';
import type { PlcTrigger } from '../plc/plc-link.js';
import { inspectFrame, skipped, type Inspected } from './inspect.js';
import { RecipeSwitch } from './recipe-switch.js';
import { freeRunTimeoutMs, stationFps, Ticker, type Station, type StationDeps, type StationHealth } from './station.js';

/** A frame-triggered station waits this long per grab before checking whether it is stopping. */
const FRAME_WAIT_MS = 1000;

/**
 * Product inspection: one inspection per PLC trigger, per frame the source delivers (smart cameras
 * writing one file per part), or free-running. PLC triggers overlap in the pipeline (decode of part
 * n+1 while part n infers) but answers reach the PLC in trigger order. A trigger that finds the
 * queue full is answered not-inspected at once: never silently lost.
 */
export class PartStation implements Station {
  readonly config: PartStationConfig;
  readonly #d: StationDeps;
  #inFlight = 0;
  #chain: Promise<unknown> = Promise.resolve();
  #unsubscribe: (() => void) | null = null;
  #ticker: Ticker | null = null;
  #frameLoop: { stop: AbortController; done: Promise<void> } | null = null;
  #seq = 0;
  #unsubscribeRecipe: (() => void) | null = null;
  /** PLC-triggered stations only: the recipe in force, switched by the PLC's RecipeIndex. */
  readonly recipes: RecipeSwitch | null;

  constructor(config: PartStationConfig, deps: StationDeps) {
    this.config = config;
    this.#d = deps;
    this.recipes =
      config.trigger === 'plc' && deps.plc
        ? new RecipeSwitch({
            stationId: config.id,
            source: deps.recipes ?? { kind: 'own', recipe: (index) => ({ index, name: null, station: config, inspector: deps.model }) },
            plc: deps.plc,
            alarms: deps.alarms,
            audit: deps.audit,
            // Every part triggered so far is answered (the old recipe's, and the not-inspected ones
            // triggered during the change) before the new recipe is put in place and echoed.
            drained: async () => {
              let chain;
              do {
                chain = this.#chain;
                await chain;
              } while (chain !== this.#chain);
            },
            logger: deps.logger,
          })
        : null;
  }

  async start(): Promise<void> {
    await this.#d.source.start();
    switch (this.config.trigger) {
      case 'plc':
        if (!this.#d.plc) throw new LinesideError(ErrorCode.config, `station "${this.config.id}": trigger: plc needs a PLC link`);
        this.#unsubscribeRecipe = this.#d.plc.onRecipeIndex(this.config.id, (index) => this.recipes!.request(index));
        this.#unsubscribe = this.#d.plc.onTrigger(this.config.id, (t) => this.#onTrigger(t));
        break;
      case 'interval':
        this.#ticker = new Ticker(1000 / stationFps(this.config), () => this.#inspectFreeRunning());
        this.#ticker.start();
        break;
      case 'frame': {
        const stop = new AbortController();
        this.#frameLoop = { stop, done: this.#inspectEveryFrame(stop.signal) };
        break;
      }
    }
  }

  async stop(): Promise<void> {
    this.#unsubscribe?.();
    this.#unsubscribeRecipe?.();
    await this.#ticker?.stop();
    this.#frameLoop?.stop.abort();
    await this.#frameLoop?.done;
    await this.#chain;
    await this.#d.source.stop();
  }

  health(): StationHealth {
    const inspector = this.recipes?.active?.inspector ?? this.#d.model;
    return { camera: this.#d.source.health(), model: inspector.health.value, ...(this.recipes ? { recipe: this.recipes.health() } : {}) };
  }

  async requestCheck(): Promise<null> {
    throw new LinesideError(ErrorCode.badRequest, `station "${this.config.id}" is a part station; checks are triggered by the PLC`);
  }

  #onTrigger(t: PlcTrigger): void {
    const { metrics, logger } = this.#d;
    const ctx = { partId: t.partId, batchId: t.batchId, recipeIndex: t.recipeIndex, startedAt: t.receivedAt };
    if (t.missed > 0) {
      metrics.missedTriggers.inc({ station: this.config.id }, t.missed);
      this.#d.onMissedTriggers?.(t.missed);
      logger.warn({ stationId: this.config.id, missed: t.missed, triggerCount: t.count }, 'triggers missed between notifications');
      for (let k = t.missed; k >= 1; k--) {
        const missed = skipped(this.config, this.#d.model, { ...ctx, partId: null, triggerCount: t.count - k }, 'trigger missed (counter jumped); the PLC rejects the part');
        this.#chain = this.#chain.then(() => this.#d.recorder.commit(this.config, missed, null));
      }
    }
    // One recipe per part, taken now: a change that starts later never reaches this part halfway.
    const choice = this.recipes!.forTrigger(t.recipeIndex);
    if (!choice.ok) {
      metrics.drops.inc({ station: this.config.id, reason: 'recipe' });
      logger.warn({ stationId: this.config.id, triggerCount: t.count, partId: t.partId, reason: choice.reason }, 'part not inspected: no recipe in force');
      const refused = skipped(this.config, this.#d.model, { ...ctx, recipeIndex: choice.recipeIndex, triggerCount: t.count }, choice.reason);
      this.#chain = this.#chain.then(() => this.#d.recorder.commit(this.config, refused, t.count));
      return;
    }
    const { station, inspector, index, name } = choice.recipe;
    if (this.#inFlight >= this.config.queueDepth) {
      metrics.drops.inc({ station: this.config.id, reason: 'queue_full' });
      const dropped = skipped(station, inspector, { ...ctx, recipeIndex: index, recipeName: name, triggerCount: t.count }, `inspection queue full (${this.config.queueDepth})`);
      this.#chain = this.#chain.then(() => this.#d.recorder.commit(station, dropped, t.count));
      return;
    }
    this.#inFlight++;
    // The first frame taken after the trigger; none within maxFrameAgeMs → not inspected.
    const job = inspectFrame(
      station,
      inspector,
      { ...ctx, recipeIndex: index, recipeName: name, triggerCount: t.count },
      () => this.#d.source.grab({ after: t.receivedAt, timeoutMs: this.config.maxFrameAgeMs }),
      { maxFrameAgeMs: this.config.maxFrameAgeMs },
    );
    this.#chain = this.#chain.then(async () => this.#record(await job, t.count, station)).finally(() => this.#inFlight--);
  }

  async #inspectFreeRunning(): Promise<void> {
    const insp = await inspectFrame(
      this.config,
      this.#d.model,
      { triggerCount: ++this.#seq, partId: null, batchId: null, recipeIndex: null, startedAt: Date.now() },
      () => this.#d.source.grab({ timeoutMs: freeRunTimeoutMs(this.config) }),
      { maxFrameAgeMs: this.config.maxFrameAgeMs },
    );
    // A free-running camera that cannot deliver is a health problem, not a stream of part records.
    if (insp.frame === null && this.#d.source.health().state !== HealthState.ok) return;
    await this.#record(insp, null);
  }

  /**
   * One part per frame, in the order the source delivers them, each once. The frame is the
   * part's own image however long it waited (files that arrived while lineside was stopped), so
   * no age limit applies; the record carries the capture time.
   */
  async #inspectEveryFrame(stop: AbortSignal): Promise<void> {
    while (!stop.aborted) {
      let frame;
      try {
        frame = await this.#d.source.grab({ timeoutMs: FRAME_WAIT_MS, signal: stop });
      } catch (e) {
        if (stop.aborted || isLinesideError(e, ErrorCode.stopped)) return;
        // No new frame yet (a stopped line) is normal; other failures show in the source's health.
        if (this.#d.source.health().state !== HealthState.ok) await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      const got = frame;
      const insp = await inspectFrame(
        this.config,
        this.#d.model,
        { triggerCount: ++this.#seq, partId: null, batchId: null, recipeIndex: null, startedAt: Date.now() },
        async () => got,
      );
      await this.#record(insp, null);
    }
  }

  /** Record (and answer the PLC), then let the source move or mark the frame's file. */
  async #record(insp: Inspected, triggerCount: number | null, station: PartStationConfig = this.config): Promise<void> {
    await this.#d.recorder.commit(station, insp, triggerCount);
    if (insp.frame) {
      try {
        await this.#d.source.release?.(insp.frame);
      } catch (e) {
        this.#d.logger.error({ stationId: this.config.id, origin: insp.frame.origin, err: (e as Error).message }, 'could not move or mark the inspected file');
      }
    }
  }
}
