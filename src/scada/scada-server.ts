import { X509Certificate } from 'node:crypto';
import { OPCUACertificateManager, OPCUAServer, SecurityPolicy } from 'node-opcua';
import type { ScadaConfig, StationConfig } from '../config/schema.js';
import type { AlarmEvent } from '../domain/alarm.js';
import { reasonOf } from '../domain/errors.js';
import type { LinesideEvents } from '../domain/events.js';
import type { ComponentHealth } from '../domain/health.js';
import type { StoredInspection } from '../domain/inspection.js';
import type { TypedEmitter } from '../domain/typed-emitter.js';
import type { Logger } from '../observability/logger.js';
import { securityModes, securityPolicies } from '../plc/opcua-security.js';
import type { AuditLog } from '../records/audit.js';
import type { UserDirectory } from '../records/users.js';
import type { AlarmCenter } from '../stations/alarm-center.js';
import { VERSION } from '../version.js';
import { AlarmConditions } from './alarm-conditions.js';
import { MachineVisionSpace, SCADA_NODESETS } from './mv-address-space.js';
import { resultRecord } from './result-state.js';
import { ScadaUserManager } from './scada-users.js';
import { visionStatus } from './vision-state.js';

export const SCADA_APPLICATION_URI = 'urn:lineside:scada-server';

export interface ScadaServerDeps {
  /** `scada` from the loaded config (pkiDir resolved). */
  readonly config: ScadaConfig;
  readonly stations: readonly StationConfig[];
  /** Every component a station's `Ready` depends on: its camera, model, recipe, storage, PLC link. */
  readonly health: (stationId: string) => readonly ComponentHealth[];
  readonly bus: TypedEmitter<LinesideEvents>;
  readonly alarms: Pick<AlarmCenter, 'acknowledge' | 'active'>;
  readonly users: Pick<UserDirectory, 'checkPassword' | 'get' | 'expired'>;
  readonly audit: Pick<AuditLog, 'append'>;
  /** Results come from a simulated PLC (the demo): ResultReady's IsSimulated. */
  readonly simulated: boolean;
  readonly logger: Logger;
  /** How often the state machines follow the stations' health (ms). */
  readonly statusPeriodMs?: number;
}

/**
 * lineside's own OPC UA server for SCADA/MES (OPC 40100-1 Machine Vision): one VisionSystem per
 * station with its state machines, a ResultReady event per inspection, the appliance's alarms as
 * acknowledgeable conditions. Users are the appliance's; anonymous only when the config allows it.
 */
export class ScadaServer {
  readonly #d: ScadaServerDeps;
  readonly #log: Logger;
  #server: OPCUAServer | null = null;
  #certificates: OPCUACertificateManager | null = null;
  #space: MachineVisionSpace | null = null;
  #conditions: AlarmConditions | null = null;
  #timer: NodeJS.Timeout | null = null;
  readonly #unsubscribe: Array<() => void> = [];
  readonly #lastInspection = new Map<string, number>();
  readonly #checking = new Map<string, number>();
  #endpoint = '';

  constructor(deps: ScadaServerDeps) {
    this.#d = deps;
    this.#log = deps.logger;
  }

  /** `opc.tcp://host:port` once started. */
  get endpoint(): string {
    return this.#endpoint;
  }

