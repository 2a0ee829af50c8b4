import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, isLinesideError } from '../domain/errors.js';
import type { HealthState } from '../domain/health.js';
import { createLogger } from '../observability/logger.js';
import { freePort } from './free-port.js';
import type { OpcUaPlcLink } from './opcua.link.js';
import { Answerer, linkTo, sleep, waitFor } from './opcua.test-support.js';
import type { SimPlc } from './sim/sim-plc.js';
import { simPartId, startSimPlc } from './sim/sim-plc.js';

const report = createLogger('info').child({ test: 'plc-reconnect' });
const blister = (partsPerMinute: number) => [{ id: 'blister', kind: 'part' as const, partsPerMinute }];

describe('OpcUaPlcLink reconnection (node-opcua connectionStrategy and session repair)', () => {
  let sim: SimPlc | undefined;
  let link: OpcUaPlcLink | undefined;

  afterEach(async () => {
    await link?.stop();
    await sim?.stop();
    link = undefined;
    sim = undefined;
  });

  it('is down while the PLC is unreachable at start, then connects once it comes up', async () => {
    const port = await freePort();
    link = linkTo(`opc.tcp://127.0.0.1:${port}`);
    const states: HealthState[] = [];
    link.onHealth((h) => states.push(h.state));
    const answers = new Answerer(link, 'blister', true);
    const t0 = Date.now();
    await link.start();
    expect(Date.now() - t0).toBeLessThan(200); // start() does not wait for the PLC
    await waitFor('health down', () => link?.health().state === 'down', 5000);
    expect(link.health().detail).toBe(`PLC unreachable at opc.tcp://127.0.0.1:${port}`);
    await expect(link.writeResult('blister', { result: 1, rejectCode: 0, partIdEcho: 'P', score: 1, resultCount: 1 })).rejects.toSatisfy((e) =>
      isLinesideError(e, ErrorCode.plcNotConnected),
    );

    await sleep(1500);
    sim = await startSimPlc({ port, windowMs: 1000, stations: blister(600) });
    const upAt = Date.now();
    await waitFor('health ok', () => link?.health().state === 'ok', 15_000);
    await waitFor('triggers', () => answers.triggers.length >= 5, 5000);
    report.info({ connectAfterPlcUpMs: Date.now() - upAt }, 'PLC came up late: link connected');
    expect(states).toEqual(['down', 'ok']);
    for (const t of answers.triggers) expect(t.partId).toBe(simPartId('blister', t.count));
    await sleep(300);
    expect(answers.errors).toEqual([]);
    expect(sim.counters('blister').Mismatched).toBe(0);
  });

  it('gets triggers flowing again after the PLC restarts (a fresh server on the same port)', async () => {
    const port = await freePort();
    sim = await startSimPlc({ port, windowMs: 1000, stations: blister(600) });
    link = linkTo(sim.endpoint);
    const answers = new Answerer(link, 'blister', true);
    await link.start();
    await waitFor('triggers before restart', () => answers.triggers.length >= 5, 10_000);

    await sim.stop();
    await waitFor('health down', () => link?.health().state === 'down', 5000);
    expect(link.health().detail).toBe('connection to PLC lost; reconnecting');
    const before = answers.triggers.length;
    const restartedAt = Date.now();
    sim = await startSimPlc({ port, windowMs: 1000, stations: blister(600) });
    const simUpMs = Date.now() - restartedAt;
    await waitFor('a trigger from the new PLC', () => answers.triggers.length > before, 15_000);
    const firstTriggerMs = Date.now() - restartedAt;
    report.info({ restartToFirstTriggerMs: firstTriggerMs, simStartupMs: simUpMs }, 'PLC restart: triggers flowing again');

    await waitFor('health ok', () => link?.health().state === 'ok', 5000);
    await sleep(1000);
    const after = answers.triggers.slice(before);
    // The new PLC counts from 1 again; the first value seen is a baseline, not a trigger.
    expect(after.every((t) => t.partId === simPartId('blister', t.count) && t.missed === 0)).toBe(true);
    expect(after.length).toBeGreaterThanOrEqual(8);
    const c = sim.counters('blister');
    expect(c.Mismatched).toBe(0);
    // Only parts triggered before the link was back in are left to time out.
    expect(c.ResultsReceived).toBeGreaterThanOrEqual(after.length - 1);
  });
});
