import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../observability/logger.js';
import { freePort } from '../plc/free-port.js';
import { startSimPlc, type SimPlc } from '../plc/sim/sim-plc.js';
import { auditKeyPath, readAuditKey } from '../records/audit-key.js';
import { verifyAudit } from '../records/verify-audit.js';
import { ROOT, sleep } from './harness.js';

/**
 * Durability under SIGKILL: the appliance runs as its own process (`lineside run`) against the
 * simulated PLC (in this process, so it outlives every kill) at the design's fastest blister rate,
 * and is killed with SIGKILL at random moments, start-up included, KILLS times. After every kill the
 * database must pass `PRAGMA integrity_check` and `verify-audit` (the audit trail's hash chain and
 * every evidence image's SHA-256), and every ResultCount the PLC received must have its inspection
 * row: the record is committed before the PLC is answered. Reproduce a run with
 * DURABILITY_SEED=<seed printed in the log>.
 */
const KILLS = 50;
const PARTS_PER_MINUTE = 1200;
const WINDOW_MS = 1000;
/** Share of kills that land during start-up (migrations, model load, PLC connect) rather than at full rate. */
const EARLY_KILLS = 0.2;
const report = createLogger('info').child({ test: 'durability' });

/** mulberry32: small, seeded, good enough to place kills. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Running {
  child: ChildProcess;
  exited: Promise<void>;
  stderr: () => string;
}

function startAppliance(configFile: string): Running {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli.ts'), 'run', '--config', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, exited, stderr: () => err };
}

async function healthy(httpPort: number): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${httpPort}/healthz`)).status === 200;
  } catch {
    return false;
  }
}

/** What must hold of the data directory after any crash. */
async function checkAfterCrash(dataDir: string, answered: readonly number[]): Promise<{ recorded: number; missing: number[]; evidence: number; answeredWithoutAnswerRow: number; auditEntries: number }> {
  const dbFile = join(dataDir, 'lineside.db');
  // Opened read-write, as the next start opens it: SQLite recovers the WAL first.
  const db = new Database(dbFile);
  try {
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    // A kill early in the first start-up may come before the schema exists (even before the file
    // does): then there are no rows, and nothing the PLC received may be missing from them.
    const table = (name: string): boolean => db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(name) !== undefined;
    const all = <T,>(name: string, sql: string): T[] => (table(name) ? (db.prepare(sql).all() as T[]) : []);
    const rows = all<{ n: number }>('inspections', `SELECT trigger_count AS n FROM inspections WHERE station_id = 'blister' AND trigger_count IS NOT NULL`);
    const recorded = new Set(rows.map((r) => r.n));
    // Every evidence image the records list is on disk, whole: its row is written after the file.
    const evidence = all<{ id: number; path: string; sha256: string }>('evidence', `SELECT inspection_id AS id, path, sha256 FROM evidence`);
    for (const e of evidence) {
      expect(createHash('sha256').update(readFileSync(join(dataDir, e.path))).digest('hex'), `evidence of inspection ${e.id}`).toBe(e.sha256);
    }
    // What the PLC was told is recorded after the write: a kill in between leaves the inspection without it (reported, not a loss of the inspection).
    const answers = new Set(all<{ n: number }>('plc_answers', `SELECT result_count AS n FROM plc_answers`).map((r) => r.n));
    // verify-audit as `lineside verify-audit --db` runs it: chain and evidence hashes. A kill before
    // the first start created audit.key leaves no key and, then, no audit entry either.
    let auditEntries = 0;
    if (existsSync(auditKeyPath(dataDir))) {
      const verified = await verifyAudit(db, readAuditKey(auditKeyPath(dataDir)), dataDir);
      expect(verified.problem, 'verify-audit after the crash').toBeUndefined();
      expect(verified.ok).toBe(true);
      auditEntries = verified.entries;
    } else {
      const trail = table('audit_trail');
      expect(trail ? (db.prepare(`SELECT COUNT(*) AS n FROM audit_trail`).get() as { n: number }).n : 0, 'audit entries without audit.key').toBe(0);
    }
    return { recorded: recorded.size, missing: answered.filter((n) => !recorded.has(n)), evidence: evidence.length, answeredWithoutAnswerRow: answered.filter((n) => !answers.has(n)).length, auditEntries };
  } finally {
    db.close();
  }
}

