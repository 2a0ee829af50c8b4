import type { ServerResponse } from 'node:http';
import type { AlarmEvent } from '../domain/alarm.js';
import type { LinesideEvents } from '../domain/events.js';
import type { TypedEmitter } from '../domain/typed-emitter.js';

/** One message of the page's live stream. */
export interface StreamEvent {
  readonly id: number;
  readonly type: 'inspection' | 'alarm' | 'health';
  readonly data: unknown;
}

/** A client that falls this far behind is cut off; it reconnects and resumes from its last id. */
const MAX_BUFFERED_BYTES = 1 << 20;

/**
 * The appliance's events for the page as Server-Sent Events. Every event gets the next id and is
 * kept in a ring of the most recent ones, so a client that lost its connection resumes where it
 * left off (`Last-Event-ID`); one that was away longer than the ring covers is told to `reset`
 * (reload its state) instead of silently missing events.
 */
export class EventStream {
  readonly #ring: StreamEvent[] = [];
  readonly #capacity: number;
  readonly #clients = new Map<(e: StreamEvent) => void, ServerResponse>();
  readonly #unsubscribe: Array<() => void>;
  #next = 1;

  constructor(bus: TypedEmitter<LinesideEvents>, opts: { capacity?: number; inspection: (i: LinesideEvents['inspection'][0]) => unknown }) {
    this.#capacity = opts.capacity ?? 2000;
    this.#unsubscribe = [
      bus.on('inspection', (i) => this.#push('inspection', opts.inspection(i))),
      bus.on('alarm', (a: AlarmEvent) => this.#push('alarm', { ...a, at: new Date(a.at).toISOString() })),
      bus.on('health', (h) => this.#push('health', h)),
    ];
  }

  get lastId(): number {
    return this.#next - 1;
  }

  get clients(): number {
    return this.#clients.size;
  }

  /** Events after `id`, or null when some of them have already left the ring. */
  since(id: number): StreamEvent[] | null {
    if (id >= this.lastId) return [];
    const oldest = this.#ring[0]?.id ?? this.#next;
    if (id + 1 < oldest) return null;
    return this.#ring.filter((e) => e.id > id);
  }

  /**
   * Serve one client on a raw response: replay from `lastEventId`, then stream live, with a
   * comment line every `keepAliveMs` so proxies and the browser see the connection alive.
   */
  serve(res: ServerResponse, lastEventId: number | null, keepAliveMs = 15_000): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    const send = (e: StreamEvent): void => {
      if (res.writableLength > MAX_BUFFERED_BYTES) {
        res.end();
        return;
      }
      res.write(`id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e.data)}\n\n`);
    };
    if (lastEventId === null) {
      res.write(`id: ${this.lastId}\nevent: hello\ndata: ${JSON.stringify({ lastId: this.lastId })}\n\n`);
    } else {
      const missed = this.since(lastEventId);
      if (missed === null) res.write(`id: ${this.lastId}\nevent: reset\ndata: ${JSON.stringify({ reason: 'events were missed; reload the state' })}\n\n`);
      else for (const e of missed) send(e);
    }
    this.#clients.set(send, res);
    const timer = setInterval(() => res.write(': keep-alive\n\n'), keepAliveMs);
    timer.unref();
    res.on('close', () => {
      clearInterval(timer);
      this.#clients.delete(send);
    });
  }

  /** Stop listening and end every client's stream (the server can then close). */
  close(): void {
    for (const u of this.#unsubscribe.splice(0)) u();
    for (const res of this.#clients.values()) res.end();
    this.#clients.clear();
  }

  #push(type: StreamEvent['type'], data: unknown): void {
    const e = { id: this.#next++, type, data };
    this.#ring.push(e);
    if (this.#ring.length > this.#capacity) this.#ring.shift();
    for (const send of this.#clients.keys()) send(e);
  }
}
