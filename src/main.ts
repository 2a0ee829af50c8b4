import { readFileSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Config, StationConfig } from './config/schema.js';
import { ErrorCode, LinesideError, reasonOf } from './domain/errors.js';
import type { LinesideEvents } from './domain/events.js';
import { TypedEmitter } from './domain/typed-emitter.js';
import { createLogger, type Logger } from './observability/logger.js';
import { Metrics } from './observability/metrics.js';
import { OpcUaPlcLink } from './plc/opcua.link.js';
import type { PlcLink } from './plc/plc-link.js';
import { plcSecurity } from './plc/opcua-security.js';
import { startSimPlcFor, type SimPlc } from './plc/sim/sim-plc.js';
import { resolveTagMap } from './plc/tags.js';
import { Camera } from './sources/camera.js';
import { createSource } from './sources/create-source.js';
import type { AuditLog } from './records/audit.js';
import { ImageHealthMonitor } from './sources/image-health.js';
import { AlarmCenter, APPLIANCE } from './stations/alarm-center.js';
import { createStation } from './stations/create-station.js';
import { InspectionWatch } from './stations/inspection-watch.js';
import { Recorder } from './stations/recorder.js';
import type { Station } from './stations/station.js';
import { Supervisor } from './stations/supervisor.js';
import { BackupScheduler } from './records/backup.js';
import { openRecords, recordStart, type Records } from './records/records.js';
import { claimDataDir } from './records/run-lock.js';
import type { User } from './records/users.js';
import { EvidenceWriter } from './store/evidence.js';
import { EvidenceRetention } from './store/evidence-retention.js';
import { Store } from './store/store.js';
import { ScadaServer } from './scada/scada-server.js';
import { Model } from './vision/model.js';
import { renderBatchReport } from './tools/report.js';
import { stationModelKeys, stationRecipes } from './config/recipes.js';
import { inspectorFor, listedRecipes } from './stations/recipe-switch.js';
import { VERSION } from './version.js';
import { buildWebApp, type CameraView } from './web/app.js';
import { modelRecordId, modelView } from './web/model-view.js';

export { VERSION };

export interface AppOptions {
  logger?: Logger;
  /** First start only: the `admin` user's one-time password, to show once (`lineside run` prints it). */
  onFirstAdmin?: (username: string, oneTimePassword: string) => void;
  /** A user was locked out after too many wrong passwords (for an alarm). */
  onLockout?: (user: User) => void;
}

/** Which PLC counter triggers a station, if any. */
function triggerCounter(s: StationConfig): 'TriggerCount' | 'CleanCheckRequest' | null {
  if (s.kind === 'part') return s.trigger === 'plc' ? 'TriggerCount' : null;
  if (s.kind === 'cleaning') return 'CleanCheckRequest';
  return null;
}

/**
 * The composition root: config → logger → store → (simulated PLC) → models → PLC link → stations →
 * supervisor → http. Stops in reverse. Everything is passed explicitly; nothing is global.
 */
export class Appliance {
  readonly bus = new TypedEmitter<LinesideEvents>();
  readonly metrics = new Metrics();
  readonly log: Logger;
  readonly config: Config;
  store!: Store;
  sim: SimPlc | null = null;
  plc: PlcLink | null = null;
  recorder!: Recorder;
  alarms!: AlarmCenter;
  supervisor!: Supervisor;
  evidence!: EvidenceWriter;
  retention!: EvidenceRetention;
  readonly models = new Map<string, Model>();
  readonly stations: Station[] = [];
  readonly cameras = new Map<string, Camera>();
  web: ReturnType<typeof buildWebApp> | null = null;
  /** The OPC UA server for SCADA/MES, when `scada.enabled`. */
  scada: ScadaServer | null = null;
  /** Part 11 records for the page: audit trail, users, sessions, signatures, reviews. */
  records!: Records;
  get audit(): Records['audit'] {
    return this.records.audit;
  }
  get users(): Records['users'] {
    return this.records.users;
  }
  get sessions(): Records['sessions'] {
    return this.records.sessions;
  }
  get signatures(): Records['signatures'] {
    return this.records.signatures;
  }
  get reviews(): Records['reviews'] {
    return this.records.reviews;
  }
  #tlsFiles: { cert: Buffer; key: Buffer } | undefined;
  readonly #startedAt = Date.now();
  readonly #opts: AppOptions;
  readonly #stops: Array<{ name: string; stop: () => Promise<void> | void }> = [];

