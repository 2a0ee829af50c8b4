import { Worker } from 'node:worker_threads';
import { ErrorCode, LinesideError } from '../domain/errors.js';
import type { BenchResult, ModelRunner, RunResult } from './model-runner.js';
import { readTfjsGraphModelFiles } from './tfjs-model-files.js';
import type { TfjsBackendChoice, TfjsBackendName, TfjsReady, TfjsWorkerReply, TfjsWorkerRequest, TfjsWorkerSetup } from './tfjs-protocol.js';
import type { IoInfo, WireTensor } from './worker-protocol.js';

/** Requests waiting for a free worker beyond this are refused: a slow model must not grow memory. */
const MAX_WAITING = 32;
/** How long close() lets a worker dispose its model before terminating it anyway. */
const DISPOSE_WAIT_MS = 1000;

export interface TfjsRunnerOptions {
  /** Worker threads, each with its own copy of the model: the pool's parallelism. */
  workers: number;
  /** Intra-op threads wanted per worker; wasm in Node runs 1 (see `runner.notes`). */
  threads: number;
  /** Default `auto`: tensorflow (tfjs-node) if importable, else wasm; `cpu` only by name. */
  backend?: TfjsBackendChoice;
  /** Folder of the tfjs-backend-wasm `.wasm` files; default: the installed package's dist/. */
  wasmDir?: string;
}

interface Pending {
  resolve: (r: TfjsWorkerReply) => void;
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
export function createTfjsWorker(setup: TfjsWorkerSetup): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./tfjs.worker.js', import.meta.url), { workerData: setup });
  const entry = new URL('./tfjs.worker.ts', import.meta.url).href;
  return new Worker(new URL('./ts-worker-boot.mjs', import.meta.url), { workerData: { ...setup, entry } });
}

/** A pool of inference workers for one TF.js graph model (model.json + weight shards). */
export class TfjsRunner implements ModelRunner {
  readonly inputs: readonly IoInfo[];
  readonly outputs: readonly IoInfo[];
  /** The backend every worker runs on. */
  readonly backend: TfjsBackendName;
  /** Threads per worker the backend really uses (0: the backend does not say). */
  readonly threads: number;
  /** Why a faster backend was not taken, thread limits, where the wasm binary came from. */
  readonly notes: readonly string[];
  /** Absolute path of the model's model.json. */
  readonly modelJson: string;
  readonly #slots: Slot[];
  readonly #waiting: Array<{ msg: TfjsWorkerRequest; transfer: ArrayBuffer[]; p: Pending }> = [];
  #nextId = 1;
  #closed = false;

  private constructor(slots: Slot[], ready: TfjsReady, modelJson: string) {
    this.#slots = slots;
    this.inputs = ready.inputs;
    this.outputs = ready.outputs;
    this.backend = ready.backend;
    this.threads = ready.threads;
    this.notes = ready.notes;
    this.modelJson = modelJson;
  }

  /**
   * Open `modelPath` (model.json, or the folder holding it) in `opts.workers` workers. Errors are
   * LINESIDE_ERR_MODEL_LOAD naming the file: no model.json, not a graph model, a weight file
   * missing or short, a graph TF.js cannot run, no backend. `spawn` starts one worker (tests wrap
   * it to keep hold of the threads).
   */
  static async open(modelPath: string, opts: TfjsRunnerOptions, spawn: (setup: TfjsWorkerSetup) => Worker = createTfjsWorker): Promise<TfjsRunner> {
    // The file checks on this thread first: a clear error without starting a worker.
    const files = await readTfjsGraphModelFiles(modelPath);
    const setup: TfjsWorkerSetup = { modelPath: files.modelJson, threads: opts.threads, backend: opts.backend ?? 'auto' };
    if (opts.wasmDir !== undefined) setup.wasmDir = opts.wasmDir;
    const started = await Promise.allSettled(Array.from({ length: Math.max(1, opts.workers) }, () => startWorker(spawn, setup)));
    const ok = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) {
      await Promise.all(ok.map((w) => w.worker.terminate()));
      const message = (failed.reason as Error).message;
      throw new LinesideError(ErrorCode.modelLoad, message.includes(files.modelJson) ? message : `${files.modelJson}: ${message}`, { cause: failed.reason });
    }
    const runner = new TfjsRunner(
      ok.map((w) => ({ worker: w.worker, busy: false, dead: false, pending: new Map() })),
      ok[0]!.ready,
      files.modelJson,
    );
    for (const slot of runner.#slots) runner.#wire(slot);
    return runner;
  }

  /** Live workers (not crashed, not closed). */
  get liveWorkers(): number {
    return this.#closed ? 0 : this.#slots.filter((s) => !s.dead).length;
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

  /** Refuses what is queued or in flight, lets each worker dispose its model (briefly), stops them. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const stopped = new LinesideError(ErrorCode.stopped, 'model runner closed');
    for (const w of this.#waiting.splice(0)) w.p.reject(stopped);
    await Promise.all(
      this.#slots.map(async (s) => {
        for (const p of s.pending.values()) p.reject(stopped);
        s.pending.clear();
        if (!s.dead) {
          const id = this.#nextId++;
          let timer: NodeJS.Timeout | undefined;
          const disposed = new Promise<void>((resolve) => {
            s.pending.set(id, { resolve: () => resolve(), reject: () => resolve() });
            timer = setTimeout(resolve, DISPOSE_WAIT_MS);
          });
          s.worker.postMessage({ type: 'dispose', id } satisfies TfjsWorkerRequest);
          await disposed;
          clearTimeout(timer);
        }
        await s.worker.terminate();
      }),
    );
  }

  #dispatch(msg: TfjsWorkerRequest, transfer: ArrayBuffer[]): Promise<TfjsWorkerReply> {
    return new Promise<TfjsWorkerReply>((resolve, reject) => {
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

  #send(slot: Slot, msg: TfjsWorkerRequest, transfer: ArrayBuffer[], p: Pending): void {
    slot.busy = true;
    slot.pending.set(msg.id, p);
    slot.worker.postMessage(msg, transfer);
  }

  #wire(slot: Slot): void {
    slot.worker.on('message', (reply: TfjsWorkerReply) => {
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
      slot.dead = true;
      if (!this.#closed) fail(new Error(`inference worker exited with code ${code}`));
    });
  }
}

function startWorker(spawn: (setup: TfjsWorkerSetup) => Worker, setup: TfjsWorkerSetup): Promise<{ worker: Worker; ready: TfjsReady }> {
  return new Promise((resolve, reject) => {
    const worker = spawn(setup);
    const onError = (err: Error): void => reject(err);
    const onExit = (code: number): void => reject(new Error(`inference worker exited with code ${code} while loading`));
    worker.once('error', onError);
    worker.once('exit', onExit);
    worker.once('message', (msg: TfjsWorkerReply) => {
      worker.off('error', onError);
      worker.off('exit', onExit);
      if (msg.type === 'ready') resolve({ worker, ready: msg });
      else {
        void worker.terminate();
        reject(new Error(msg.type === 'failed' ? msg.message : `unexpected worker message ${msg.type}`));
      }
    });
  });
}
