import { Worker } from 'node:worker_threads';
import { ErrorCode, LinesideError } from '../domain/errors.js';

/** Requests waiting for a free worker beyond this are refused: a slow model must not grow memory. */
const MAX_WAITING = 32;

/** What every inference worker says first: ready (with what the runner needs) or why not. */
export type StartReply<Ready> = ({ type: 'ready' } & Ready) | { type: 'failed'; message: string };

/** A worker's answer to one request; `error` carries the worker's own message. */
export type AnswerReply = { type: string; id: number } | { type: 'error'; id: number; message: string };

interface Pending<R> {
  resolve: (r: R) => void;
  reject: (e: Error) => void;
}

interface Slot<R> {
  worker: Worker;
  busy: boolean;
  /** The worker crashed or exited; it takes no more work. */
  dead: boolean;
  pending: Map<number, Pending<R>>;
}

/**
 * The worker script `name` beside the runtime modules: `.js` when built, `.ts` from source (tsx,
 * vitest), where a small bootstrap registers tsx inside the worker first.
 */
export function createInferenceWorker(name: string, workerData: object): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, here), { workerData });
  const entry = new URL(`./${name}.ts`, here).href;
  return new Worker(new URL('./ts-worker-boot.mjs', here), { workerData: { ...workerData, entry } });
}

/**
 * Inference workers for one model, one request each at a time: a request goes to a free worker or
 * waits (bounded, {@link MAX_WAITING}); a crashed worker fails its request and leaves the pool,
 * the others carry on. Shared by the ONNX and TF.js runners; the messages are theirs.
 */
export class WorkerPool<Req extends { id: number }, Reply extends AnswerReply> {
  readonly #slots: Slot<Reply>[];
  readonly #waiting: Array<{ msg: Req; transfer: ArrayBuffer[]; p: Pending<Reply> }> = [];
  #nextId = 1;
  #closed = false;

  private constructor(workers: readonly Worker[]) {
    this.#slots = workers.map((worker) => ({ worker, busy: false, dead: false, pending: new Map() }));
    for (const slot of this.#slots) this.#wire(slot);
  }

  /**
   * Start `count` workers and wait for each to be ready; the first one's ready message is returned.
   * If any fails, all are stopped and its reason is thrown as a plain Error (the runner names the file).
   */
  static async start<Req extends { id: number }, Reply extends AnswerReply, Ready>(
    create: () => Worker,
    count: number,
  ): Promise<{ pool: WorkerPool<Req, Reply>; ready: Ready }> {
    const started = await Promise.allSettled(Array.from({ length: Math.max(1, count) }, () => startWorker<Ready>(create())));
    const ok = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) {
      await Promise.all(ok.map((w) => w.worker.terminate()));
      throw failed.reason;
    }
    return { pool: new WorkerPool<Req, Reply>(ok.map((w) => w.worker)), ready: ok[0]!.ready };
  }

  /** Live workers (not crashed, not closed). */
  get liveWorkers(): number {
    return this.#closed ? 0 : this.#slots.filter((s) => !s.dead).length;
  }

  /** Send the request `make(id)` to a worker; resolves with its reply, rejects LINESIDE_ERR_MODEL_RUN on `error`. */
  request(make: (id: number) => Req, transfer: ArrayBuffer[] = []): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) => {
      if (this.#closed) return reject(new LinesideError(ErrorCode.stopped, 'model runner closed'));
      const p: Pending<Reply> = { resolve, reject };
      if (this.#slots.every((s) => s.dead)) return reject(allStopped());
      const msg = make(this.#nextId++);
      const free = this.#slots.find((s) => !s.busy && !s.dead);
      if (free) return this.#send(free, msg, transfer, p);
      if (this.#waiting.length >= MAX_WAITING) {
        return reject(new LinesideError(ErrorCode.queueFull, `model queue full (${MAX_WAITING} waiting)`));
      }
      this.#waiting.push({ msg, transfer, p });
    });
  }

  /**
   * Refuse what is queued or in flight and stop the workers. With `dispose`, each live worker is
   * first sent that message and given up to `waitMs` to answer it (to free its model's memory).
   */
  async close(dispose?: (id: number) => Req, waitMs = 1000): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const stopped = new LinesideError(ErrorCode.stopped, 'model runner closed');
    for (const w of this.#waiting.splice(0)) w.p.reject(stopped);
    await Promise.all(
      this.#slots.map(async (s) => {
        for (const p of s.pending.values()) p.reject(stopped);
        s.pending.clear();
        if (dispose && !s.dead) {
          const msg = dispose(this.#nextId++);
          let timer: NodeJS.Timeout | undefined;
          await new Promise<void>((resolve) => {
            s.pending.set(msg.id, { resolve: () => resolve(), reject: () => resolve() });
            timer = setTimeout(resolve, waitMs);
            s.worker.postMessage(msg);
          });
          clearTimeout(timer);
        }
        await s.worker.terminate();
      }),
    );
  }

  #send(slot: Slot<Reply>, msg: Req, transfer: ArrayBuffer[], p: Pending<Reply>): void {
    slot.busy = true;
    slot.pending.set(msg.id, p);
    slot.worker.postMessage(msg, transfer);
  }

  #wire(slot: Slot<Reply>): void {
    slot.worker.on('message', (reply: Reply) => {
      if (typeof reply !== 'object' || reply === null || !('id' in reply)) return;
      const p = slot.pending.get(reply.id);
      slot.pending.delete(reply.id);
      slot.busy = false;
      const next = this.#waiting.shift();
      if (next) this.#send(slot, next.msg, next.transfer, next.p);
      if (!p) return;
      if (reply.type === 'error' && 'message' in reply) p.reject(new LinesideError(ErrorCode.modelRun, reply.message));
      else p.resolve(reply);
    });
    const fail = (err: unknown): void => {
      // A crashed worker fails its in-flight request; the pool keeps the remaining workers.
      slot.dead = true;
      for (const p of slot.pending.values()) p.reject(new LinesideError(ErrorCode.modelRun, 'inference worker crashed', { cause: err }));
      slot.pending.clear();
      if (this.#slots.every((s) => s.dead)) {
        for (const w of this.#waiting.splice(0)) w.p.reject(allStopped());
      }
    };
    slot.worker.on('error', fail);
    slot.worker.on('exit', (code) => {
      slot.dead = true;
      if (!this.#closed) fail(new Error(`inference worker exited with code ${code}`));
    });
  }
}

function allStopped(): LinesideError {
  return new LinesideError(ErrorCode.modelRun, 'every inference worker of this model has stopped');
}

function startWorker<Ready>(worker: Worker): Promise<{ worker: Worker; ready: Ready }> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    const onExit = (code: number): void => reject(new Error(`inference worker exited with code ${code} while loading`));
    worker.once('error', onError);
    worker.once('exit', onExit);
    worker.once('message', (msg: StartReply<Ready>) => {
      worker.off('error', onError);
      worker.off('exit', onExit);
      if (msg.type === 'ready') resolve({ worker, ready: msg as Ready });
      else {
        void worker.terminate();
        reject(new Error(msg.type === 'failed' ? msg.message : `unexpected worker message ${(msg as { type: string }).type}`));
      }
    });
  });
}
