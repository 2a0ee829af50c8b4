import { Worker } from 'node:worker_threads';
import { ErrorCode, LinesideError } from '../domain/errors.js';
import type { BenchResult, ModelRunner, RunResult } from './model-runner.js';
import type { IoInfo, WireTensor, WorkerReply, WorkerRequest, WorkerSetup } from './worker-protocol.js';

/** Requests waiting for a free worker beyond this are refused: a slow model must not grow memory. */
const MAX_WAITING = 32;

interface Pending {
  resolve: (r: WorkerReply) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  busy: boolean;
  /** The worker crashed or exited; it takes no more work. */
  dead: boolean;
  pending: Map<number, Pending>;
}

/**
 * The worker script sits beside this module: `.js` when built, `.ts` from source (tsx, vitest),
 * where a small bootstrap registers tsx inside the worker first.
 */
function createWorker(setup: WorkerSetup): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./onnx.worker.js', import.meta.url), { workerData: setup });
  const entry = new URL('./onnx.worker.ts', import.meta.url).href;
  return new Worker(new URL('./ts-worker-boot.mjs', import.meta.url), { workerData: { ...setup, entry } });
}

/** A pool of inference workers for one ONNX model. */
export class OnnxRunner implements ModelRunner {
  readonly inputs: readonly IoInfo[];
  readonly outputs: readonly IoInfo[];
  readonly #slots: Slot[];
  readonly #waiting: Array<{ msg: WorkerRequest; transfer: ArrayBuffer[]; p: Pending }> = [];
  #nextId = 1;
  #closed = false;

  private constructor(slots: Slot[], io: { inputs: IoInfo[]; outputs: IoInfo[] }) {
    this.#slots = slots;
    this.inputs = io.inputs;
    this.outputs = io.outputs;
  }

  static async open(modelPath: string, opts: { workers: number; threads: number }): Promise<OnnxRunner> {
    const setup: WorkerSetup = { modelPath, threads: opts.threads };
    const started = await Promise.allSettled(
      Array.from({ length: opts.workers }, () => startWorker(setup)),
    );
    const ok = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) {
      await Promise.all(ok.map((w) => w.worker.terminate()));
      throw new LinesideError(ErrorCode.modelLoad, `${modelPath}: ${(failed.reason as Error).message}`, { cause: failed.reason });
    }
    const runner = new OnnxRunner(
      ok.map((w) => ({ worker: w.worker, busy: false, dead: false, pending: new Map() })),
      { inputs: ok[0]!.ready.inputs, outputs: ok[0]!.ready.outputs },
    );
    for (const slot of runner.#slots) runner.#wire(slot);
    return runner;
  }

  async run(input: WireTensor): Promise<RunResult> {
    const id = this.#nextId++;
    const reply = await this.#dispatch({ type: 'run', id, input }, [input.data.buffer as ArrayBuffer]);
    if (reply.type !== 'result') throw new LinesideError(ErrorCode.modelRun, 'unexpected worker reply');
    return { outputs: reply.outputs, inferMs: reply.inferMs };
  }

  async bench(input: WireTensor, iterations: number): Promise<BenchResult> {
    const id = this.#nextId++;
    const reply = await this.#dispatch({ type: 'bench', id, input, iterations }, []);
    if (reply.type !== 'bench') throw new LinesideError(ErrorCode.modelRun, 'unexpected worker reply');
    return { times: reply.times, wallMs: reply.wallMs };
  }

  async close(): Promise<void> {
    this.#closed = true;
    const stopped = new LinesideError(ErrorCode.stopped, 'model runner closed');
    for (const w of this.#waiting.splice(0)) w.p.reject(stopped);
    await Promise.all(
      this.#slots.map(async (s) => {
        for (const p of s.pending.values()) p.reject(stopped);
        s.pending.clear();
        await s.worker.terminate();
      }),
    );
  }

  #dispatch(msg: WorkerRequest, transfer: ArrayBuffer[]): Promise<WorkerReply> {
    return new Promise<WorkerReply>((resolve, reject) => {
      if (this.#closed) return reject(new LinesideError(ErrorCode.stopped, 'model runner closed'));
      const p: Pending = { resolve, reject };
      if (this.#slots.every((s) => s.dead)) return reject(new LinesideError(ErrorCode.modelRun, 'every inference worker of this model has stopped'));
      const free = this.#slots.find((s) => !s.busy && !s.dead);
      if (free) return this.#send(free, msg, transfer, p);
      if (this.#waiting.length >= MAX_WAITING) {
        return reject(new LinesideError(ErrorCode.queueFull, `model queue full (${MAX_WAITING} waiting)`));
      }
      this.#waiting.push({ msg, transfer, p });
    });
  }

  #send(slot: Slot, msg: WorkerRequest, transfer: ArrayBuffer[], p: Pending): void {
    slot.busy = true;
    slot.pending.set(msg.id, p);
    slot.worker.postMessage(msg, transfer);
  }

  #wire(slot: Slot): void {
    slot.worker.on('message', (reply: WorkerReply) => {
      if (!('id' in reply)) return;
      const p = slot.pending.get(reply.id);
      slot.pending.delete(reply.id);
      slot.busy = false;
      const next = this.#waiting.shift();
      if (next) this.#send(slot, next.msg, next.transfer, next.p);
      if (!p) return;
      if (reply.type === 'error') p.reject(new LinesideError(ErrorCode.modelRun, reply.message));
      else p.resolve(reply);
    });
    const fail = (err: unknown): void => {
      // A crashed worker fails its in-flight request; the pool keeps the remaining workers.
      slot.dead = true;
      for (const p of slot.pending.values()) p.reject(new LinesideError(ErrorCode.modelRun, 'inference worker crashed', { cause: err }));
      slot.pending.clear();
      if (this.#slots.every((s) => s.dead)) {
        for (const w of this.#waiting.splice(0)) w.p.reject(new LinesideError(ErrorCode.modelRun, 'every inference worker of this model has stopped'));
      }
    };
    slot.worker.on('error', fail);
    slot.worker.on('exit', (code) => {
      if (!this.#closed) fail(new Error(`inference worker exited with code ${code}`));
    });
  }
}

function startWorker(setup: WorkerSetup): Promise<{ worker: Worker; ready: Extract<WorkerReply, { type: 'ready' }> }> {
  return new Promise((resolve, reject) => {
    const worker = createWorker(setup);
    const onError = (err: Error): void => reject(err);
    worker.once('error', onError);
    worker.once('message', (msg: WorkerReply) => {
      worker.off('error', onError);
      if (msg.type === 'ready') resolve({ worker, ready: msg });
      else {
        void worker.terminate();
        reject(new Error(msg.type === 'failed' ? msg.message : `unexpected worker message ${msg.type}`));
      }
    });
  });
}
