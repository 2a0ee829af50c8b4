import type { PartStationConfig } from '../config/schema.js';
import { HealthState } from '../domain/health.js';
import type { PlcTrigger } from '../plc/plc-link.js';
import { inspectFrame, skipped } from './inspect.js';
import { Ticker, type Station, type StationDeps, type StationHealth } from './station.js';
import { LinesideError, ErrorCode } from '../domain/errors.js';

/**
 * Product inspection: one inspection per PLC trigger (or free-running). Triggers overlap in the
 * pipeline (decode of part n+1 while part n infers) but answers reach the PLC in trigger order.
 * A trigger that finds the queue full is answered not-inspected at once: never silently lost.
 */
export class PartStation implements Station {
  readonly config: PartStationConfig;
  readonly #d: StationDeps;
  #inFlight = 0;
  #chain: Promise<unknown> = Promise.resolve();
  #unsubscribe: (() => void) | null = null;
  #ticker: Ticker | null = null;
  #seq = 0;

  constructor(config: PartStationConfig, deps: StationDeps) {
    this.config = config;
    this.#d = deps;
  }

  async start(): Promise<void> {
    await this.#d.source.start();
    if (this.config.trigger === 'plc') {
      if (!this.#d.plc) throw new LinesideError(ErrorCode.config, `station "${this.config.id}": trigger: plc needs a PLC link`);
      this.#unsubscribe = this.#d.plc.onTrigger(this.config.id, (t) => this.#onTrigger(t));
    } else {
      const fps = this.config.source.fps;
      this.#ticker = new Ticker(1000 / fps, () => this.#inspectFreeRunning());
      this.#ticker.start();
    }
  }

  async stop(): Promise<void> {
    this.#unsubscribe?.();
    await this.#ticker?.stop();
    await this.#chain;
    await this.#d.source.stop();
  }

  health(): StationHealth {
    return { camera: this.#d.source.health(), model: this.#d.model.health.value };
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
    if (this.#inFlight >= this.config.queueDepth) {
      metrics.drops.inc({ station: this.config.id, reason: 'queue_full' });
      const dropped = skipped(this.config, this.#d.model, { ...ctx, triggerCount: t.count }, `inspection queue full (${this.config.queueDepth})`);
      this.#chain = this.#chain.then(() => this.#d.recorder.commit(this.config, dropped, t.count));
      return;
    }
    this.#inFlight++;
    const job = inspectFrame(this.config, this.#d.model, { ...ctx, triggerCount: t.count }, () => this.#d.source.grab(), {
      maxFrameAgeMs: this.config.maxFrameAgeMs,
    });
    this.#chain = this.#chain
      .then(async () => this.#d.recorder.commit(this.config, await job, t.count))
      .finally(() => this.#inFlight--);
  }

  async #inspectFreeRunning(): Promise<void> {
    const insp = await inspectFrame(
      this.config,
      this.#d.model,
      { triggerCount: ++this.#seq, partId: null, batchId: null, recipeIndex: null, startedAt: Date.now() },
      () => this.#d.source.grab(),
      { maxFrameAgeMs: this.config.maxFrameAgeMs },
    );
    // A free-running camera that cannot deliver is a health problem, not a stream of part records.
    if (insp.frame === null && this.#d.source.health().state !== HealthState.ok) return;
    await this.#d.recorder.commit(this.config, insp, null);
  }
}