  private constructor(config: Config, logger: Logger, opts: AppOptions) {
    this.config = config;
    this.log = logger;
    this.#opts = opts;
  }

  /** Start everything; on failure, stop what started and rethrow. */
  static async start(config: Config, opts: AppOptions = {}): Promise<Appliance> {
    const app = new Appliance(config, opts.logger ?? createLogger(config.log.level), opts);
    try {
      await app.#start();
    } catch (e) {
      await app.stop();
      throw e;
    }
    return app;
  }

  get httpUrl(): string {
    const addr = this.web?.server.address() as AddressInfo | null;
    return addr ? `${this.config.http.tls ? 'https' : 'http'}://${addr.address}:${addr.port}` : '';
  }

  async stop(): Promise<void> {
    for (const { name, stop } of this.#stops.splice(0).reverse()) {
      try {
        await stop();
      } catch (e) {
        this.log.error({ component: name, err: reasonOf(e) }, 'component did not stop cleanly');
      }
    }
  }

  async #start(): Promise<void> {
    const { config, log } = this;
    log.info({ version: VERSION, line: config.line, stations: config.stations.map((s) => s.id), dataDir: config.dataDir }, 'lineside starting');
    this.#tlsFiles = this.#tls();

    this.store = Store.open(config.dataDir);
    this.#stops.push({ name: 'store', stop: () => this.store.close() });
    const closed = this.store.alarms.closeStale(Date.now());
    if (closed > 0) log.info({ closed }, 'closed alarms left open by the previous run');
    await this.#openRecords();

    if (config.plc.simulate) {
      const sim = await startSimPlcFor(config, log.child({ component: 'sim-plc' }));
      this.sim = sim;
      this.#stops.push({ name: 'sim-plc', stop: () => sim.stop() });
      log.info({ endpoint: sim.endpoint }, 'simulated PLC running');
    }

    await this.#loadModels();

    const plc = new OpcUaPlcLink({
      endpoint: this.sim?.endpoint ?? config.plc.endpoint,
      publishingIntervalMs: config.plc.publishingIntervalMs,
      heartbeatMs: config.plc.heartbeatMs,
      heartbeatTimeoutMs: config.plc.heartbeatTimeoutMs,
      stations: config.stations.map((s) => ({ id: s.id, tags: resolveTagMap(s.id, s.plc), counter: triggerCounter(s) })),
      logger: log.child({ component: 'plc' }),
      security: plcSecurity(config.plc),
    });
    this.plc = plc;
    await plc.start();
    this.#stops.push({ name: 'plc', stop: () => plc.stop() });

    const stationIds = config.stations.map((s) => s.id);
    this.alarms = new AlarmCenter({
      // The records share the store's connection: an acknowledgement and its audit entry are one
      // transaction (on two connections the audit append would wait for its own lock).
      repo: this.store.alarms,
      audit: this.audit,
      bus: this.bus,
      logger: log.child({ component: 'alarms' }),
      stations: stationIds,
      maxShelveMs: config.alarms.maxShelveMinutes * 60_000,
    });
    this.alarms.start();
    this.#stops.push({ name: 'alarms', stop: () => this.alarms.stop() });
    this.alarms.onWord((stationId, word) => plc.setAlarmWord(stationId, word));
    plc.onPlcHeartbeat((alive) =>
      alive ? this.alarms.clear(APPLIANCE, 'plcHeartbeatLost') : this.alarms.raise(APPLIANCE, 'plcHeartbeatLost', 'critical', 'PLC heartbeat lost'),
    );
    this.evidence = new EvidenceWriter(config.dataDir);
    this.recorder = new Recorder(
      {
        inspections: this.store.inspections,
        evidence: this.evidence,
        plc,
        bus: this.bus,
        metrics: this.metrics,
        logger: log.child({ component: 'recorder' }),
        passSampling: config.retention.evidence.passSampling,
      },
      config.stations,
    );
    this.#stops.push({ name: 'recorder', stop: () => this.recorder.flush() });
    this.retention = new EvidenceRetention({
      repo: this.store.retention,
      audit: this.audit,
      dataDir: config.dataDir,
      config: config.retention.evidence,
      logger: log.child({ component: 'retention' }),
    });
    await this.retention.start();
    this.#stops.push({ name: 'retention', stop: () => this.retention.stop() });
    const watch = new InspectionWatch(this.alarms);
    const unwatch = this.bus.on('inspection', (i) => watch.inspected(i));
    this.#stops.push({ name: 'inspection watch', stop: () => (unwatch(), watch.stop()) });

