/**
 * One ONNX Runtime session in a worker thread. `session.run()` blocks its thread for the whole
 * inference, so it must never run on the main thread (DESIGN.md). Tensors arrive and leave by
 * transfer, not copy.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import type { WorkerReply, WorkerRequest, WorkerSetup, WireTensor } from './worker-protocol.js';

const setup = workerData as WorkerSetup;
const port = parentPort!;

async function main(): Promise<void> {
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(setup.modelPath, {
      intraOpNumThreads: setup.threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
  } catch (e) {
    reply({ type: 'failed', message: (e as Error).message });
    return;
  }
  const shapeOf = (m: ort.InferenceSession.ValueMetadata): Array<number | string> =>
    m.isTensor ? m.shape.map((d) => (typeof d === 'number' ? d : String(d))) : [];
  reply({
    type: 'ready',
    inputs: session.inputMetadata.map((m) => ({ name: m.name, shape: shapeOf(m) })),
    outputs: session.outputMetadata.map((m) => ({ name: m.name, shape: shapeOf(m) })),
  });

  const inputName = session.inputNames[0]!;
  port.on('message', (msg: WorkerRequest) => {
    void handle(session, inputName, msg);
  });
}

async function handle(session: ort.InferenceSession, inputName: string, msg: WorkerRequest): Promise<void> {
  try {
    if (msg.type === 'run') {
      const t0 = performance.now();
      const out = await session.run({ [inputName]: new ort.Tensor('float32', msg.input.data, msg.input.dims) });
      const inferMs = performance.now() - t0;
      const outputs: Record<string, WireTensor> = {};
      const transfer: ArrayBuffer[] = [];
      for (const name of session.outputNames) {
        const t = out[name]!;
        // Copy into a fresh buffer we own so it can be transferred; ORT's buffer may be pooled.
        // Integer outputs (an anomaly label, a class index) arrive as BigInt64Array: as numbers too.
        const data = t.data instanceof BigInt64Array || t.data instanceof BigUint64Array ? Float32Array.from(t.data, Number) : Float32Array.from(t.data as Float32Array);
        outputs[name] = { data, dims: [...t.dims] };
        transfer.push(data.buffer);
      }
      reply({ type: 'result', id: msg.id, outputs, inferMs }, transfer);
    } else {
      // Raw model throughput: the same prepared tensor, back to back, inside this worker.
      const input = new ort.Tensor('float32', msg.input.data, msg.input.dims);
      const times: number[] = [];
      const start = performance.now();
      for (let i = 0; i < msg.iterations; i++) {
        const t0 = performance.now();
        await session.run({ [inputName]: input });
        times.push(performance.now() - t0);
      }
      reply({ type: 'bench', id: msg.id, times, wallMs: performance.now() - start });
    }
  } catch (e) {
    reply({ type: 'error', id: msg.id, message: (e as Error).message });
  }
}

function reply(msg: WorkerReply, transfer: ArrayBuffer[] = []): void {
  port.postMessage(msg, transfer);
}

void main();
