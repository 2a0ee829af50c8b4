import type { IoInfo, WireTensor } from './worker-protocol.js';

export interface RunResult {
  readonly outputs: Readonly<Record<string, WireTensor>>;
  /** Time inside the worker's session.run(). */
  readonly inferMs: number;
}

export interface BenchResult {
  readonly times: readonly number[];
  readonly wallMs: number;
}

/** Runs one model. Only adapters (onnx.runner.ts) import a runtime library. */
export interface ModelRunner {
  readonly inputs: readonly IoInfo[];
  readonly outputs: readonly IoInfo[];
  run(input: WireTensor): Promise<RunResult>;
  /** Back-to-back inference on one prepared tensor inside a worker: the model's raw throughput. */
  bench(input: WireTensor, iterations: number): Promise<BenchResult>;
  close(): Promise<void>;
}
