import type { Logger } from '../observability/logger.js';
import { silentLogger } from '../observability/logger.js';
import { OpcUaPlcLink } from './opcua.link.js';
import type { PlcTrigger } from './plc-link.js';
import type { StationTagMap } from './tags.js';
import { resolveTagMap } from './tags.js';

/** Shared by the PLC link tests: a link to one station and a polling wait. */
export function linkTo(
  endpoint: string,
  opts: {
    stationId?: string;
    counter?: 'TriggerCount' | 'CleanCheckRequest' | null;
    tags?: Partial<StationTagMap>;
    tagPrefix?: string;
    heartbeatMs?: number;
    heartbeatTimeoutMs?: number;
    logger?: Logger;
  } = {},
): OpcUaPlcLink {
  const id = opts.stationId ?? 'blister';
  return new OpcUaPlcLink({
    endpoint,
    publishingIntervalMs: 20,
    heartbeatMs: opts.heartbeatMs ?? 200,
    heartbeatTimeoutMs: opts.heartbeatTimeoutMs ?? 2000,
    stations: [{ id, tags: resolveTagMap(id, { tagPrefix: opts.tagPrefix, tags: opts.tags ?? {} }), counter: opts.counter === undefined ? 'TriggerCount' : opts.counter }],
    logger: opts.logger ?? silentLogger(),
  });
}

export async function waitFor(what: string, predicate: () => boolean, timeoutMs = 10_000): Promise<number> {
  const started = Date.now();
  while (!predicate()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - started;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Collects triggers; answers each unless told not to. */
export class Answerer {
  readonly triggers: PlcTrigger[] = [];
  readonly latenciesMs: number[] = [];
  readonly errors: unknown[] = [];

  constructor(link: OpcUaPlcLink, stationId: string, answer: boolean) {
    link.onTrigger(stationId, (t) => {
      this.triggers.push(t);
      if (!answer) return;
      // Even counts pass, odd ones reject: lets the test check Result was in place before ResultCount.
      const result = t.count % 2 === 0 ? 1 : 2;
      link
        .writeResult(stationId, { result, rejectCode: result === 1 ? 0 : 7, partIdEcho: t.partId, score: 0.5, resultCount: t.count })
        .then((ms) => this.latenciesMs.push(ms), (err: unknown) => this.errors.push(err));
    });
  }
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}
