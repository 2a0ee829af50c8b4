#!/usr/bin/env node
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { loadConfigFile, type ConfigOverrides } from './config/load.js';
import { isLinesideError } from './domain/errors.js';
import { recordsCommand, RECORDS_USAGE } from './records/records.cli.js';
import { VERSION } from './version.js';

// Each command loads only what it needs (the appliance, node-opcua, onnxruntime, sharp are heavy):
// `lineside report` or `--version` answer in a fraction of the time `run` needs to start.

const DEMO_CONFIG = fileURLToPath(new URL('../config/demo.yaml', import.meta.url));

const USAGE = `lineside ${VERSION} — line-side vision inspection

usage:
  lineside run [--config FILE] [--data-dir DIR] [--http-host ADDR] [--http-port N]
      Run the appliance. Without --config, runs the embedded demo (simulated PLC,
      three stations on fixture images) with data under ./data.
  lineside check-config FILE
      Validate a config file; exits 1 with a message naming the station and key.
  lineside plc-counters [--endpoint URL] [--station ID ...]
      Read what the simulated PLC saw (PartsTriggered, ResultsReceived, Passed,
      Rejected, TimedOut, Mismatched) over OPC UA. Defaults: the demo's endpoint
      opc.tcp://127.0.0.1:4840 and its stations blister, hopper.
  lineside probe-source (--config FILE --station ID | ADDRESS [--type KIND])
                        [--seconds N] [--out FILE]
      Commissioning check of a camera: connects as the station would, reports
      time to first frame, resolution, frame rate and decode time, and saves a
      sample frame (default ./probe-<station or kind>.jpg). ADDRESS: rtsp://…,
      http(s)://… (MJPEG or stills, detected), /dev/videoN, genicam://IP, a
      folder, or a video file. Exits 1 with the camera's reason when it cannot
      be reached or refuses the credentials.
  lineside infer --model FILE [--manifest FILE] [--out DIR] IMAGE...
      Run a model on images exactly as a station would and print the decoded
      detections or class scores as JSON (boxes in original image pixels);
      writes an annotated copy of each image (<name>.lineside.jpg). Exits 1 if
      the model or any image could not be used, saying why.
  lineside teach --station ID --images DIR [--out models/NAME.onnx]
      Teach an anomaly (defect) model from images of good parts only, on this
      box: writes the ONNX file (outputs pred_score and anomaly_map, 0.5 = the
      taught threshold), its manifest NAME.json with the sha256, and checks it
      loads in the model runtime. Default --out models/<station>-anomaly.onnx.
  lineside validate --model FILE --dataset DIR [--out REPORT.json] [--config FILE --station ID] [--reason FOLDER=CLASS[,CLASS] …]
      Score a held-out dataset (DIR/good and one folder per defect type) with
      a model: image-level AUROC, recall per defect type and false reject rate
      at the model's threshold, dataset hashes; writes REPORT.json (default
      ./validation-<model>.json) and a PNG of the ROC curve and score
      distributions beside it. Detectors and classifiers score each image by
      their most confident defect class; with --config and --station that
      station's reject thresholds and codes apply, and the report says per
      folder whether the top class was the right reason (a folder is the
      class of its name, or as mapped by --reason FOLDER=CLASS,…).
  lineside pki (list | trust THUMBPRINT-OR-FILE | reject THUMBPRINT-OR-FILE)
               [--config FILE | --pki-dir DIR]
      The PLC link's certificates: prints state (own, trusted, rejected),
      thumbprint, subject and validity. A PLC's certificate is never trusted
      automatically: it lands in rejected/ and the link says which one to
      trust. The folder is plc.security.pkiDir of the config (default
      <dataDir>/pki; without --config, ./data/pki).
  lineside report batch BATCH_ID [--format pdf|csv|json] [--config FILE | --data-dir DIR | --db FILE]
                                  [--out FILE] [--user NAME]
      The batch report from the records: counts by verdict per station, defect
      Pareto, recipes, model versions and hashes, alarms, reviews and
      signatures, audit entries of the batch. Reads the database read-only
      (works beside the running appliance and on a backup), then audits the
      export ("exported", by console:<os user>, or by the records user NAME
      with the OS user as client) in that database; the audit key is read from
      DIR (default: the database's folder). Default --format pdf,
      --out ./batch-<BATCH_ID>.<format>; exits 1 if the batch has no
      inspections or the export cannot be audited.
${RECORDS_USAGE}  lineside --version | --help
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'run':
      return run(rest);
    case 'check-config':
      return checkConfig(rest);
    case 'plc-counters':
      return plcCounters(rest);
    case 'probe-source':
      return probe(rest);
    case 'infer':
      return infer(rest);
    case 'pki':
      return pki(rest);
    case 'teach':
      return teachCommand(rest);
    case 'validate':
      return validateCommand(rest);
    case 'report':
      return report(rest);
    case 'users':
    case 'verify-audit':
    case 'backup':
    case 'restore':
      return recordsCommand(command, rest);
    case '--version':
      console.log(VERSION);
      return 0;
    case undefined:
    case '--help':
    case 'help':
      console.log(USAGE);
      return 0;
    default:
      console.error(`lineside: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

