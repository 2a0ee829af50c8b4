import { ErrorCode, LinesideError } from '../domain/errors.js';
import { PooledRunner, type RunAnswer } from './pooled-runner.js';
import { createInferenceWorker, WorkerPool } from './worker-pool.js';
import type { WorkerReply, WorkerRequest, WorkerSetup } from './worker-protocol.js';

type Ready = Extract<WorkerReply, { type: 'ready' }>;

/** A pool of inference workers for one ONNX model (onnx.worker.ts runs onnxruntime-node). */
export class OnnxRunner extends PooledRunner {
  static async open(modelPath: string, opts: { workers: number; threads: number }): Promise<OnnxRunner> {
    const setup: WorkerSetup = { modelPath, threads: opts.threads };
    try {
      const { pool, ready } = await WorkerPool.start<WorkerRequest, RunAnswer, Ready>(() => createInferenceWorker('onnx.worker', setup), opts.workers);
      return new OnnxRunner(pool, ready);
    } catch (cause) {
      throw new LinesideError(ErrorCode.modelLoad, `${modelPath}: ${(cause as Error).message}`, { cause });
    }
  }
}
