import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { createLogger } from '../../observability/logger.js';
import type { SimStationSpec } from './sim-plc.js';
import { startSimPlc } from './sim-plc.js';

const USAGE = `usage: node --import tsx src/plc/sim/sim-plc.cli.ts [--host 127.0.0.1] [--port 4840] [--window 1000]
       [--batch DEMO-B001] [--interlock] [--s7] --station <id>:part:<parts per minute> | <id>:cleaning:<check every ms> | <id>:zone ...`;

function parseStation(arg: string): SimStationSpec {
  const [id, kind, rate] = arg.split(':');
  const n = rate === undefined ? 0 : Number(rate);
  if (id === undefined || id === '' || !Number.isFinite(n) || n < 0) throw new Error(`bad --station ${arg}\n${USAGE}`);
  if (kind === 'part') return { id, kind, partsPerMinute: n };
  if (kind === 'cleaning') return { id, kind, cleanCheckEveryMs: n };
  if (kind === 'zone') return { id, kind };
  throw new Error(`bad --station ${arg}: kind must be part, cleaning or zone\n${USAGE}`);
}

/** Runs the simulated PLC on its own, e.g. to point UaExpert or a second appliance at it. */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '4840' },
      window: { type: 'string', default: '1000' },
      batch: { type: 'string' },
      /** Hold a station's conveyor while its Ready is false, as a real line interlocks. */
      interlock: { type: 'boolean', default: false },
      /** Node IDs as an S7-1500 data block: ns=1;s="VisionDB_<station>"."<Tag>". */
      s7: { type: 'boolean', default: false },
      station: { type: 'string', multiple: true, default: [] },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || values.station.length === 0) {
    process.stdout.write(`${USAGE}\n`);
    process.exitCode = values.help ? 0 : 2;
    return;
  }
  const log = createLogger('info').child({ component: 'sim-plc' });
  const sim = await startSimPlc({
    host: values.host,
    port: Number(values.port),
    windowMs: Number(values.window),
    batchId: values.batch,
    stations: values.station.map(parseStation),
    interlockReady: values.interlock,
    nodeLayout: values.s7 ? 's7' : 'plain',
    logger: log,
  });
  const stations = values.station.map((a) => a.split(':')[0]!);
  // Commands on stdin, one per line: `rate <station> <parts per minute>` changes a conveyor,
  // `recipe <station> <index>` starts a changeover (the conveyor holds until RecipeIndexActive echoes it).
  createInterface({ input: process.stdin }).on('line', (line) => {
    const [cmd, id, n] = line.trim().split(/\s+/);
    if (cmd === 'rate' && id !== undefined && Number.isFinite(Number(n))) {
      try {
        sim.setPartsPerMinute(id, Number(n));
      } catch (err) {
        log.error({ err }, 'rate not changed');
      }
    } else if (cmd === 'recipe' && id !== undefined && n !== undefined && Number.isInteger(Number(n))) {
      try {
        sim.setRecipeIndex(id, Number(n));
      } catch (err) {
        log.error({ err }, 'recipe not changed');
      }
    } else if (cmd !== undefined && cmd !== '') log.warn({ line }, 'unknown command; try: rate <station> <parts per minute>, recipe <station> <index>');
  });
  const stop = (signal: string): void => {
    // What the PLC saw, with its own trigger → ResultCount timing, for whoever ran it (the line bench reads this line).
    for (const id of stations) log.info({ station: id, counters: sim.counters(id), latency: sim.latency(id), recipe: sim.recipe(id) }, 'simulated PLC tally');
    log.info({ signal }, 'stopping simulated PLC');
    sim.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'simulated PLC did not stop cleanly');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
