import { alarmWord, type AlarmCategory, type AlarmSeverity } from '../domain/alarm.js';
import type { LinesideEvents } from '../domain/events.js';
import type { TypedEmitter } from '../domain/typed-emitter.js';
import type { Logger } from '../observability/logger.js';
import type { AlarmRepository } from '../store/alarm.repository.js';

/** Station id for alarms that concern the whole appliance (they set a bit in every station's word). */
export const APPLIANCE = '*';

/**
 * Raises and clears alarms: one active alarm per station and category (no floods), a row in the
 * records, an event on the bus, and the station's AlarmWord for the PLC.
 */
export class AlarmCenter {
  readonly #repo: Pick<AlarmRepository, 'raise' | 'clear'>;
  readonly #bus: TypedEmitter<LinesideEvents>;
  readonly #log: Logger;
  readonly #active = new Map<string, Set<AlarmCategory>>();
  readonly #wordListeners: Array<(stationId: string, word: number) => void> = [];
  readonly #stations: readonly string[];

  constructor(deps: { repo: Pick<AlarmRepository, 'raise' | 'clear'>; bus: TypedEmitter<LinesideEvents>; logger: Logger; stations: readonly string[] }) {
    this.#repo = deps.repo;
    this.#bus = deps.bus;
    this.#log = deps.logger;
    this.#stations = deps.stations;
  }

  raise(stationId: string, category: AlarmCategory, severity: AlarmSeverity, message: string): void {
    const set = this.#active.get(stationId) ?? new Set();
    if (set.has(category)) return;
    set.add(category);
    this.#active.set(stationId, set);
    const at = Date.now();
    this.#repo.raise(stationId, category, severity, message, at);
    this.#log.warn({ stationId, category, severity, alarm: message }, 'alarm raised');
    this.#bus.emit('alarm', { stationId, category, state: 'raised', severity, message, at });
    this.#publish(stationId);
  }

  clear(stationId: string, category: AlarmCategory): void {
    const set = this.#active.get(stationId);
    if (!set?.delete(category)) return;
    const at = Date.now();
    this.#repo.clear(stationId, category, at);
    this.#log.info({ stationId, category }, 'alarm cleared');
    this.#bus.emit('alarm', { stationId, category, state: 'cleared', severity: 'info', message: `${category} cleared`, at });
    this.#publish(stationId);
  }

  isActive(stationId: string, category: AlarmCategory): boolean {
    return this.#active.get(stationId)?.has(category) ?? false;
  }

  /** The station's AlarmWord: its own alarms plus the appliance-wide ones. */
  word(stationId: string): number {
    return alarmWord([...(this.#active.get(stationId) ?? []), ...(this.#active.get(APPLIANCE) ?? [])]);
  }

  onWord(listener: (stationId: string, word: number) => void): void {
    this.#wordListeners.push(listener);
  }

  #publish(stationId: string): void {
    const targets = stationId === APPLIANCE ? this.#stations : [stationId];
    for (const s of targets) for (const l of this.#wordListeners) l(s, this.word(s));
  }
}