    for (const sc of config.stations) {
      let station: Station;
      try {
        const camera = this.#camera(sc);
        this.cameras.set(sc.id, camera);
        station = createStation(sc, {
          source: camera,
          live: camera,
          faces: this.#faceModel(sc),
          model: inspectorFor(sc, (key) => this.models.get(key)!),
          recipes: listedRecipes(sc, (key) => this.models.get(key)!),
          audit: this.audit,
          recorder: this.recorder,
          alarms: this.alarms,
          plc,
          onMissedTriggers: (n) => watch.missedTriggers(sc.id, n),
          metrics: this.metrics,
          logger: log.child({ component: 'station', stationId: sc.id }),
        });
        await station.start();
      } catch (e) {
        throw new LinesideError(ErrorCode.config, `station "${sc.id}": ${reasonOf(e)}`, { cause: e });
      }
      this.stations.push(station);
      this.#stops.push({ name: `station ${sc.id}`, stop: () => station.stop() });
    }

    this.supervisor = new Supervisor(this.stations, {
      plc,
      storage: () => this.recorder.storage.value,
      storageWarning: () => this.retention.status().warning,
      alarms: this.alarms,
      metrics: this.metrics,
      bus: this.bus,
      cameras: this.cameras,
    });
    this.supervisor.start();
    this.#stops.push({ name: 'supervisor', stop: () => this.supervisor.stop() });

