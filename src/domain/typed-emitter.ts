import { EventEmitter } from 'node:events';

/** EventEmitter whose event names and payloads are checked against a map. */
export class TypedEmitter<M extends { [K in keyof M]: unknown[] }> {
  readonly #ee = new EventEmitter();

  constructor() {
    // Many listeners (web clients, metrics, PLC) may subscribe; unbounded listener counts are a
    // leak only if someone forgets to unsubscribe, which tests check.
    this.#ee.setMaxListeners(100);
  }

  on<K extends keyof M & string>(event: K, listener: (...args: M[K]) => void): () => void {
    this.#ee.on(event, listener as (...args: unknown[]) => void);
    return () => this.#ee.off(event, listener as (...args: unknown[]) => void);
  }

  emit<K extends keyof M & string>(event: K, ...args: M[K]): void {
    this.#ee.emit(event, ...args);
  }
}