describe('durability: SIGKILL at full line rate', () => {
  let sim: SimPlc | undefined;
  let app: Running | undefined;
  afterAll(async () => {
    app?.child.kill('SIGKILL');
    await app?.exited;
    await sim?.stop();
  });

  it(`loses no answered inspection and keeps the database intact through ${KILLS} SIGKILLs`, async () => {
    const seed = Number(process.env.DURABILITY_SEED ?? Date.now() % 1_000_000);
    const rand = random(seed);
    sim = await startSimPlc({ port: 0, windowMs: WINDOW_MS, interlockReady: true, stations: [{ id: 'blister', kind: 'part', partsPerMinute: PARTS_PER_MINUTE }] });
    const dataDir = mkdtempSync(join(tmpdir(), 'lineside-durability-'));
    const httpPort = await freePort();
    const configFile = join(dataDir, 'line.yaml');
    // YAML is a superset of JSON: the config the child reads, with absolute paths.
    writeFileSync(
      configFile,
      JSON.stringify({
        line: 'Durability line',
        dataDir,
        http: { host: '127.0.0.1', port: httpPort },
        log: { level: 'warn' },
        plc: { endpoint: sim.endpoint },
        models: { blister: { path: join(ROOT, 'models/blister-detector.onnx') } },
        stations: [
          {
            id: 'blister',
            kind: 'part',
            trigger: 'plc',
            source: { type: 'replay', path: join(ROOT, 'fixtures/blister'), fps: 25 },
            model: 'blister',
            maxFrameAgeMs: 1000,
            evidence: ['reject', 'inconclusive', 'not_inspected'],
            rules: { minScore: 0.3, classes: { empty_pocket: { reject: 0.5, inconclusive: 0.35, code: 10 }, broken_tablet: { reject: 0.5, inconclusive: 0.35, code: 11 } } },
          },
        ],
      }),
    );
    report.info({ seed, kills: KILLS, partsPerMinute: PARTS_PER_MINUTE, dataDir }, 'durability run');

    let earlyKills = 0;
    let cyclesAnswering = 0;
    let auditVerified = 0;
    for (let k = 1; k <= KILLS; k++) {
      const seenBefore = sim.resultCountsSeen('blister').length;
      app = startAppliance(configFile);
      if (rand() < EARLY_KILLS) {
        earlyKills++;
        await sleep(300 + rand() * 3700);
      } else {
        const until = Date.now() + 30_000;
        while (!(await healthy(httpPort))) {
          if (Date.now() > until) throw new Error(`kill ${k}: the appliance did not become healthy in 30 s after a restart:\n${app.stderr()}`);
          await sleep(50);
        }
        await sleep(300 + rand() * 2200);
      }
      app.child.kill('SIGKILL');
      await app.exited;
      await sleep(100); // PLC-side events already received are processed
      const answered = sim.resultCountsSeen('blister');
      if (answered.length > seenBefore) cyclesAnswering++;
      const { missing, auditEntries } = await checkAfterCrash(dataDir, answered);
      if (auditEntries > 0) auditVerified++;
      expect(missing, `kill ${k} (seed ${seed}): ResultCounts the PLC received without an inspection row`).toEqual([]);
    }

    // After the last crash the appliance still starts, answers the line and stops cleanly.
    app = startAppliance(configFile);
    const until = Date.now() + 30_000;
    while (!(await healthy(httpPort))) {
      if (Date.now() > until) throw new Error(`the appliance did not become healthy after the last kill:\n${app.stderr()}`);
      await sleep(50);
    }
    const before = sim.counters('blister').ResultsReceived;
    await sleep(2000);
    expect(sim.counters('blister').ResultsReceived).toBeGreaterThan(before + 10);
    app.child.kill('SIGTERM');
    await app.exited;
    expect(app.child.exitCode).toBe(0);

    const answered = sim.resultCountsSeen('blister');
    const final = await checkAfterCrash(dataDir, answered);
    // And the command itself, once, on the final database: what QA would run.
    const cli = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli.ts'), 'verify-audit', '--db', join(dataDir, 'lineside.db')], { encoding: 'utf8' });
    expect(cli.status, cli.stderr).toBe(0);
    expect(cli.stdout).toMatch(/^audit trail OK: \d+ entries, chain intact/);
    report.info({ seed, earlyKills, cyclesAnswering, auditVerifiedAfterKills: auditVerified, auditEntries: final.auditEntries, verifyAudit: cli.stdout.trim(), resultCountsSeen: answered.length, inspectionsRecorded: final.recorded, evidenceImagesChecked: final.evidence, answersWithoutPlcAnswerRow: final.answeredWithoutAnswerRow, plc: sim.counters('blister') }, 'durability: every answered part recorded');
    expect(final.missing).toEqual([]);
    // Not vacuous: most kills landed while the line was being answered at full rate.
    expect(cyclesAnswering).toBeGreaterThanOrEqual(KILLS / 2);
    // verify-audit ran on a trail with entries after most kills (all but those before the first start).
    expect(auditVerified).toBeGreaterThanOrEqual(KILLS - earlyKills);
    // Every start that became healthy recorded applianceStarted (the last one included).
    expect(final.auditEntries).toBeGreaterThan(KILLS - earlyKills);
    expect(answered.length).toBeGreaterThan(KILLS * 5);
  });
});