    if (config.scada.enabled) await this.#startScada();
    await this.#listen();
  }

  /** The OPC UA server for SCADA/MES: the stations' health, results and alarms as OPC 40100-1 shows them. */
  async #startScada(): Promise<void> {
    const { config } = this;
    const scada = new ScadaServer({
      config: config.scada,
      stations: config.stations,
      health: (stationId) => {
        const c = this.supervisor.report().components;
        // The same components the PLC's Ready follows.
        return [c[`${stationId}.camera`], c[`${stationId}.model`], c[`${stationId}.recipe`], c.storage, c.plc].filter((h) => h !== undefined);
      },
      bus: this.bus,
      alarms: this.alarms,
      users: this.users,
      audit: this.audit,
      simulated: config.plc.simulate !== undefined,
      logger: this.log.child({ component: 'scada' }),
    });
    this.scada = scada;
    this.#stops.push({ name: 'scada', stop: () => scada.stop() });
    await scada.start();
  }

  /** Audit trail and users on the store's file; first admin; `applianceStarted`; scheduled backups. */
  async #openRecords(): Promise<void> {
    const { config, log } = this;
    const release = claimDataDir(config.dataDir);
    this.#stops.push({ name: 'data directory claim', stop: release });
    const onLockout = (user: User): void => {
      log.warn({ user: user.username }, 'user locked after too many wrong passwords');
      this.alarms?.userLockedOut(user.username);
      this.#opts.onLockout?.(user);
    };
    this.records = openRecords({
      file: this.store.file,
      db: this.store.db,
      dataDir: config.dataDir,
      config: config.records,
      onLockout,
      signable: {
        model: (id) => {
          const m = [...this.models.values()].find((x) => modelRecordId(x) === id);
          return m && { key: m.key, name: m.manifest.name, version: m.manifest.version, sha256: m.manifest.sha256 };
        },
      },
    });
    this.#stops.push({ name: 'records', stop: () => this.records.close() });
    const oneTime = await recordStart(this.records, { version: VERSION, config }, log);
    if (oneTime !== null) {
      log.warn({ user: 'admin', oneTimePassword: oneTime }, '*** FIRST START: one-time password for user "admin" (shown once; change it at first sign-in) ***');
      this.#opts.onFirstAdmin?.('admin', oneTime);
    }
    const backup = config.records.backup;
    if (backup) {
      const scheduler = new BackupScheduler({ db: this.records.db, audit: this.records.audit, logger: log.child({ component: 'backup' }), config: backup });
      this.#stops.push({ name: 'backup', stop: () => scheduler.stop() });
    }
  }

  /**
   * The station's camera with its image health checks. Triggered part stations keep a few recent
   * frames to match to triggers; free-running ones only the newest.
   */
  #camera(sc: StationConfig): Camera {
    const history = sc.kind === 'part' && sc.trigger === 'plc' ? 8 : sc.kind === 'cleaning' ? 4 : 1;
    const source = createSource(sc.source, { history, logger: this.log.child({ component: 'camera', stationId: sc.id }) });
    const monitor = sc.imageHealth.enabled
      ? new ImageHealthMonitor({ config: sc.imageHealth, referencePath: join(this.config.dataDir, 'reference', `${sc.id}.png`) })
      : null;
    // Zone stations blurring faces show the live view only as the station hands it over, blurred.
    return new Camera(source, monitor, { privateLive: sc.kind === 'zone' && sc.privacy.blurFaces });
  }

  /** A zone station's face detector (privacy.faceModel), which must be a detector. */
  #faceModel(sc: StationConfig): Model | null {
    if (sc.kind !== 'zone' || sc.privacy.faceModel === undefined || !sc.privacy.blurFaces) return null;
    const model = this.models.get(sc.privacy.faceModel)!;
    if (model.manifest.task !== 'detect') {
      throw new LinesideError(ErrorCode.config, `privacy.faceModel: model "${model.key}" is a ${model.manifest.task} model (${model.manifest.decoder}); a face model must be a detector`);
    }
    return model;
  }

  #cameraView(stationId: string): CameraView | undefined {
    const c = this.cameras.get(stationId);
    return c && { kind: c.kind, description: c.description, stats: c.stats(), image: c.image() };
  }

  /** Load every model once; a failure names each station that uses it and the file. */
  async #loadModels(): Promise<void> {
    for (const [key, mc] of Object.entries(this.config.models)) {
      // Recipes' models too: a changeover must not wait for a model file, nor fail on a broken one.
      const users = this.config.stations.filter((s) => stationModelKeys(s).includes(key)).map((s) => `"${s.id}"`);
      if (users.length === 0) continue;
      try {
        const model = await Model.load(key, mc);
        this.models.set(key, model);
        this.#stops.push({ name: `model ${key}`, stop: () => model.close() });
        this.log.info({ model: key, version: model.versionTag, path: mc.path }, 'model loaded and checked');
      } catch (e) {
        throw new LinesideError(ErrorCode.modelLoad, `station ${users.join(', ')}: model "${key}" (${mc.path}): ${reasonOf(e)}`, { cause: e });
      }
    }
  }

  /** The page's certificate and key, read once; a file that cannot be read names its key. */
  #tls(): { cert: Buffer; key: Buffer } | undefined {
    const tls = this.config.http.tls;
    if (!tls) return undefined;
    const read = (key: 'certFile' | 'keyFile'): Buffer => {
      try {
        return readFileSync(tls[key]);
      } catch (e) {
        throw new LinesideError(ErrorCode.config, `http.tls.${key}: cannot read ${tls[key]}: ${reasonOf(e)}`, { cause: e });
      }
    };
    return { cert: read('certFile'), key: read('keyFile') };
  }

  async #systemInfo(): Promise<Record<string, unknown>> {
    const storage = this.recorder.storage.value;
    const retention = this.retention.status();
    const dbSize = (f: string): number | null => {
      try {
        return statSync(f).size;
      } catch {
        return null;
      }
    };
    return {
      version: VERSION,
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      startedAt: new Date(this.#startedAt).toISOString(),
      uptimeSeconds: Math.round((Date.now() - this.#startedAt) / 1000),
      line: this.config.line,
      dataDir: this.config.dataDir,
      database: { file: this.store.file, bytes: dbSize(this.store.file), ...this.store.durability() },
      storage: { state: storage.state, detail: storage.detail ?? null, retention },
      plc: { endpoint: this.sim?.endpoint ?? this.config.plc.endpoint, simulated: this.sim !== null, security: this.config.plc.security.mode, health: this.plc?.health().state ?? null },
      stations: this.stations.map((s) => ({ id: s.config.id, kind: s.config.kind, camera: this.cameras.get(s.config.id)?.description ?? null })),
    };
  }

  async #listen(): Promise<void> {
    const web = buildWebApp({
      line: this.config.line,
      tls: this.#tlsFiles,
      version: VERSION,
      stations: () =>
        this.stations.map((s) => ({
          config: s.config,
          health: s.health(),
          counters: this.recorder.counters(s.config.id),
          last: this.recorder.last(s.config.id),
          lastEvidence: this.recorder.lastWithEvidence(s.config.id),
          alarmWord: this.alarms.word(s.config.id),
          camera: this.#cameraView(s.config.id),
        })),
      health: () => this.supervisor.report(),
      inspection: (id) => this.store.inspections.get(id),
      evidenceFile: (p) => this.evidence.absolute(p),
      requestCheck: async (stationId, by, equipmentId, batchId) => {
        const station = this.stations.find((s) => s.config.id === stationId);
        if (!station) throw new LinesideError(ErrorCode.notFound, `station "${stationId}" does not exist`);
        const run = station.requestCheck(by.user, equipmentId, batchId);
        const stored = await (this.scada ? this.scada.singleExecution(stationId, run) : run);
        this.audit.append({
          actor: by,
          action: 'checkRequested',
          objectType: 'inspection',
          objectId: String(stored?.id ?? ''),
          newValue: { stationId, equipmentId, batchId: stored?.batchId ?? batchId ?? null, verdict: stored?.verdict ?? null },
          client: by.client,
        });
        return stored;
      },
      setReference: async (stationId, by) => {
        const camera = this.cameras.get(stationId);
        if (!camera) throw new LinesideError(ErrorCode.notFound, `station "${stationId}" does not exist`);
        const ok = await camera.setReference();
        if (ok) {
          this.audit.append({ actor: by, action: 'configChanged', objectType: 'cameraReference', objectId: stationId, newValue: { reference: 'latest inspected frame' }, reason: 'reference view replaced from the page', client: by.client });
          this.log.info({ stationId, by: by.user }, 'camera reference view replaced');
        }
        return ok;
      },
      alarms: this.alarms,
      records: this.records,
      searchInspections: (q) => this.store.inspections.search(q),
      stationSummary: (stationId, opts) => (this.stations.some((s) => s.config.id === stationId) ? this.store.inspections.summary(stationId, opts) : null),
      system: {
        info: () => this.#systemInfo(),
        models: () => [...this.models.values()].map((m) => modelView(m, this.config, this.signatures)),
        recipes: () =>
          this.config.stations.map((sc) => ({
            stationId: sc.id,
            active: this.recorder.last(sc.id)?.recipeIndex ?? null,
            recipes: (stationRecipes(sc) ?? []).map((r) => ({ index: r.index, name: r.name ?? `recipe ${r.index}`, models: [r.station.model, ...(r.station.secondStage ? [r.station.secondStage.model] : [])] })),
          })),
        approveModel: async (key, by, password) => {
          const m = this.models.get(key)!;
          const signature = await this.signatures.sign({ recordType: 'model', recordId: modelRecordId(m), meaning: 'approved', username: by.user, password, client: by.client });
          this.audit.append({ actor: by, action: 'modelActivated', objectType: 'model', objectId: key, newValue: { version: m.versionTag, sha256: m.manifest.sha256, signature: signature.id }, reason: 'approved with electronic signature', client: by.client });
        },
        liveFrame: async (stationId) => {
          const camera = this.cameras.get(stationId);
          if (!camera) throw new LinesideError(ErrorCode.notFound, `station "${stationId}" does not exist`);
          return camera.liveJpeg();
        },
      },
      evidenceDeletion: (id) => this.store.retention.deletion(id),
      bus: this.bus,
      batches: () => this.store.batches(20),
      batchReport: async (batchId, format, by) => {
        const report = this.store.batchReport(batchId, { generatedBy: by, line: this.config.line });
        const rendered = await renderBatchReport(report, format);
        this.audit.append({ actor: by, action: 'exported', objectType: 'batchReport', objectId: batchId, newValue: { format, contentSha256: report.contentSha256 }, client: by.client });
        this.log.info({ batchId, format, by: by.user, contentSha256: report.contentSha256 }, 'batch report exported');
        return rendered;
      },
      metrics: this.metrics,
      logger: this.log,
    });
    this.web = web;
    this.#stops.push({ name: 'http', stop: () => web.close() });
    await web.listen({ host: this.config.http.host, port: this.config.http.port });
    this.log.info({ url: this.httpUrl }, 'web page ready');
  }
}
