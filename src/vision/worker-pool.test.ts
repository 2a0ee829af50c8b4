import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../domain/errors.js';
import { WorkerPool } from './worker-pool.js';

/** A stand-in inference worker: echoes after `ms`, fails on `bad`, dies on `crash`. */
const WORKER = `
const { parentPort } = require('node:worker_threads');
parentPort.postMessage({ type: 'ready', name: 'echo' });
parentPort.on('message', (m) => {
  if (m.op === 'crash') process.exit(3);
  if (m.op === 'bad') return parentPort.postMessage({ type: 'error', id: m.id, message: 'bad input' });
  setTimeout(() => parentPort.postMessage({ type: 'echo', id: m.id, value: m.value }), m.ms ?? 0);
});`;
const FAILING = `require('node:worker_threads').parentPort.postMessage({ type: 'failed', message: 'no such graph' });`;

type Req = { id: number; op: 'echo' | 'bad' | 'crash'; value?: number; ms?: number };
type Reply = { type: 'echo'; id: number; value: number } | { type: 'error'; id: number; message: string };

describe('inference worker pool', () => {
  let pool: WorkerPool<Req, Reply> | undefined;
  afterEach(async () => {
    await pool?.close();
    pool = undefined;
  });
  const start = async (n: number) => {
    const started = await WorkerPool.start<Req, Reply, { name: string }>(() => new Worker(WORKER, { eval: true }), n);
    pool = started.pool;
    return started;
  };

  it('answers every request, spread over its workers, and names a worker error', async () => {
    const { ready } = await start(2);
    expect(ready.name).toBe('echo');
    const replies = await Promise.all([1, 2, 3, 4, 5].map((value) => pool!.request((id) => ({ id, op: 'echo', value, ms: 5 }))));
    expect(replies.map((r) => (r.type === 'echo' ? r.value : null))).toEqual([1, 2, 3, 4, 5]);
    await expect(pool!.request((id) => ({ id, op: 'bad' }))).rejects.toMatchObject({ code: ErrorCode.modelRun, message: 'bad input' });
  });

  it('a crashed worker fails its request and leaves the pool; the other keeps answering', async () => {
    await start(2);
    await expect(pool!.request((id) => ({ id, op: 'crash' }))).rejects.toMatchObject({ code: ErrorCode.modelRun, message: 'inference worker crashed' });
    expect(pool!.liveWorkers).toBe(1);
    const r = await pool!.request((id) => ({ id, op: 'echo', value: 7 }));
    expect(r).toMatchObject({ type: 'echo', value: 7 });
    await expect(pool!.request((id) => ({ id, op: 'crash' }))).rejects.toMatchObject({ code: ErrorCode.modelRun });
    expect(pool!.liveWorkers).toBe(0);
    await expect(pool!.request((id) => ({ id, op: 'echo', value: 1 }))).rejects.toMatchObject({ message: 'every inference worker of this model has stopped' });
  });

  it('bounds its queue: beyond 32 waiting a request is refused at once; close refuses the rest', async () => {
    await start(1);
    const busy = pool!.request((id) => ({ id, op: 'echo', value: 0, ms: 300 }));
    const waiting = Array.from({ length: 32 }, (_, i) => pool!.request((id) => ({ id, op: 'echo', value: i })));
    await expect(pool!.request((id) => ({ id, op: 'echo', value: 99 }))).rejects.toMatchObject({ code: ErrorCode.queueFull });
    const closing = pool!.close();
    await expect(busy).rejects.toMatchObject({ code: ErrorCode.stopped });
    for (const w of waiting) await expect(w).rejects.toMatchObject({ code: ErrorCode.stopped });
    await closing;
  });

  it('a worker that cannot load its model fails the start with its reason, and no worker is left', async () => {
    await expect(WorkerPool.start(() => new Worker(FAILING, { eval: true }), 2)).rejects.toThrow('no such graph');
  });
});
