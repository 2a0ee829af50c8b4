import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { LinesideEvents } from '../domain/events.js';
import type { StoredInspection } from '../domain/inspection.js';
import { TypedEmitter } from '../domain/typed-emitter.js';
import { silentLogger } from '../observability/logger.js';
import { Metrics } from '../observability/metrics.js';
import { buildWebApp, type WebDeps } from './app.js';
import { ROLE_USERS, signIn, webRecords } from './testing.js';

/** The stream is for signed-in users: one viewer account to open it with. */
const kit = await webRecords(['viewer']);
afterAll(() => kit.close());
let cookie = '';

const inspection = (id: number): StoredInspection => ({
  id, stationId: 'blister', kind: 'part', triggerCount: id, partId: `P-${id}`, batchId: 'B1', recipeIndex: 1, verdict: 'pass',
  reason: null, rejectCode: 0, score: 0.1, startedAt: Date.now(), timings: {}, modelVersions: {}, frameOrigin: null, findings: [],
  evidencePath: null, evidenceSha256: null, plcWrittenAt: null,
});

interface Message { id: string; event: string; data: unknown }

/** An SSE client as a browser's EventSource is: reads `id`/`event`/`data` blocks off the stream. */
async function connect(url: string, lastEventId?: number) {
  const ctrl = new AbortController();
  const res = await fetch(url, { signal: ctrl.signal, headers: { cookie, ...(lastEventId === undefined ? {} : { 'last-event-id': String(lastEventId) }) } });
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  const queue: Message[] = [];
  async function next(): Promise<Message> {
    for (;;) {
      if (queue.length) return queue.shift()!;
      const blocks = buf.split('\n\n');
      buf = blocks.pop()!;
      for (const b of blocks) {
        const f = Object.fromEntries(b.split('\n').filter((l) => l && !l.startsWith(':')).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]));
        if (f.event) queue.push({ id: f.id!, event: f.event, data: JSON.parse(f.data!) });
      }
      if (queue.length) continue;
      const { value, done } = await reader.read();
      if (done) throw new Error('stream ended');
      buf += value;
    }
  }
  return { res, next, close: () => ctrl.abort() };
}

describe('live events for the page (Server-Sent Events)', () => {
  let app: ReturnType<typeof buildWebApp> | undefined;
  afterEach(async () => app?.close());

  async function start(bus: TypedEmitter<LinesideEvents>): Promise<string> {
    app = buildWebApp({ line: 'L', version: '0', bus, records: kit.records, metrics: new Metrics(), logger: silentLogger() } as unknown as WebDeps);
    await app.listen({ host: '127.0.0.1', port: 0 });
    cookie = (await signIn(app, ROLE_USERS.viewer)).cookie;
    return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/api/events`;
  }

  it('is not served to a client that is not signed in', async () => {
    const url = await start(new TypedEmitter<LinesideEvents>());
    const res = await fetch(url);
    expect(res.status).toBe(401);
    await res.body?.cancel();
  });

  it('streams inspections and alarms as they happen, and a client that reconnects gets what it missed, in order', async () => {
    const bus = new TypedEmitter<LinesideEvents>();
    const url = await start(bus);
    const a = await connect(url);
    expect(a.res.headers.get('content-type')).toContain('text/event-stream');
    expect((await a.next()).event).toBe('hello');
    bus.emit('inspection', inspection(1));
    const first = await a.next();
    expect(first).toMatchObject({ event: 'inspection', data: { id: 1, partId: 'P-1', verdict: 'pass' } });
    a.close();

    // While the client is away (Wi-Fi drop on a tablet): two more events.
    bus.emit('alarm', { stationId: 'blister', category: 'cameraLost', state: 'raised', severity: 'critical', message: 'camera lost', at: Date.now() });
    bus.emit('inspection', inspection(2));
    const b = await connect(url, Number(first.id));
    expect(await b.next()).toMatchObject({ event: 'alarm', data: { category: 'cameraLost', state: 'raised' } });
    expect(await b.next()).toMatchObject({ event: 'inspection', data: { id: 2 } });
    bus.emit('inspection', inspection(3));
    expect(await b.next()).toMatchObject({ event: 'inspection', data: { id: 3 } });
    b.close();
  });

  it('tells a client that was away longer than the replay covers to reload, instead of skipping events silently', async () => {
    const bus = new TypedEmitter<LinesideEvents>();
    const url = await start(bus);
    for (let i = 1; i <= 2100; i++) bus.emit('inspection', inspection(i));
    const c = await connect(url, 5);
    expect((await c.next()).event).toBe('reset');
    bus.emit('inspection', inspection(2101));
    expect(await c.next()).toMatchObject({ event: 'inspection', data: { id: 2101 } });
    c.close();
  });

  it('does not keep the server from stopping while a page is connected', async () => {
    const bus = new TypedEmitter<LinesideEvents>();
    const url = await start(bus);
    const c = await connect(url);
    await c.next();
    const t0 = Date.now();
    await app!.close();
    app = undefined;
    expect(Date.now() - t0).toBeLessThan(2000);
    await expect(c.next()).rejects.toThrow();
  });
});
