import type { Logger } from '../observability/logger.js';

/**
 * A set of handlers for one kind of notification. A handler that throws is logged at error and
 * does not stop the others, nor the OPC UA notification processing that called it.
 */
export class Listeners<T> {
  readonly #handlers = new Set<(value: T) => void>();
  readonly #log: Logger;
  readonly #what: string;

  constructor(log: Logger, what: string) {
    this.#log = log;
    this.#what = what;
  }

  add(handler: (value: T) => void): () => void {
    this.#handlers.add(handler);
    return () => {
      this.#handlers.delete(handler);
    };
  }

  emit(value: T): void {
    for (const h of [...this.#handlers]) {
      try {
        h(value);
      } catch (err) {
        this.#log.error({ err, listener: this.#what }, 'PLC link listener threw');
      }
    }
  }
}
