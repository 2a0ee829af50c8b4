/**
 * Picks the TF.js backend for this thread: `tensorflow` (@tensorflow/tfjs-node, native
 * libtensorflow) when it can be imported, else `wasm` (XNNPACK in WebAssembly, its `.wasm` files
 * read from the installed @tensorflow/tfjs-backend-wasm — never fetched). The pure-JS `cpu` backend
 * is 25–40× slower than wasm (DESIGN.md): never a silent fallback, only when named.
 * Loaded only inside inference workers (and tests): importing TF.js costs ~250 ms.
 */
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { TfjsBackendChoice, TfjsBackendName } from './tfjs-protocol.js';

export interface ChosenBackend {
  readonly backend: TfjsBackendName;
  /** Threads the backend really uses: 1 for wasm in Node, 0 when the backend does not say. */
  readonly threads: number;
  readonly notes: readonly string[];
}

/** An optional dependency (its install downloads libtensorflow): a variable, so tsc need not find it. */
const TFJS_NODE: string = '@tensorflow/tfjs-node';

/** The installed tfjs-backend-wasm's dist/ folder, where its three `.wasm` binaries are. */
export function defaultWasmDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + sep;
}

/**
 * Make `want` the active backend of this thread. `auto` falls through tensorflow → wasm, saying
 * why in `notes`, and throws when neither starts; a named backend that cannot start throws. Call once per thread, before
 * any tensor exists.
 */
export async function selectTfjsBackend(want: TfjsBackendChoice, opts: { threads: number; wasmDir?: string | undefined }): Promise<ChosenBackend> {
  const notes: string[] = [];
  if (want === 'auto' || want === 'tensorflow') {
    try {
      await import(TFJS_NODE);
      if (await tf.setBackend('tensorflow')) {
        await tf.ready();
        notes.push('tensorflow (tfjs-node): libtensorflow sizes its own thread pools; threads is not applied');
        return { backend: 'tensorflow', threads: 0, notes };
      }
      notes.push('@tensorflow/tfjs-node imported but its backend did not start');
    } catch (e) {
      notes.push(`@tensorflow/tfjs-node cannot be imported (${firstLine(e)})`);
    }
    if (want === 'tensorflow') throw new Error(`backend tensorflow unavailable: ${notes.join('; ')}`);
  }
  if (want === 'auto' || want === 'wasm') {
    const dir = opts.wasmDir === undefined ? defaultWasmDir() : withSep(opts.wasmDir);
    try {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      wasm.setWasmPaths(dir);
      wasm.setThreadsCount(Math.max(1, opts.threads));
      if (await tf.setBackend('wasm')) {
        await tf.ready();
        const threads = wasm.getThreadsCount();
        if (opts.threads > threads) {
          notes.push(
            `wasm: ${threads} thread (asked ${opts.threads}); tfjs-backend-wasm runs its multithreaded binary only in browsers (tfjs issue 3830), so in Node use more workers instead`,
          );
        }
        const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
        notes.push(`wasm: ${simd ? 'SIMD' : 'plain'} binary from ${dir}`);
        return { backend: 'wasm', threads, notes };
      }
      notes.push(`wasm backend did not start (its .wasm files from ${dir})`);
    } catch (e) {
      notes.push(`wasm backend failed: ${firstLine(e)}`);
    }
    throw new Error(`${want === 'wasm' ? 'backend wasm unavailable' : 'no usable TF.js backend (the cpu backend is too slow to fall back to)'}: ${notes.join('; ')}`);
  }
  if (!(await tf.setBackend('cpu'))) throw new Error('backend cpu did not start');
  await tf.ready();
  notes.push('cpu: plain JavaScript kernels, the slowest backend (asked for by name)');
  return { backend: 'cpu', threads: 1, notes };
}

function withSep(dir: string): string {
  return dir.endsWith('/') || dir.endsWith(sep) ? dir : dir + sep;
}

function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : typeof e === 'object' && e !== null && 'message' in e ? String((e as { message: unknown }).message) : String(e);
  return msg.split('\n')[0] ?? msg;
}
