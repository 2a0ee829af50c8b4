/**
 * `npm run bench:line`: the whole appliance (demo blister station, camera replayed at 25 fps) on
 * a line run by the simulated PLC in its own process, at 10 and 20 parts/s. The figure is the
 * PLC's own: from raising TriggerCount to seeing the matching ResultCount, timed inside the
 * simulator, as a real PLC's inspection window sees it. Medians over rounds.
 *
 *   npm run bench:line -- [--rounds 3] [--seconds 30] [--rates 10,20]
 */
import { spawn } from 'node:child_process';
import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseConfig, loadConfigFile } from '../src/config/load.js';
import type { ConfigInput } from '../src/config/schema.js';
import { Appliance } from '../src/main.js';
import { silentLogger } from '../src/observability/logger.js';
import { freePort } from '../src/plc/free-port.js';
import type { SimLatency } from '../src/plc/sim/sim-plc.js';
import type { SimCounterTag } from '../src/plc/tags.js';

const { values: args } = parseArgs({
  options: { rounds: { type: 'string', default: '3' }, seconds: { type: 'string', default: '30' }, rates: { type: 'string', default: '10,20' } },
});
const ROUNDS = Number(args.rounds);
const SECONDS = Number(args.seconds);
const RATES = args.rates.split(',').map(Number);
const WINDOW_MS = 1000;
const root = fileURLToPath(new URL('../', import.meta.url));

interface Tally {
  counters: Record<SimCounterTag, number>;
  latency: SimLatency;
}

/** The simulated PLC in its own process; resolves its tally when stopped. */
async function startPlc(partsPerSecond: number): Promise<{ endpoint: string; halt: () => void; stop: () => Promise<Tally> }> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(root, 'src/plc/sim/sim-plc.cli.ts'), '--port', String(port), '--window', String(WINDOW_MS), '--interlock', '--station', `blister:part:${partsPerSecond * 60}`],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const poll = setInterval(() => out.includes('simulated PLC started') && (clearInterval(poll), resolve()), 50);
    child.once('exit', (code) => (clearInterval(poll), reject(new Error(`simulated PLC exited with ${code}`))));
  });
  return {
    endpoint: `opc.tcp://127.0.0.1:${port}`,
    halt: () => child.stdin.write('rate blister 0\n'),
    stop: () =>
      new Promise<Tally>((resolve, reject) => {
        child.once('exit', () => {
          const line = out.split('\n').find((l) => l.includes('simulated PLC tally'));
          if (line === undefined) return reject(new Error('the simulated PLC printed no tally'));
          resolve(JSON.parse(line) as Tally);
        });
        child.kill('SIGINT');
      }),
  };
}

function lineConfig(endpoint: string) {
  const demo = loadConfigFile(join(root, 'config/demo.yaml'));
  const raw = structuredClone(demo) as unknown as ConfigInput;
  raw.dataDir = mkdtempSync(join(tmpdir(), 'lineside-bench-line-'));
  raw.http = { host: '127.0.0.1', port: 0 };
  raw.plc.endpoint = endpoint;
  delete raw.plc.simulate;
  raw.log = { level: 'silent' };
  raw.stations = raw.stations.filter((s) => s.id === 'blister');
  const blister = raw.stations[0]!;
  if (blister.kind === 'part' && blister.source.type === 'replay') blister.source.fps = 25;
  return parseConfig(raw, root, 'bench-line');
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The PLC's tally, and how many of the answered parts the appliance's own records say it did not inspect. */
interface Round extends Tally {
  readonly notInspected: number;
}

async function round(partsPerSecond: number): Promise<Round> {
  const plc = await startPlc(partsPerSecond);
  const app = await Appliance.start(lineConfig(plc.endpoint), { logger: silentLogger() });
  const file = app.store.file;
  try {
    const until = Date.now() + 30_000;
    while ((await fetch(`${app.httpUrl}/healthz`)).status !== 200) {
      if (Date.now() > until) throw new Error('the appliance did not become healthy in 30 s');
      await sleep(100);
    }
    await sleep(SECONDS * 1000);
    plc.halt();
    await sleep(WINDOW_MS + 200); // the last part's window closes
  } finally {
    await app.stop();
  }
  const tally = await plc.stop();
  const db = new Database(file, { readonly: true });
  try {
    const row = db.prepare(`SELECT COUNT(*) AS n FROM inspections WHERE station_id = 'blister' AND verdict = 'not_inspected'`).get() as { n: number };
    return { ...tally, notInspected: row.n };
  } finally {
    db.close();
  }
}

async function main(): Promise<void> {
  const rows: string[] = [];
  for (const rate of RATES) {
    const tallies: Round[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const t = await round(rate);
      tallies.push(t);
      console.log(`${rate} parts/s, round ${r + 1}/${ROUNDS}: ${JSON.stringify(t.counters)} latency p50 ${t.latency.p50Ms.toFixed(1)} ms p99 ${t.latency.p99Ms.toFixed(1)} ms max ${t.latency.maxMs.toFixed(1)} ms; not inspected ${t.notInspected}`);
    }
    const sum = (k: SimCounterTag): number => tallies.reduce((a, t) => a + t.counters[k], 0);
    const p50 = tallies.map((t) => t.latency.p50Ms);
    const p99 = tallies.map((t) => t.latency.p99Ms);
    rows.push(
      `| ${rate} | ${sum('PartsTriggered')} | ${sum('ResultsReceived')} | ${tallies.map((t) => t.notInspected).join(' / ')} | ${sum('TimedOut')} | ${sum('Mismatched')} | ${median(p50).toFixed(1)} (${Math.min(...p50).toFixed(1)}–${Math.max(...p50).toFixed(1)}) | ${median(p99).toFixed(1)} (${Math.min(...p99).toFixed(1)}–${Math.max(...p99).toFixed(1)}) | ${Math.max(...tallies.map((t) => t.latency.maxMs)).toFixed(1)} |`,
    );
  }
  console.log(`
lineside line bench — ${cpus().length} CPU(s) ${cpus()[0]?.model ?? ''}, node ${process.version}
${ROUNDS} rounds × ${SECONDS} s per rate, PLC inspection window ${WINDOW_MS} ms, simulated PLC in its own process, camera replayed at 25 fps

| parts/s | triggered | answered | not inspected, per round | timed out | mismatched | p50 ms, median (min–max) | p99 ms, median (min–max) | max ms |
|---|---|---|---|---|---|---|---|---|
${rows.join('\n')}

Trigger → ResultCount as the PLC timed it (its own clock), every part of every round. Not inspected: answered
Result = 4 (rejected, fail-safe) without an inspection, from the appliance's own records (a full queue, a stale frame).`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
