import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, isLinesideError } from '../domain/errors.js';
import type { ComponentHealth } from '../domain/health.js';
import { createLogger } from '../observability/logger.js';
import type { OpcUaPlcLink } from './opcua.link.js';
import { Answerer, linkTo, percentile, sleep, waitFor } from './opcua.test-support.js';
import type { SimPlc } from './sim/sim-plc.js';
import { simTagPrefix } from './sim/sim-address-space.js';
import { simPartId, startSimPlc } from './sim/sim-plc.js';

const report = createLogger('info').child({ test: 'plc-link' });

describe('OpcUaPlcLink against the simulated PLC', () => {
  let sim: SimPlc | undefined;
  let link: OpcUaPlcLink | undefined;

  afterEach(async () => {
    await link?.stop();
    await sim?.stop();
    link = undefined;
    sim = undefined;
  });

  it('delivers every trigger with its PartId; answered parts are received, unanswered ones time out', async () => {
    const started = Date.now();
    sim = await startSimPlc({
      port: 0,
      // Generous, so a slow CI box does not turn an answered part into a timed-out one.
      windowMs: 1500,
      stations: [
        { id: 'blister', kind: 'part', partsPerMinute: 0 },
        { id: 'vial', kind: 'part', partsPerMinute: 0 },
      ],
    });
    const startupMs = Date.now() - started;
    link = linkTo(sim.endpoint);
    const answered = new Answerer(link, 'blister', true);
    await link.start();
    // A second client watches vial and never answers.
    const vialLink = linkTo(sim.endpoint, { stationId: 'vial' });
    const vial = new Answerer(vialLink, 'vial', false);
    await vialLink.start();
    try {
      await waitFor('both links ok', () => link?.health().state === 'ok' && vialLink.health().state === 'ok');
      // Conveyors start once the links hold their baselines, so every part is one the link sees.
      // 3,000/min (one part per 20 ms): several answers are in flight at once, so this also checks that
      // one station's handshakes do not interleave.
      sim.setPartsPerMinute('blister', 3000);
      sim.setPartsPerMinute('vial', 600);
      await sleep(3000);
      sim.setPartsPerMinute('blister', 0);
      sim.setPartsPerMinute('vial', 0);
      await sleep(1700); // every window closed
    } finally {
      await vialLink.stop();
    }

    const b = sim.counters('blister');
    expect(answered.errors).toEqual([]);
    expect(b.PartsTriggered).toBeGreaterThanOrEqual(120);
    expect(answered.triggers).toHaveLength(b.PartsTriggered);
    for (const t of answered.triggers) {
      expect(t.partId).toBe(simPartId('blister', t.count));
      expect(t.missed).toBe(0);
      expect(t.batchId).toBe('DEMO-B001');
      expect(t.recipeIndex).toBe(1);
    }
    expect(b.ResultsReceived).toBe(b.PartsTriggered);
    expect(b.TimedOut).toBe(0);
    // ResultCount goes last: the PLC saw the matching PartIdEcho and Result every time.
    expect(b.Mismatched).toBe(0);
    expect(b.Passed).toBe(answered.triggers.filter((t) => t.count % 2 === 0).length);
    expect(b.Rejected).toBe(answered.triggers.filter((t) => t.count % 2 === 1).length);

    const v = sim.counters('vial');
    expect(vial.triggers).toHaveLength(v.PartsTriggered);
    expect(v.PartsTriggered).toBeGreaterThanOrEqual(20);
    expect(v.TimedOut).toBe(v.PartsTriggered);
    expect(v.ResultsReceived).toBe(0);

    report.info(
      { simStartupMs: startupMs, writeLatencyP50Ms: percentile(answered.latenciesMs, 50), writeLatencyP95Ms: percentile(answered.latenciesMs, 95), parts: b.PartsTriggered },
      'sim + link figures',
    );
  });

  it('triggers a cleaning station on CleanCheckRequest', async () => {
    sim = await startSimPlc({ port: 0, windowMs: 500, stations: [{ id: 'hopper', kind: 'cleaning', cleanCheckEveryMs: 150 }] });
    link = linkTo(sim.endpoint, { stationId: 'hopper', counter: 'CleanCheckRequest' });
    const answers = new Answerer(link, 'hopper', true);
    await link.start();
    await waitFor('three cleaning requests', () => answers.triggers.length >= 3, 10_000);
    await sleep(200);
    expect(answers.triggers.every((t) => t.counter === 'CleanCheckRequest' && t.partId === simPartId('hopper', t.count))).toBe(true);
    const c = sim.counters('hopper');
    // Requests raised before the link subscribed stay open: a cleaning check's window is >= 30 s.
    expect(c.TimedOut).toBe(0);
    expect(c.ResultsReceived).toBeGreaterThanOrEqual(answers.triggers.length - 1);
    expect(c.Mismatched).toBe(0);
  });

  it('works with an S7-1500-style data block, every name quoted (ns=…;s="VisionDB_blister"."Result")', async () => {
    sim = await startSimPlc({ port: 0, windowMs: 1500, nodeLayout: 's7', stations: [{ id: 'blister', kind: 'part', partsPerMinute: 0 }] });
    link = linkTo(sim.endpoint, { tagPrefix: simTagPrefix('blister', 's7') });
    const answered = new Answerer(link, 'blister', true);
    await link.start();
    await waitFor('link ok', () => link?.health().state === 'ok');
    sim.setPartsPerMinute('blister', 600);
    await waitFor('ten answered parts', () => sim!.counters('blister').ResultsReceived >= 10);
    sim.setPartsPerMinute('blister', 0);
    await sleep(1700);
    const c = sim.counters('blister');
    expect(answered.errors).toEqual([]);
    expect(c.ResultsReceived).toBe(c.PartsTriggered);
    expect(c.Mismatched).toBe(0);
    expect(answered.triggers.every((t) => t.partId === simPartId('blister', t.count))).toBe(true);
  });

  it('refuses to run against a tag of the wrong data type and names the tag', async () => {
    sim = await startSimPlc({ port: 0, windowMs: 500, stations: [{ id: 'blister', kind: 'part', partsPerMinute: 600 }] });
    link = linkTo(sim.endpoint, { tags: { Result: 'ns=1;s=blister.Score', PartId: 'ns=1;s=blister.Missing' } });
    const triggers = new Answerer(link, 'blister', false).triggers;
    await link.start();
    await waitFor('health down', () => link?.health().state === 'down');
    const detail = link.health().detail ?? '';
    expect(detail).toContain('station blister: tag Result (ns=1;s=blister.Score) is Float, expected Int16');
    expect(detail).toContain('station blister: tag PartId (ns=1;s=blister.Missing) cannot be read: BadNodeIdUnknown');
    await sleep(300);
    expect(triggers).toEqual([]);
    await expect(link.writeResult('blister', { result: 1, rejectCode: 0, partIdEcho: 'x', score: 1, resultCount: 1 })).rejects.toSatisfy((e) =>
      isLinesideError(e, ErrorCode.plcNotConnected),
    );
  });

  it('throws LINESIDE_ERR_PLC_WRITE naming the tag the PLC refused', async () => {
    sim = await startSimPlc({ port: 0, windowMs: 500, stations: [{ id: 'blister', kind: 'part', partsPerMinute: 0 }] });
    // Same data type (UInt32), but read-only on the PLC: the contract check passes, the write does not.
    link = linkTo(sim.endpoint, { tags: { ResultCount: 'ns=1;s=blister.PartsTriggered' } });
    await link.start();
    await waitFor('link ok', () => link?.health().state === 'ok');
    const err: unknown = await link.writeResult('blister', { result: 1, rejectCode: 0, partIdEcho: 'P', score: 0.9, resultCount: 1 }).catch((e: unknown) => e);
    expect(isLinesideError(err, ErrorCode.plcWrite)).toBe(true);
    expect((err as Error).message).toBe('station blister: PLC refused tag ResultCount (ns=1;s=blister.PartsTriggered): BadNotWritable');
  });

  it('reports the PLC heartbeat lost and resumed', async () => {
    sim = await startSimPlc({ port: 0, windowMs: 500, stations: [{ id: 'blister', kind: 'part', partsPerMinute: 0 }] });
    link = linkTo(sim.endpoint, { heartbeatMs: 100, heartbeatTimeoutMs: 600 });
    const beats: boolean[] = [];
    const healths: ComponentHealth[] = [];
    link.onPlcHeartbeat((alive) => beats.push(alive));
    link.onHealth((h) => healths.push(h));
    await link.start();
    await waitFor('link ok', () => link?.health().state === 'ok');
    sim.setHeartbeatRunning(false);
    await waitFor('heartbeat lost', () => beats.includes(false), 3000);
    expect(link.health()).toMatchObject({ state: 'degraded', detail: 'PLC heartbeat lost (stations blister)' });
    sim.setHeartbeatRunning(true);
    await waitFor('heartbeat resumed', () => beats.at(-1) === true, 3000);
    expect(beats).toEqual([false, true]);
    expect(link.health().state).toBe('ok');
    expect(healths.map((h) => h.state)).toEqual(['ok', 'degraded', 'ok']);
  });

  it("the simulated conveyor keeps the line's rate when its process is busy: the parts that came meanwhile follow at once", async () => {
    sim = await startSimPlc({ port: 0, windowMs: 500, stations: [{ id: 'blister', kind: 'part', partsPerMinute: 0 }] });
    const started = performance.now();
    sim.setPartsPerMinute('blister', 1200); // one part every 50 ms
    await sleep(100);
    // The process is busy for 400 ms: eight parts pass the camera meanwhile.
    while (performance.now() - started < 500) {
      // busy
    }
    await sleep(1000 - (performance.now() - started));
    sim.setPartsPerMinute('blister', 0);
    // 20 parts in the second; an interval timer, drifting with the stall, would have made about 13.
    expect(sim.counters('blister').PartsTriggered).toBeGreaterThanOrEqual(18);
    expect(sim.counters('blister').PartsTriggered).toBeLessThanOrEqual(21);
  });
});
