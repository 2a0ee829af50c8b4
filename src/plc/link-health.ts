import type { ComponentHealth } from '../domain/health.js';
import { HealthCell, HealthState } from '../domain/health.js';
import type { Logger } from '../observability/logger.js';
import { Listeners } from './listeners.js';

/** Down reason before the first connection attempt has failed: reported as `starting`. */
export const CONNECTING = 'connecting to PLC';

/**
 * The link's health from two facts: why it is unusable (null when session and subscription are
 * in place) and which stations' PLC heartbeat is overdue. Logs each transition and notifies changes.
 */
export class LinkHealth {
  readonly #cell = new HealthCell(HealthState.starting, CONNECTING);
  readonly #listeners: Listeners<ComponentHealth>;
  readonly #log: Logger;
  /** Stations whose PLC heartbeat is overdue. */
  readonly #staleHeartbeats: () => string[];
  #downReason: string | null = CONNECTING;

  constructor(log: Logger, staleHeartbeats: () => string[]) {
    this.#log = log;
    this.#staleHeartbeats = staleHeartbeats;
    this.#listeners = new Listeners(log, 'health');
  }

  get value(): ComponentHealth {
    return this.#cell.value;
  }

  /** Why the link cannot be used now, or null. */
  get downReason(): string | null {
    return this.#downReason;
  }

  onChange(handler: (h: ComponentHealth) => void): () => void {
    return this.#listeners.add(handler);
  }

  down(reason: string): void {
    if (this.#downReason !== reason) this.#log.info({ reason }, 'PLC link down');
    this.#downReason = reason;
    this.refresh();
  }

  up(fields: Record<string, unknown>): void {
    if (this.#downReason !== null) this.#log.info({ previously: this.#downReason, ...fields }, 'PLC link up');
    this.#downReason = null;
    this.refresh();
  }

  refresh(): void {
    let changed: boolean;
    const stale = this.#staleHeartbeats();
    if (this.#downReason !== null) {
      changed = this.#cell.set(this.#downReason === CONNECTING ? HealthState.starting : HealthState.down, this.#downReason);
    } else if (stale.length > 0) {
      changed = this.#cell.set(HealthState.degraded, `PLC heartbeat lost (stations ${stale.join(', ')})`);
    } else {
      changed = this.#cell.set(HealthState.ok);
    }
    if (changed) this.#listeners.emit(this.#cell.value);
  }
}
