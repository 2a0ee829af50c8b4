/** Health of one long-lived component, as shown on the page and in /healthz. */
export const HealthState = {
  ok: 'ok',
  starting: 'starting',
  degraded: 'degraded',
  down: 'down',
} as const;
export type HealthState = (typeof HealthState)[keyof typeof HealthState];

export interface ComponentHealth {
  readonly state: HealthState;
  /** Why it is not ok, in words an operator can act on. */
  readonly detail?: string;
  readonly since: number;
}

export function healthy(h: ComponentHealth): boolean {
  return h.state === HealthState.ok;
}

/** Small mutable holder that remembers when the state last changed. */
export class HealthCell {
  #value: ComponentHealth;

  constructor(state: HealthState = HealthState.starting, detail?: string) {
    this.#value = { state, detail, since: Date.now() };
  }

  get value(): ComponentHealth {
    return this.#value;
  }

  /** Returns true when the state or detail changed. */
  set(state: HealthState, detail?: string): boolean {
    if (this.#value.state === state && this.#value.detail === detail) return false;
    this.#value = { state, detail, since: this.#value.state === state ? this.#value.since : Date.now() };
    return true;
  }
}
