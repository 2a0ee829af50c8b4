/**
 * One TF.js graph model in a worker thread. TF.js's wasm and cpu kernels run synchronously on the
 * thread that calls them, so, like ONNX Runtime, they never run on the main thread (DESIGN.md).
 * Tensors arrive and leave by transfer, not copy.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { selectTfjsBackend, type ChosenBackend } from './tfjs-backend.js';
import { executeGraph, graphIoInfo, inputTensor, loadTfjsGraphModel, outputNamesOf, toWire } from './tfjs-io.js';
import type { TfjsWorkerReply, TfjsWorkerRequest, TfjsWorkerSetup } from './tfjs-protocol.js';

const setup = workerData as TfjsWorkerSetup;
const port = parentPort!;

async function main(): Promise<void> {
  let chosen: ChosenBackend;
  let model: tf.GraphModel;
  let io: Awaited<ReturnType<typeof graphIoInfo>>;
  try {
    chosen = await selectTfjsBackend(setup.backend, { threads: setup.threads, wasmDir: setup.wasmDir });
    // Quiet from here on: the cpu backend's "install tfjs-node" banner is not for an appliance's log.
    tf.enableProdMode();
    model = (await loadTfjsGraphModel(setup.modelPath)).model;
    if (model.inputs.length !== 1) throw new Error(`the graph has ${model.inputs.length} inputs (${model.inputs.map((i) => i.name).join(', ')}); lineside feeds one image tensor`);
    io = await graphIoInfo(model);
  } catch (e) {
    reply({ type: 'failed', message: (e as Error).message });
    return;
  }
  reply({ type: 'ready', inputs: io.inputs, outputs: io.outputs, backend: chosen.backend, threads: chosen.threads, notes: [...chosen.notes] });

  const names = outputNamesOf(model);
  port.on('message', (msg: TfjsWorkerRequest) => {
    void handle(model, names, msg);
  });
}

async function handle(model: tf.GraphModel, names: readonly string[], msg: TfjsWorkerRequest): Promise<void> {
  try {
    if (msg.type === 'run') {
      const x = inputTensor(model, msg.input);
      let out: tf.Tensor[] = [];
      try {
        const t0 = performance.now();
        out = await executeGraph(model, x);
        const outputs = await toWire(names, out);
        const inferMs = performance.now() - t0;
        reply({ type: 'result', id: msg.id, outputs, inferMs }, Object.values(outputs).map((o) => o.data.buffer as ArrayBuffer));
      } finally {
        x.dispose();
        tf.dispose(out);
      }
    } else if (msg.type === 'bench') {
      // Raw model throughput: the same prepared tensor, back to back, inside this worker; each
      // iteration reads its outputs back, as a run does.
      const x = inputTensor(model, msg.input);
      const times: number[] = [];
      const start = performance.now();
      try {
        for (let i = 0; i < msg.iterations; i++) {
          const t0 = performance.now();
          const out = await executeGraph(model, x);
          await Promise.all(out.map((t) => t.data()));
          tf.dispose(out);
          times.push(performance.now() - t0);
        }
      } finally {
        x.dispose();
      }
      reply({ type: 'bench', id: msg.id, times, wallMs: performance.now() - start });
    } else {
      model.dispose();
      tf.disposeVariables();
      reply({ type: 'disposed', id: msg.id });
    }
  } catch (e) {
    reply({ type: 'error', id: msg.id, message: (e as Error).message });
  }
}

function reply(msg: TfjsWorkerReply, transfer: ArrayBuffer[] = []): void {
  port.postMessage(msg, transfer);
}

void main();
