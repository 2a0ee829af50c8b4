import type { Worker } from 'node:worker_threads';
import { ErrorCode, LinesideError } from '../domain/errors.js';
import { PooledRunner, type RunAnswer } from './pooled-runner.js';
import { readTfjsGraphModelFiles } from './tfjs-model-files.js';
import type { TfjsBackendChoice, TfjsBackendName, TfjsReady, TfjsWorkerReply, TfjsWorkerRequest, TfjsWorkerSetup } from './tfjs-protocol.js';
import { createInferenceWorker, WorkerPool } from './worker-pool.js';

/** How long close() lets a worker dispose its model before terminating it anyway. */
const DISPOSE_WAIT_MS = 1000;

type DisposeRequest = Extract<TfjsWorkerRequest, { type: 'dispose' }>;
type DisposedReply = Extract<TfjsWorkerReply, { type: 'disposed' }>;
type Answer = RunAnswer | DisposedReply;

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

/** One TF.js inference worker (tfjs.worker.ts) for `setup`. */
export function createTfjsWorker(setup: TfjsWorkerSetup): Worker {
  return createInferenceWorker('tfjs.worker', setup);
}

/** A pool of inference workers for one TF.js graph model (model.json + weight shards). */
export class TfjsRunner extends PooledRunner<DisposeRequest, DisposedReply> {
  /** The backend every worker runs on. */
  readonly backend: TfjsBackendName;
  /** Threads per worker the backend really uses (0: the backend does not say). */
  readonly threads: number;
  /** Why a faster backend was not taken, thread limits, where the wasm binary came from. */
  readonly notes: readonly string[];
  /** Absolute path of the model's model.json. */
  readonly modelJson: string;

  private constructor(pool: WorkerPool<TfjsWorkerRequest, Answer>, ready: TfjsReady, modelJson: string) {
    super(pool, ready);
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
    try {
      const { pool, ready } = await WorkerPool.start<TfjsWorkerRequest, Answer, TfjsReady>(() => spawn(setup), opts.workers);
      return new TfjsRunner(pool, ready, files.modelJson);
    } catch (cause) {
      const message = (cause as Error).message;
      throw new LinesideError(ErrorCode.modelLoad, message.includes(files.modelJson) ? message : `${files.modelJson}: ${message}`, { cause });
    }
  }

  /** Refuses what is queued or in flight, lets each worker dispose its model (briefly), stops them. */
  override close(): Promise<void> {
    return this.pool.close((id) => ({ type: 'dispose', id }), DISPOSE_WAIT_MS);
  }
}
