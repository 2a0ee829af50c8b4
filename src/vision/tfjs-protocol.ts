/**
 * Messages between the main thread and a TF.js inference worker: the ONNX workers' protocol
 * (worker-protocol.ts), with the backend the worker chose in its `ready` reply and a `dispose`
 * request that frees the model before the pool terminates the thread. No runtime imports here:
 * the main thread never loads TF.js.
 */
import type { IoInfo, WorkerReply, WorkerRequest } from './worker-protocol.js';

/** The TF.js backends this appliance can run on, best first. */
export type TfjsBackendName = 'tensorflow' | 'wasm' | 'cpu';

/**
 * `auto`: `tensorflow` (@tensorflow/tfjs-node) when it can be imported, else `wasm`; `cpu` only by name.
 * A named backend is that backend or the load fails (no fallback).
 */
export type TfjsBackendChoice = 'auto' | TfjsBackendName;

export interface TfjsWorkerSetup {
  /** model.json, or the folder holding it. */
  modelPath: string;
  /** Wanted intra-op threads (wasm: only where multithreaded WASM works, which is not Node). */
  threads: number;
  backend: TfjsBackendChoice;
  /** Folder of the tfjs-backend-wasm `.wasm` files; default: the installed package's dist/. */
  wasmDir?: string;
}

export type TfjsWorkerRequest = WorkerRequest | { type: 'dispose'; id: number };

export interface TfjsReady {
  type: 'ready';
  inputs: IoInfo[];
  outputs: IoInfo[];
  backend: TfjsBackendName;
  /** Threads the backend really uses (1 for wasm in Node, 0 when the backend does not say). */
  threads: number;
  /** Why a better backend was not taken, and other facts about the choice. */
  notes: string[];
}

export type TfjsWorkerReply = Exclude<WorkerReply, { type: 'ready' }> | TfjsReady | { type: 'disposed'; id: number };