function checkConfig(args: string[]): number {
  const file = args[0];
  if (!file) {
    console.error('usage: lineside check-config FILE');
    return 2;
  }
  const cfg = loadConfigFile(file);
  console.log(`${file}: OK — ${cfg.stations.length} station(s): ${cfg.stations.map((s) => `${s.id} (${s.kind})`).join(', ')}`);
  return 0;
}

async function plcCounters(args: string[]): Promise<number> {
  const { readSimCounters } = await import('./plc/sim/sim-counters.client.js');
  const { values } = parseArgs({
    args,
    options: { endpoint: { type: 'string', default: 'opc.tcp://127.0.0.1:4840' }, station: { type: 'string', multiple: true, default: ['blister', 'hopper'] } },
    strict: true,
  });
  for (const station of values.station) {
    const c = await readSimCounters(values.endpoint, station);
    console.log(`${station}: ${Object.entries(c).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  }
  return 0;
}

async function probe(args: string[]): Promise<number> {
  const { formatProbe, probeSource, sourceFromAddress } = await import('./tools/probe-source.js');
  const { values, positionals } = parseArgs({
    args,
    options: {
      config: { type: 'string' },
      station: { type: 'string' },
      type: { type: 'string' },
      seconds: { type: 'string', default: '3' },
      out: { type: 'string' },
    },
    allowPositionals: true,
    strict: true,
  });
  let cfg;
  let name: string;
  if (values.config) {
    const config = loadConfigFile(values.config);
    const station = config.stations.find((s) => s.id === values.station);
    if (!station) {
      console.error(`lineside: --station must name a station in ${values.config}: ${config.stations.map((s) => s.id).join(', ')}`);
      return 2;
    }
    cfg = station.source;
    name = station.id;
  } else if (positionals[0]) {
    cfg = await sourceFromAddress(positionals[0], values.type);
    name = cfg.type;
  } else {
    console.error('usage: lineside probe-source (--config FILE --station ID | ADDRESS [--type KIND]) [--seconds N] [--out FILE]');
    return 2;
  }
  const seconds = Number(values.seconds);
  if (!(seconds >= 0 && seconds <= 600)) {
    console.error('lineside: --seconds must be a number from 0 to 600');
    return 2;
  }
  try {
    const report = await probeSource(cfg, { seconds, out: resolve(values.out ?? `probe-${name}.jpg`) });
    console.log(formatProbe(report));
    return 0;
  } catch (e) {
    console.error(`lineside: probe failed: ${isLinesideError(e) ? e.message : (e as Error).message}`);
    return 1;
  }
}

async function infer(args: string[]): Promise<number> {
  const { inferImages } = await import('./tools/infer.js');
  const { values, positionals } = parseArgs({
    args,
    options: { model: { type: 'string' }, manifest: { type: 'string' }, out: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  if (!values.model || positionals.length === 0) {
    console.error('usage: lineside infer --model FILE [--manifest FILE] [--out DIR] IMAGE...');
    return 2;
  }
  const report = await inferImages({ model: resolve(values.model), manifest: values.manifest && resolve(values.manifest), images: positionals.map((p) => resolve(p)), outDir: values.out && resolve(values.out) });
  console.log(JSON.stringify(report, null, 2));
  const failed = report.images.filter((i) => 'error' in i);
  for (const f of failed) console.error(`lineside: ${f.image}: ${'error' in f ? f.error : ''}`);
  return failed.length > 0 ? 1 : 0;
}

async function teachCommand(args: string[]): Promise<number> {
  const { teach } = await import('./tools/teach.js');
  const { values } = parseArgs({ args, options: { station: { type: 'string' }, images: { type: 'string' }, out: { type: 'string' } }, strict: true });
  if (!values.station || !values.images) {
    console.error('usage: lineside teach --station ID --images DIR [--out models/NAME.onnx]');
    return 2;
  }
  const r = await teach({ station: values.station, images: resolve(values.images), out: resolve(values.out ?? join('models', `${values.station}-anomaly.onnx`)) });
  console.log(`taught ${r.model} from ${r.images} good images in ${r.seconds.toFixed(1)} s (sha256 ${r.sha256}); threshold ${r.threshold.raw.toFixed(3)}: ${r.threshold.rule}; manifest ${r.manifest}`);
  return 0;
}

async function validateCommand(args: string[]): Promise<number> {
  const { validate } = await import('./tools/validate.js');
  const { values } = parseArgs({
    args,
    options: { model: { type: 'string' }, dataset: { type: 'string' }, out: { type: 'string' }, config: { type: 'string' }, station: { type: 'string' }, reason: { type: 'string', multiple: true } },
    strict: true,
  });
  const usage = 'usage: lineside validate --model FILE --dataset DIR [--out REPORT.json] [--config FILE --station ID] [--reason FOLDER=CLASS[,CLASS] …]';
  const reasons: Record<string, string[]> = {};
  for (const r of values.reason ?? []) {
    const [folder, classes] = r.split('=');
    if (!folder || !classes) {
      console.error(`--reason ${r}: expected FOLDER=CLASS[,CLASS]\n${usage}`);
      return 2;
    }
    reasons[folder] = classes.split(',').filter((c) => c.length > 0);
  }
  if (!values.model || !values.dataset || (values.station === undefined) !== (values.config === undefined)) {
    console.error(usage);
    return 2;
  }
  const stem = values.model.replace(/^.*[\\/]/, '').replace(/\.onnx$/i, '');
  const r = await validate({
    model: resolve(values.model),
    dataset: resolve(values.dataset),
    out: resolve(values.out ?? `validation-${stem}.json`),
    ...(values.config !== undefined && values.station !== undefined ? { station: { config: resolve(values.config), station: values.station } } : {}),
    reasons,
  });
  console.log(r.summary);
  return 0;
}

async function pki(args: string[]): Promise<number> {
  const { formatEntry, listPki, rejectCertificate, trustCertificate } = await import('./plc/pki.js');
  const { values, positionals } = parseArgs({
    args,
    options: { config: { type: 'string' }, 'pki-dir': { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  const [action, ref] = positionals;
  const usage = 'usage: lineside pki (list | trust THUMBPRINT-OR-FILE | reject THUMBPRINT-OR-FILE) [--config FILE | --pki-dir DIR]';
  const dir = values['pki-dir'] !== undefined ? resolve(values['pki-dir']) : values.config !== undefined ? loadConfigFile(values.config).plc.security.pkiDir : resolve('data', 'pki');
  if (dir === undefined) throw new Error('plc.security.pkiDir not resolved');
  if (action === 'list' && ref === undefined) {
    const entries = await listPki(dir);
    console.log(entries.length === 0 ? `${dir}: no certificates yet (the link creates its own on first start)` : `${dir}:\n${entries.map(formatEntry).join('\n')}`);
    return 0;
  }
  if ((action === 'trust' || action === 'reject') && ref !== undefined) {
    try {
      const entry = action === 'trust' ? await trustCertificate(dir, ref) : await rejectCertificate(dir, ref);
      console.log(formatEntry(entry));
      return 0;
    } catch (e) {
      console.error(`lineside: pki ${action}: ${(e as Error).message}`);
      return 1;
    }
  }
  console.error(usage);
  return 2;
}

async function report(args: string[]): Promise<number> {
  const { isReportFormat, REPORT_FORMATS, writeBatchReport } = await import('./tools/report.js');
  const { values, positionals } = parseArgs({
    args,
    options: { format: { type: 'string', default: 'pdf' }, config: { type: 'string' }, 'data-dir': { type: 'string' }, db: { type: 'string' }, out: { type: 'string' }, user: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  const [what, batchId] = positionals;
  if (what !== 'batch' || !batchId || positionals.length !== 2) {
    console.error('usage: lineside report batch BATCH_ID [--format pdf|csv|json] [--config FILE | --data-dir DIR | --db FILE] [--out FILE] [--user NAME]');
    return 2;
  }
  if (!isReportFormat(values.format)) {
    console.error(`lineside: --format must be one of ${REPORT_FORMATS.join(', ')}, not "${values.format}"`);
    return 2;
  }
  const config = values.config !== undefined ? loadConfigFile(values.config) : null;
  const dataDir = values['data-dir'] ?? config?.dataDir;
  const db = values.db ?? join(dataDir ?? 'data', 'lineside.db');
  const { file, report: r, audit } = await writeBatchReport({ db: resolve(db), dataDir: dataDir === undefined ? undefined : resolve(dataDir), batchId, format: values.format, out: values.out, line: config?.line ?? null, user: values.user });
  console.log(`batch ${r.batchId}: ${r.totals.total} inspections (${r.totals.reject} rejected), ${r.alarms.length} alarms, ${r.reviews.length} reviews, ${r.signatures.length} signatures, ${r.audit.length} audit entries → ${file}`);
  console.log(`export audited: seq ${audit.seq}, exported by ${audit.actor.user} (${audit.actor.role})`);
  return 0;
}

async function run(args: string[]): Promise<number> {
  const { Appliance } = await import('./main.js');
  const { values } = parseArgs({
    args,
    options: { config: { type: 'string' }, 'data-dir': { type: 'string' }, 'http-host': { type: 'string' }, 'http-port': { type: 'string' } },
    strict: true,
  });
  const file = values.config ?? DEMO_CONFIG;
  const overrides: ConfigOverrides = {
    // The demo's data lives in ./data of the working directory, not beside the bundled config.
    dataDir: values['data-dir'] !== undefined || !values.config ? resolve(values['data-dir'] ?? 'data') : undefined,
    httpPort: values['http-port'] !== undefined ? Number(values['http-port']) : undefined,
    httpHost: values['http-host'],
  };
  const config = loadConfigFile(file, overrides);
  const app = await Appliance.start(config, {
    onFirstAdmin: (user, password) => console.log(`\n*** FIRST START — user "${user}", one-time password: ${password}\n*** Shown once. It must be changed at first sign-in.\n`),
  });
  app.log.info({ url: app.httpUrl, config: file }, values.config ? 'lineside running' : 'lineside demo running — open the page in a browser');
  await new Promise<void>((done) => {
    const shutdown = (signal: string): void => {
      app.log.info({ signal }, 'stopping');
      void app.stop().then(done);
    };
    process.once('SIGINT', shutdown);
    process.once('SIGTERM', shutdown);
  });
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(isLinesideError(e) ? `lineside: ${e.message}` : e);
    process.exit(1);
  },
);
