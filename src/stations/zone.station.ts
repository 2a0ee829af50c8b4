import type { ZoneStationConfig } from '../config/schema.js';
import { ErrorCode, LinesideError } from '../domain/errors.js';
import { Verdict } from '../domain/verdict.js';
import { Debouncer } from '../rules/debounce.js';
import { inspectFrame } from './inspect.js';
import { freeRunTimeoutMs, stationFps, Ticker, type Station, type StationDeps, type StationHealth } from './station.js';

/**
 * Continuous monitoring of a zone (PPE, safety). Every frame is recorded; a violation raises one
 * alarm only after it has persisted `raiseAfterMs`, and clears after `clearAfterMs` without it.
 * Evidence is kept for the frame that raised the alarm, not for every violating frame.
 */
export class ZoneStation implements Station {
  readonly config: ZoneStationConfig;
  readonly #d: StationDeps;
  readonly #debounce: Debouncer;
  readonly #ticker: Ticker;
  #seq = 0;

  constructor(config: ZoneStationConfig, deps: StationDeps) {
    this.config = config;
    this.#d = deps;
    this.#debounce = new Debouncer(config.raiseAfterMs, config.clearAfterMs);
    this.#ticker = new Ticker(1000 / stationFps(config), () => this.#tick());
  }

  async start(): Promise<void> {
    await this.#d.source.start();
    this.#ticker.start();
  }

  async stop(): Promise<void> {
    await this.#ticker.stop();
    await this.#d.source.stop();
  }

  health(): StationHealth {
    return { camera: this.#d.source.health(), model: this.#d.model.health.value };
  }

  async requestCheck(): Promise<null> {
    throw new LinesideError(ErrorCode.badRequest, `station "${this.config.id}" is a zone station; it monitors continuously`);
  }

  async #tick(): Promise<void> {
    const now = Date.now();
    const insp = await inspectFrame(
      this.config,
      this.#d.model,
      { triggerCount: ++this.#seq, partId: null, batchId: null, recipeIndex: null, startedAt: now },
      () => this.#d.source.grab({ timeoutMs: freeRunTimeoutMs(this.config) }),
    );
    // No frame: the camera supervisor reports it; a record per missing frame would only be noise.
    if (insp.frame === null) return;
    const violations = insp.record.findings.filter((f) => f.effect === 'reject');
    const transition = insp.record.verdict === Verdict.notInspected ? null : this.#debounce.update(violations.length > 0, now);
    const stored = await this.#d.recorder.commit(this.config, insp, null, { keepEvidence: transition === 'raise' });
    await this.#d.source.release?.(insp.frame);
    if (transition === 'raise') {
      const labels = [...new Set(violations.map((v) => v.label))].join(', ');
      this.#d.alarms.raise(this.config.id, 'ppeViolation', 'warning', `${labels} in ${this.config.name ?? this.config.id} for ${this.config.raiseAfterMs / 1000} s (inspection ${stored?.id ?? '?'})`);
    } else if (transition === 'clear') {
      this.#d.alarms.clear(this.config.id, 'ppeViolation');
    }
  }
}
