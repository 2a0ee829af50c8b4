import { ErrorCode, LinesideError } from '../domain/errors.js';
import type { Frame } from '../domain/frame.js';

interface Waiter<K> {
  readonly key: K;
  readonly resolve: (f: Frame) => void;
  readonly reject: (e: Error) => void;
  readonly cleanup: () => void;
}

/**
 * Grabs waiting for a frame, in arrival order: each ends with a frame, a timeout (the error the
 * source words), a cancelled signal, or the source stopping. `K` is what a waiter asks for (a
 * trigger time, or nothing).
 */
export class FrameWaiters<K> {
  #list: Array<Waiter<K>> = [];

  get size(): number {
    return this.#list.length;
  }

  wait(key: K, timeoutMs: number, signal: AbortSignal | undefined, timedOut: () => Error): Promise<Frame> {
    return new Promise<Frame>((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(timedOut());
      }, timeoutMs);
      const onAbort = (): void => {
        cleanup();
        reject(new LinesideError(ErrorCode.stopped, 'grab cancelled'));
      };
      const cleanup = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.#list = this.#list.filter((w) => w !== waiter);
      };
      const waiter: Waiter<K> = { key, resolve, reject, cleanup };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#list.push(waiter);
    });
  }

  /** Hands `frame` to the first waiter that `accepts` it; false when none did. */
  deliver(frame: Frame, accepts: (key: K) => boolean = () => true): boolean {
    const w = this.#list.find((x) => accepts(x.key));
    if (!w) return false;
    w.cleanup();
    w.resolve(frame);
    return true;
  }

  rejectAll(error: Error): void {
    for (const w of [...this.#list]) {
      w.cleanup();
      w.reject(error);
    }
  }
}
