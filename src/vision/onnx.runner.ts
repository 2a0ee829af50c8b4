import { ErrorCode, LinesideError } from '../domain/errors.js';
import type { BenchResult, ModelRunner, RunResult } from './model-runner.js';
import { createInferenceWorker, WorkerPool } from './worker-pool.js';
import type { IoInfo, WireTensor, WorkerReply, WorkerRequest, WorkerSetup } from './worker-protocol.js';

type Ready = Extract<WorkerReply, { type: 'ready' }>;
type Answer = Exclude<WorkerReply, { type: 'ready' } | { type: 'failed' }>;

/** A pool of inference workers for one ONNX model (onnx.worker.ts runs onnxruntime-node). */
export class OnnxRunner implements ModelRunner {
  readonly inputs: readonly IoInfo[];
  readonly outputs: readonly IoInfo[];
  readonly #pool: WorkerPool<WorkerRequest, Answer>;

  private constructor(pool: WorkerPool<WorkerRequest, Answer>, ready: Ready) {
    this.#pool = pool;
    this.inputs = ready.inputs;
    this.outputs = ready.outputs;
  }

  static async open(modelPath: string, opts: { workers: number; threads: number }): Promise<OnnxRunner> {
    const setup: WorkerSetup = { modelPath, threads: opts.threads };
    try {
      const { pool, ready } = await WorkerPool.start<WorkerRequest, Answer, Ready>(() => createInferenceWorker('onnx.worker', setup), opts.workers);
      return new OnnxRunner(pool, ready);
    } catch (cause) {
      throw new LinesideError(ErrorCode.modelLoad, `${modelPath}: ${(cause as Error).message}`, { cause });
    }
  }

  /** Live workers (not crashed, not closed). */
  get liveWorkers(): number {
    return this.#pool.liveWorkers;
  }

  async run(input: WireTensor): Promise<RunResult> {
    const reply = await this.#pool.request((id) => ({ type: 'run', id, input }), [input.data.buffer as ArrayBuffer]);
    if (reply.type !== 'result') throw new LinesideError(ErrorCode.modelRun, 'unexpected worker reply');
    return { outputs: reply.outputs, inferMs: reply.inferMs };
  }

  async bench(input: WireTensor, iterations: number): Promise<BenchResult> {
    const reply = await this.#pool.request((id) => ({ type: 'bench', id, input, iterations }));
    if (reply.type !== 'bench') throw new LinesideError(ErrorCode.modelRun, 'unexpected worker reply');
    return { times: reply.times, wallMs: reply.wallMs };
  }

  close(): Promise<void> {
    return this.#pool.close();
  }
}
