import { ErrorCode, LinesideError } from '../domain/errors.js';
import type { BenchResult, ModelRunner, RunResult } from './model-runner.js';
import type { WorkerPool } from './worker-pool.js';
import type { IoInfo, WireTensor, WorkerReply, WorkerRequest } from './worker-protocol.js';

/** A worker's answer to `run` or `bench` (or its error). */
export type RunAnswer = Exclude<WorkerReply, { type: 'ready' } | { type: 'failed' }>;

/**
 * A model runner on an inference worker pool speaking the run/bench protocol of
 * worker-protocol.ts; a runtime adds its own messages (`ExtraReq`, `ExtraAnswer`) and its load.
 */
export abstract class PooledRunner<ExtraReq extends { id: number } = never, ExtraAnswer extends { type: string; id: number } = never> implements ModelRunner {
  readonly inputs: readonly IoInfo[];
  readonly outputs: readonly IoInfo[];
  protected readonly pool: WorkerPool<WorkerRequest | ExtraReq, RunAnswer | ExtraAnswer>;

  protected constructor(pool: WorkerPool<WorkerRequest | ExtraReq, RunAnswer | ExtraAnswer>, ready: { inputs: IoInfo[]; outputs: IoInfo[] }) {
    this.pool = pool;
    this.inputs = ready.inputs;
    this.outputs = ready.outputs;
  }

  /** Live workers (not crashed, not closed). */
  get liveWorkers(): number {
    return this.pool.liveWorkers;
  }

  async run(input: WireTensor): Promise<RunResult> {
    const reply = await this.pool.request((id) => ({ type: 'run', id, input }), [input.data.buffer as ArrayBuffer]);
    if (reply.type !== 'result' || !('outputs' in reply)) throw new LinesideError(ErrorCode.modelRun, 'unexpected worker reply');
    return { outputs: reply.outputs, inferMs: reply.inferMs };
  }

  async bench(input: WireTensor, iterations: number): Promise<BenchResult> {
    const reply = await this.pool.request((id) => ({ type: 'bench', id, input, iterations }));
    if (reply.type !== 'bench' || !('times' in reply)) throw new LinesideError(ErrorCode.modelRun, 'unexpected worker reply');
    return { times: reply.times, wallMs: reply.wallMs };
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
