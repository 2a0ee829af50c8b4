/**
 * Persistence filter for zone alarms: a condition must hold for `raiseAfterMs` before it raises,
 * and be absent for `clearAfterMs` before it clears. One instance per station and cause, so a
 * violation is one alarm per episode, not one per frame.
 */
export class Debouncer {
  readonly #raiseAfterMs: number;
  readonly #clearAfterMs: number;
  #active = false;
  #presentSince: number | null = null;
  #absentSince: number | null = null;

  constructor(raiseAfterMs: number, clearAfterMs: number) {
    this.#raiseAfterMs = raiseAfterMs;
    this.#clearAfterMs = clearAfterMs;
  }

  get active(): boolean {
    return this.#active;
  }

  /** Feed one observation; returns the transition it causes, if any. */
  update(present: boolean, now: number): 'raise' | 'clear' | null {
    if (present) {
      this.#absentSince = null;
      this.#presentSince ??= now;
      if (!this.#active && now - this.#presentSince >= this.#raiseAfterMs) {
        this.#active = true;
        return 'raise';
      }
      return null;
    }
    this.#presentSince = null;
    this.#absentSince ??= now;
    if (this.#active && now - this.#absentSince >= this.#clearAfterMs) {
      this.#active = false;
      return 'clear';
    }
    return null;
  }
}
