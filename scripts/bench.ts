/**
 * `npm run bench`: the demo part model's raw throughput (inference on a prepared tensor, back to
 * back inside its worker) against the whole pipeline's (JPEG file → decode/letterbox → inference →
 * rules → SQLite record → PLC answer over OPC UA), measured alternately in one run; medians over
 * rounds. Prints a table and the ratio pipeline ÷ raw.
 *
 *   npm run bench -- [--rounds 5] [--parts 300] [--queue 4] [--no-evidence]
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../src/config/load.js';
import type { PartStationConfig } from '../src/config/schema.js';
import type { LinesideEvents } from '../src/domain/events.js';
import { TypedEmitter } from '../src/domain/typed-emitter.js';
import { silentLogger } from '../src/observability/logger.js';
import { Metrics } from '../src/observability/metrics.js';
import { OpcUaPlcLink } from '../src/plc/opcua.link.js';
import type { PlcTrigger } from '../src/plc/plc-link.js';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '../src/plc/free-port.js';
import { readSimCounters } from '../src/plc/sim/sim-counters.client.js';
import { resolveTagMap } from '../src/plc/tags.js';
import { ReplaySource } from '../src/sources/replay.source.js';
import { MemoryAuditLog } from '../src/records/testing/memory-audit.js';
import { AlarmCenter } from '../src/stations/alarm-center.js';
import { PartStation } from '../src/stations/part.station.js';
import { Recorder } from '../src/stations/recorder.js';
import { EvidenceWriter } from '../src/store/evidence.js';
import { Store } from '../src/store/store.js';
import { singleStage } from '../src/vision/inspector.js';
import { Model } from '../src/vision/model.js';

const { values: args } = parseArgs({
  options: { rounds: { type: 'string', default: '5' }, parts: { type: 'string', default: '300' }, queue: { type: 'string', default: '4' }, 'no-evidence': { type: 'boolean', default: false } },
});
const ROUNDS = Number(args.rounds);
const PARTS = Number(args.parts);
const QUEUE = Number(args.queue);

const root = fileURLToPath(new URL('../', import.meta.url));
const demo = loadConfigFile(join(root, 'config/demo.yaml'), { dataDir: mkdtempSync(join(tmpdir(), 'lineside-bench-')) });
const demoStation = demo.stations.find((s) => s.kind === 'part') as PartStationConfig;
const stationCfg = { ...demoStation, queueDepth: QUEUE, maxFrameAgeMs: 60_000, evidence: args['no-evidence'] ? [] : demoStation.evidence };
const modelCfg = demo.models[stationCfg.model]!;
const fixtures = stationCfg.source.type === 'replay' ? stationCfg.source.path : '';

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const pct = (xs: readonly number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;

/** The PLC is another device: run the simulated one in its own process, not on the appliance's event loop. */
async function startSimPlcProcess(stationId: string): Promise<{ endpoint: string; stop: () => void }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/plc/sim/sim-plc.cli.ts'), '--port', String(port), '--window', '60000', '--station', `${stationId}:part:0`], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('simulated PLC started')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`simulated PLC exited with ${code}`)));
  });
  return { endpoint: `opc.tcp://127.0.0.1:${port}`, stop: () => child.kill('SIGINT') };
}