  /** The server's own certificate (DER), for a client to trust. */
  certificate(): Buffer {
    if (!this.#server) throw new Error('the OPC UA server is not started');
    return Buffer.from(this.#server.getCertificate());
  }

  /**
   * Trusts a client's certificate (PEM or DER) in the running server, as `lineside pki trust
   * --pki-dir <scada pkiDir>` does on disk (which the server reads at its next start).
   */
  async trustClientCertificate(certificate: Buffer): Promise<void> {
    if (!this.#certificates) throw new Error('the OPC UA server is not started');
    await this.#certificates.trustCertificate(new X509Certificate(certificate).raw);
  }

  async start(): Promise<void> {
    const { config } = this.#d;
    const startedAt = Date.now();
    if (!config.pkiDir) throw new Error('scada.pkiDir was not resolved; load the config with loadConfigFile/parseConfig');
    const certificateManager = new OPCUACertificateManager({ rootFolder: config.pkiDir, automaticallyAcceptUnknownCertificate: false, disableFileWatchers: true });
    this.#certificates = certificateManager;
    const secure = config.securityModes.some((m) => m !== 'None');
    const server = new OPCUAServer({
      host: config.host,
      hostname: config.host === '0.0.0.0' ? undefined : config.host,
      port: config.port,
      nodeset_filename: [...SCADA_NODESETS],
      securityModes: config.securityModes.map((m) => securityModes[m]),
      securityPolicies: [...(config.securityModes.includes('None') ? [SecurityPolicy.None] : []), ...(secure ? config.securityPolicies.map((p) => securityPolicies[p]) : [])],
      allowAnonymous: config.allowAnonymous,
      userManager: new ScadaUserManager({ users: this.#d.users, audit: this.#d.audit, logger: this.#log }),
      serverCertificateManager: certificateManager,
      // Without None in securityModes node-opcua still opens a restricted None channel for
      // GetEndpoints (clients discover the secure endpoints and the certificate there), never a session.
      disableDiscovery: false,
      serverInfo: { applicationUri: SCADA_APPLICATION_URI, productUri: 'urn:lineside', applicationName: { text: 'lineside (Machine Vision)' } },
      buildInfo: { productName: 'lineside', softwareVersion: VERSION, manufacturerName: 'lineside' },
    });
    this.#server = server;
    await server.initialize();
    const addressSpace = server.engine.addressSpace;
    if (addressSpace === null) throw new Error('OPC UA server: no address space after initialize()');
    const space = new MachineVisionSpace(addressSpace);
    this.#space = space;
    for (const s of this.#d.stations) space.addVisionSystem({ id: s.id, name: s.name });
    addressSpace.installAlarmsAndConditionsService();
    // After the A&C service: it binds the type's Acknowledge, which the conditions take over.
    this.#conditions = new AlarmConditions({
      space,
      alarms: this.#d.alarms,
      roleOf: (u) => this.#d.users.get(u)?.role,
      logger: this.#log,
    });
    this.#conditions.sync();
    this.#unsubscribe.push(
      this.#d.bus.on('inspection', (i) => this.#guard('ResultReady event', () => this.#inspected(i))),
      this.#d.bus.on('alarm', (e) => this.#guard('alarm condition', () => this.#alarm(e))),
    );
    this.#updateStatus();
    this.#timer = setInterval(() => this.#guard('vision state', () => this.#updateStatus()), this.#d.statusPeriodMs ?? 500);
    await server.start();
    const port = server.endpoints[0]?.port ?? config.port;
    this.#endpoint = `opc.tcp://${config.host}:${port}`;
    this.#log.info(
      { endpoint: this.#endpoint, securityModes: config.securityModes, securityPolicies: secure ? config.securityPolicies : [], allowAnonymous: config.allowAnonymous, pkiDir: config.pkiDir, startupMs: Date.now() - startedAt },
      'OPC UA server for SCADA/MES listening',
    );
  }

  /** A cleaning check runs (a single execution) until the promise settles. */
  singleExecution<T>(stationId: string, check: Promise<T>): Promise<T> {
    this.#checking.set(stationId, (this.#checking.get(stationId) ?? 0) + 1);
    this.#guard('vision state', () => this.#updateStatus());
    return check.finally(() => {
      this.#checking.set(stationId, Math.max(0, (this.#checking.get(stationId) ?? 1) - 1));
      this.#guard('vision state', () => this.#updateStatus());
    });
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    for (const off of this.#unsubscribe.splice(0)) off();
    const server = this.#server;
    this.#server = null;
    if (server) {
      await server.shutdown(0);
      this.#log.info({ endpoint: this.#endpoint }, 'OPC UA server for SCADA/MES stopped');
    }
  }

  #inspected(i: StoredInspection): void {
    this.#lastInspection.set(i.stationId, Date.now());
    this.#space?.raiseResultReady(i.stationId, resultRecord(i), this.#d.simulated);
  }

  #alarm(e: AlarmEvent): void {
    this.#conditions?.onAlarm(e);
  }

  #updateStatus(): void {
    const space = this.#space;
    if (!space) return;
    const now = Date.now();
    for (const s of this.#d.stations) {
      space.setStatus(s.id, visionStatus(s, this.#d.health(s.id), this.#lastInspection.get(s.id) ?? null, now, (this.#checking.get(s.id) ?? 0) > 0));
    }
  }

  /** A failure here must never reach the recorder or the alarm center that emitted the event. */
  #guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.#log.error({ err: reasonOf(e) }, `OPC UA server: ${what} could not be published`);
    }
  }
}
