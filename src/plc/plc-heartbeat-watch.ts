interface StationBeat {
  value: number | undefined;
  /** Last change, or the start of the current observation window. */
  at: number;
  /** A real change was seen since the observation window started. */
  changed: boolean;
}

/**
 * Watches the PLC's heartbeat counter of every station. Lost when any station's PlcHeartbeat has
 * not changed for the timeout (one stale block is enough to stop trusting the PLC: fail safe);
 * alive again only once every station's heartbeat has been seen changing.
 */
export class PlcHeartbeatWatch {
  readonly #timeoutMs: number;
  readonly #beats = new Map<string, StationBeat>();
  #alive = true;

  constructor(stationIds: readonly string[], timeoutMs: number, now = Date.now()) {
    this.#timeoutMs = timeoutMs;
    for (const id of stationIds) this.#beats.set(id, { value: undefined, at: now, changed: false });
  }

  get alive(): boolean {
    return this.#alive;
  }

  /** A PlcHeartbeat value arrived. */
  seen(stationId: string, value: number, now = Date.now()): void {
    const beat = this.#beats.get(stationId);
    if (beat === undefined || beat.value === value) return;
    this.#beats.set(stationId, { value, at: now, changed: true });
  }

  /**
   * Opens a new observation window, e.g. when a (re)connected subscription is in place: while
   * disconnected nothing could be observed, so the timeout counts from now.
   */
  restart(now = Date.now()): void {
    for (const beat of this.#beats.values()) {
      beat.at = now;
      beat.changed = false;
    }
  }

  /** Stations whose heartbeat has not changed within the timeout of the current window. */
  stale(now = Date.now()): string[] {
    return [...this.#beats].filter(([, b]) => now - b.at > this.#timeoutMs).map(([id]) => id);
  }

  /** Re-evaluates; returns the new state when it changed, else undefined. */
  check(now = Date.now()): boolean | undefined {
    const stale = this.stale(now).length > 0;
    let alive = this.#alive;
    if (alive && stale) alive = false;
    else if (!alive && !stale && [...this.#beats.values()].every((b) => b.changed)) alive = true;
    if (alive === this.#alive) return undefined;
    this.#alive = alive;
    return alive;
  }
}
