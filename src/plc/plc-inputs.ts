import { ErrorCode, LinesideError } from '../domain/errors.js';
import type { Logger } from '../observability/logger.js';
import { Listeners } from './listeners.js';
import type { ContractStation } from './opcua-contract-check.js';
import type { TagChange } from './opcua-subscriptions.js';
import { PlcHeartbeatWatch } from './plc-heartbeat-watch.js';
import type { PlcTrigger } from './plc-link.js';
import { StationTriggerTracker } from './trigger-tracker.js';

/**
 * What the PLC tells the appliance, after OPC UA: subscribed tag changes become triggers per
 * station, and PlcHeartbeat changes feed the heartbeat watch.
 */
export class PlcInputs {
  readonly #log: Logger;
  readonly #trackers = new Map<string, { tracker: StationTriggerTracker; log: Logger }>();
  readonly #triggerListeners = new Map<string, Listeners<PlcTrigger>>();
  readonly #recipeListeners = new Map<string, Listeners<number>>();
  /** The PLC's current RecipeIndex per station, for a station that subscribes after it arrived. */
  readonly #recipeIndex = new Map<string, number>();
  readonly #watch: PlcHeartbeatWatch;
  readonly #heartbeatListeners: Listeners<boolean>;
  /** Off while the PLC's tags do not match the contract: a trigger could not be answered. */
  accepting = true;

  constructor(stations: readonly ContractStation[], heartbeatTimeoutMs: number, log: Logger) {
    this.#log = log;
    for (const s of stations) {
      if (s.counter === null) continue;
      this.#trackers.set(s.id, { tracker: new StationTriggerTracker(s.id, s.counter), log: log.child({ station: s.id, counter: s.counter }) });
      this.#triggerListeners.set(s.id, new Listeners(log, `trigger:${s.id}`));
      this.#recipeListeners.set(s.id, new Listeners(log, `recipe:${s.id}`));
    }
    this.#watch = new PlcHeartbeatWatch(stations.map((s) => s.id), heartbeatTimeoutMs);
    this.#heartbeatListeners = new Listeners(log, 'plc-heartbeat');
  }

  staleHeartbeats(): string[] {
    return this.#watch.stale();
  }

  /** The link is (back) up: heartbeat timeouts count from now. */
  restartHeartbeatWatch(): void {
    this.#watch.restart();
  }

  onTrigger(stationId: string, handler: (t: PlcTrigger) => void): () => void {
    const listeners = this.#triggerListeners.get(stationId);
    if (listeners === undefined) {
      throw new LinesideError(ErrorCode.notFound, `PLC link has no triggered station ${stationId}`, { details: { station: stationId } });
    }
    return listeners.add(handler);
  }

  onRecipeIndex(stationId: string, handler: (index: number) => void): () => void {
    const listeners = this.#recipeListeners.get(stationId);
    if (listeners === undefined) {
      throw new LinesideError(ErrorCode.notFound, `PLC link has no triggered station ${stationId}`, { details: { station: stationId } });
    }
    const off = listeners.add(handler);
    // The subscription's first values may arrive before a slow camera lets its station subscribe.
    const current = this.#recipeIndex.get(stationId);
    if (current !== undefined) handler(current);
    return off;
  }

  onPlcHeartbeat(handler: (alive: boolean) => void): () => void {
    return this.#heartbeatListeners.add(handler);
  }

  /** After a (re)subscription: the next counter value of every station is a baseline. */
  rebaseline(): void {
    for (const t of this.#trackers.values()) t.tracker.rebaseline();
  }

  /** Re-evaluates the PLC heartbeat; notifies and returns true when alive/lost changed. */
  checkHeartbeat(): boolean {
    const alive = this.#watch.check();
    if (alive === undefined) return false;
    this.#log.info({ alive, staleStations: this.#watch.stale() }, alive ? 'PLC heartbeat resumed' : 'PLC heartbeat lost');
    this.#heartbeatListeners.emit(alive);
    return true;
  }

  change(c: TagChange): void {
    if (c.tag === 'PlcHeartbeat') return this.#watch.seen(c.stationId, Number(c.value), c.receivedAt);
    const station = this.#trackers.get(c.stationId);
    if (station === undefined) return;
    const { tracker, log } = station;
    if (c.tag === 'PartId') return tracker.partId(String(c.value ?? ''), c.sourceTime);
    if (c.tag === 'BatchId') return tracker.batchId(String(c.value ?? ''));
    if (c.tag === 'RecipeIndex') {
      const index = Number(c.value);
      tracker.recipeIndex(index, c.sourceTime);
      this.#recipeIndex.set(c.stationId, index);
      log.info({ recipeIndex: index }, 'PLC RecipeIndex');
      this.#recipeListeners.get(c.stationId)?.emit(index);
      return;
    }
    const outcome = tracker.counter(Number(c.value), c.sourceTime, c.receivedAt);
    switch (outcome.kind) {
      case 'trigger':
        if (!this.accepting) {
          log.warn({ count: outcome.trigger.count }, 'PLC trigger ignored: tag contract check failed');
          return;
        }
        if (outcome.trigger.missed > 0) log.warn({ count: outcome.trigger.count, missed: outcome.trigger.missed }, 'PLC counter skipped; parts not inspected');
        this.#triggerListeners.get(c.stationId)?.emit(outcome.trigger);
        return;
      case 'baseline':
        log.info({ count: outcome.count, previous: outcome.previous }, 'PLC counter baseline');
        return;
      case 'reset':
        log.warn({ count: outcome.count, previous: outcome.previous }, 'PLC counter went backwards; new baseline');
        return;
      case 'repeat':
        log.debug({ count: outcome.count }, 'PLC counter repeated');
        return;
    }
  }
}