async function main(): Promise<void> {
  const log = silentLogger();
  const metrics = new Metrics();
  const bus = new TypedEmitter<LinesideEvents>();
  const store = Store.open(demo.dataDir);
  const model = await Model.load(stationCfg.model, modelCfg);
  const sim = await startSimPlcProcess(stationCfg.id);
  const plc = new OpcUaPlcLink({
    endpoint: sim.endpoint,
    publishingIntervalMs: demo.plc.publishingIntervalMs,
    heartbeatMs: demo.plc.heartbeatMs,
    heartbeatTimeoutMs: demo.plc.heartbeatTimeoutMs,
    stations: [{ id: stationCfg.id, tags: resolveTagMap(stationCfg.id, stationCfg.plc), counter: 'TriggerCount' }],
    logger: log,
  });
  await plc.start();
  while (plc.health().state !== 'ok') await new Promise((r) => setTimeout(r, 100));

  const recorder = new Recorder({ inspections: store.inspections, evidence: new EvidenceWriter(demo.dataDir), plc, bus, metrics, logger: log }, [stationCfg]);
  const alarms = new AlarmCenter({ repo: store.alarms, audit: new MemoryAuditLog(), bus, logger: log, stations: [stationCfg.id], maxShelveMs: 3_600_000 });
  // The bench is the conveyor: it fires triggers as fast as the station's queue accepts them.
  let fire: ((t: PlcTrigger) => void) | null = null;
  const station = new PartStation(stationCfg, {
    source: new ReplaySource(fixtures),
    model: singleStage(model),
    recorder,
    alarms,
    // The PLC selects recipe 1 (the triggers below carry it), as the simulated PLC does at start.
    plc: {
      onTrigger: (_id, h) => ((fire = h), () => (fire = null)),
      onRecipeIndex: (_id, h) => (h(1), () => undefined),
      setRecipeIndexActive: () => undefined,
    },
    metrics,
    logger: log,
  });
  await station.start();
  await station.recipes?.settled();

  const sample = readFileSync(join(fixtures, readdirSync(fixtures).find((f) => f.endsWith('.jpg'))!));
  let count = 0;
  const pipelineRound = (): Promise<{ perSec: number; latencies: number[] }> =>
    new Promise((resolve) => {
      let fired = 0;
      let done = 0;
      const latencies: number[] = [];
      const t0 = performance.now();
      const trigger = (): void => {
        fired++;
        count++;
        fire!({ stationId: stationCfg.id, counter: 'TriggerCount', count, partId: `BENCH-${count}`, batchId: 'BENCH', recipeIndex: 1, receivedAt: Date.now(), missed: 0 });
      };
      const off = bus.on('inspection', (i) => {
        done++;
        latencies.push(Date.now() - i.startedAt);
        // The station frees the queue slot right after this event; fire on the next turn.
        if (fired < PARTS) setImmediate(trigger);
        if (done === PARTS) {
          off();
          resolve({ perSec: PARTS / ((performance.now() - t0) / 1000), latencies });
        }
      });
      for (let k = 0; k < QUEUE && fired < PARTS; k++) trigger();
    });

  const raw: number[] = [];
  const pipe: number[] = [];
  const allLatencies: number[] = [];
  await model.benchRaw(sample, 20); // warm-up
  await pipelineRound();
  for (let r = 0; r < ROUNDS; r++) {
    const b = await model.benchRaw(sample, PARTS);
    raw.push(b.times.length / (b.wallMs / 1000));
    const p = await pipelineRound();
    pipe.push(p.perSec);
    allLatencies.push(...p.latencies);
    console.log(`round ${r + 1}/${ROUNDS}: raw ${raw[r]!.toFixed(1)}/s, pipeline ${pipe[r]!.toFixed(1)}/s, ratio ${(pipe[r]! / raw[r]!).toFixed(3)}`);
  }
  const ratios = raw.map((r, i) => pipe[i]! / r);
  const verdicts = recorder.counters(stationCfg.id);
  console.log(`
lineside bench — ${model.versionTag}, ${cpus().length} CPU(s) ${cpus()[0]?.model ?? ''}, node ${process.version}
${PARTS} parts per round, ${ROUNDS} rounds, station queue depth ${QUEUE}, ${modelCfg.workers} worker × ${modelCfg.threads} thread(s), evidence JPEGs for ${stationCfg.evidence.join(', ') || 'no verdict'}

| measure | median | min | max |
|---|---|---|---|
| raw model throughput (prepared tensor, inside the worker) | ${median(raw).toFixed(1)}/s | ${Math.min(...raw).toFixed(1)} | ${Math.max(...raw).toFixed(1)} |
| pipeline throughput (JPEG file → verdict → SQLite → PLC write) | ${median(pipe).toFixed(1)}/s | ${Math.min(...pipe).toFixed(1)} | ${Math.max(...pipe).toFixed(1)} |
| ratio pipeline ÷ raw | ${median(ratios).toFixed(3)} | ${Math.min(...ratios).toFixed(3)} | ${Math.max(...ratios).toFixed(3)} |

pipeline latency trigger → PLC answer written: p50 ${pct(allLatencies, 0.5)} ms, p95 ${pct(allLatencies, 0.95)} ms, p99 ${pct(allLatencies, 0.99)} ms
verdicts over the run: ${JSON.stringify(verdicts)}
the simulated PLC (own process) counted ${JSON.stringify(await readSimCounters(sim.endpoint, stationCfg.id))} (conveyor off: the bench is the trigger, so ResultCounts match no open part there)`);

  await station.stop();
  await recorder.flush();
  await plc.stop();
  sim.stop();
  await model.close();
  store.close();
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
