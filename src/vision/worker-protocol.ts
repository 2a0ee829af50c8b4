/** Messages between the main thread and an inference worker. */
export interface WireTensor {
  data: Float32Array;
  dims: number[];
}

export interface WorkerSetup {
  modelPath: string;
  threads: number;
}

export type WorkerRequest =
  | { type: 'run'; id: number; input: WireTensor }
  | { type: 'bench'; id: number; input: WireTensor; iterations: number };

export interface IoInfo {
  name: string;
  shape: Array<number | string>;
}

export type WorkerReply =
  | { type: 'ready'; inputs: IoInfo[]; outputs: IoInfo[] }
  | { type: 'failed'; message: string }
  | { type: 'result'; id: number; outputs: Record<string, WireTensor>; inferMs: number }
  | { type: 'bench'; id: number; times: number[]; wallMs: number }
  | { type: 'error'; id: number; message: string };
