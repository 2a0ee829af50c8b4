import { X509Certificate } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { MessageSecurityMode, OPCUACertificateManager, OPCUAServer, SecurityPolicy, UserTokenType } from 'node-opcua';
import type { Config, PlcConfig } from '../../config/schema.js';
import { plcSecurity, securityModes, securityPolicies, trustServerCertificate, userIdentity } from '../opcua-security.js';
import type { Logger } from '../../observability/logger.js';
import { silentLogger } from '../../observability/logger.js';
import type { SimCounterTag } from '../tags.js';
import type { SimNodeLayout } from './sim-address-space.js';
import { addStationNodes } from './sim-address-space.js';
import type { SimAnswer, SimLatency, SimRecipe, SimStationSpec } from './sim-station.js';
import { SimStation } from './sim-station.js';

export type { SimLatency, SimRecipe, SimStationSpec } from './sim-station.js';
export { simPartId } from './sim-station.js';

export interface SimPlcOptions {
  readonly host?: string;
  /** 0 = let the OS pick a free port (read it back from `port` / `endpoint`). */
  readonly port: number;
  /** Inspection window of part stations; cleaning stations use at least 30 s. */
  readonly windowMs: number;
  readonly stations: readonly SimStationSpec[];
  readonly batchId?: string;
  /** Hold the conveyors (no triggers) while the station's `Ready` is false, as a real line interlocks. */
  readonly interlockReady?: boolean;
  readonly logger?: Logger;
  /** Absent: security mode None only, anonymous access (the demo's, tests' and bench's defaults). */
  readonly security?: SimPlcSecurity;
  /** Node IDs as `ns=1;s=<station>.<Tag>` (default) or S7-1500 style, `ns=1;s="VisionDB_<station>"."<Tag>"`. */
  readonly nodeLayout?: SimNodeLayout;
}

export interface SimPlcSecurity {
  /** Offered modes; each secure mode is offered with every policy in `policies`. None is always offered too (discovery). */
  readonly modes: readonly ('None' | 'Sign' | 'SignAndEncrypt')[];
  readonly policies?: readonly ('Basic256Sha256' | 'Aes128_Sha256_RsaOaep' | 'Aes256_Sha256_RsaPss')[];
  /** The server's own PKI store (default: the shared temp one). */
  readonly pkiDir?: string;
  /** Trust any client certificate (default true); false puts unknown ones in rejected/, as a real PLC does. */
  readonly trustClients?: boolean;
  /** When given, only these users may open a session (anonymous access is switched off). */
  readonly users?: readonly { readonly userName: string; readonly password: string }[];
}

export interface SimPlc {
  readonly endpoint: string;
  readonly port: number;
  stop(): Promise<void>;
  /** What the simulated PLC tallied for a station so far. */
  counters(stationId: string): Record<SimCounterTag, number>;
  /** Trigger → matching ResultCount latency of a station, timed by the simulated PLC itself. */
  latency(stationId: string): SimLatency;
  resetLatency(stationId: string): void;
  /** Every ResultCount value the station's block received, oldest first: what reached the PLC. */
  resultCountsSeen(stationId: string): readonly number[];
  /** The answers (Result, RejectCode) the PLC accepted for a station's parts, oldest first. */
  answers(stationId: string): readonly SimAnswer[];
  /** The station's Ready tag as the PLC sees it. */
  ready(stationId: string): boolean;
  /** Changes a part station's conveyor rate; 0 stops it. */
  setPartsPerMinute(stationId: string, partsPerMinute: number): void;
  /** A changeover: writes RecipeIndex and holds the station's conveyor until RecipeIndexActive echoes it. */
  setRecipeIndex(stationId: string, index: number): void;
  /** The station's recipe handshake as the PLC sees it (requested, echoed, how long the last change took). */
  recipe(stationId: string): SimRecipe;
  /** Freezes (false) or resumes (true) PlcHeartbeat, as a PLC whose program stopped would. */
  setHeartbeatRunning(running: boolean): void;
  /** Trusts a client certificate (PEM or DER), as commissioning does on a PLC that does not trust automatically. */
  trustClientCertificate(certificate: Buffer): Promise<void>;
  /** The server's own certificate (DER). */
  certificate(): Buffer;
}

export const SIM_DEFAULT_BATCH_ID = 'DEMO-B001';
/** The PLC's own heartbeat period; DESIGN.md asks for at least every 500 ms. */
export const SIM_HEARTBEAT_MS = 250;

/**
 * The certificate store is kept across runs in the temp folder: generating a key pair costs about
 * half a second, reusing it makes a restart (and each test) start faster. Security mode None is
 * offered, so the certificate only has to exist.
 */
function simCertificateManager(sec: SimPlcSecurity | undefined): OPCUACertificateManager {
  return new OPCUACertificateManager({
    rootFolder: sec?.pkiDir ?? path.join(os.tmpdir(), 'lineside-sim-plc-pki'),
    automaticallyAcceptUnknownCertificate: sec?.trustClients ?? true,
    disableFileWatchers: true,
  });
}

/**
 * Starts the simulated PLC: a real OPC UA server exposing the tag block of DESIGN.md per station
 * and running the PLC side of the contract (conveyor triggers, inspection windows, tallies).
 */
export async function startSimPlc(options: SimPlcOptions): Promise<SimPlc> {
  const startedAt = Date.now();
  const host = options.host ?? '127.0.0.1';
  const log = options.logger ?? silentLogger();
  const certificateManager = simCertificateManager(options.security);
  const server = new OPCUAServer({
    host,
    hostname: host,
    port: options.port,
    ...serverSecurity(options.security),
    disableDiscovery: true,
    serverCertificateManager: certificateManager,
    buildInfo: { productName: 'lineside simulated PLC' },
    serverCapabilities: {
      // 0 = exception-based: every change of a tag is reported. node-opcua's default (50 ms) folds
      // changes within a window, which at >1,200 parts/min would merge PartIds.
      minSupportedSampleRate: 0,
      // Every limit advertised, so node-opcua's client (which reads them all when it recreates
      // monitored items after a server restart) does not log the missing ones.
      operationLimits: {
        maxNodesPerRead: 1000,
        maxNodesPerWrite: 1000,
        maxMonitoredItemsPerCall: 1000,
        maxNodesPerBrowse: 1000,
        maxNodesPerNodeManagement: 1000,
        maxNodesPerHistoryUpdateData: 1000,
        maxNodesPerHistoryUpdateEvents: 1000,
      },
    },
  });
  await server.initialize();
  const addressSpace = server.engine.addressSpace;
  if (addressSpace === null) throw new Error('simulated PLC: the server has no address space after initialize()');

  const stations = new Map<string, SimStation>();
  const batchId = options.batchId ?? SIM_DEFAULT_BATCH_ID;
  for (const spec of options.stations) {
    if (stations.has(spec.id)) throw new Error(`simulated PLC: station ${spec.id} is listed twice`);
    const nodes = addStationNodes(addressSpace, spec.id, options.nodeLayout);
    stations.set(spec.id, new SimStation(spec, nodes, { windowMs: options.windowMs, batchId, interlockReady: options.interlockReady ?? false, logger: log }));
  }
  await server.start();
  const port = server.endpoints[0]?.port ?? options.port;
  const endpoint = `opc.tcp://${host}:${port}`;

  let heartbeat = 0;
  let heartbeatRunning = true;
  const heartbeatTimer = setInterval(() => {
    if (!heartbeatRunning) return;
    heartbeat = (heartbeat + 1) % 65536;
    const at = new Date();
    for (const station of stations.values()) station.heartbeat(heartbeat, at);
  }, SIM_HEARTBEAT_MS);
  for (const station of stations.values()) station.start();
  log.info({ endpoint, stations: [...stations.keys()], windowMs: options.windowMs, startupMs: Date.now() - startedAt }, 'simulated PLC started');

  const station = (id: string): SimStation => {
    const s = stations.get(id);
    if (s === undefined) throw new Error(`simulated PLC has no station ${id}`);
    return s;
  };
  let stopped = false;
  return {
    endpoint,
    port,
    counters: (id) => station(id).counters(),
    ready: (id) => station(id).ready(),
    latency: (id) => station(id).latency(),
    resetLatency: (id) => station(id).resetLatency(),
    resultCountsSeen: (id) => station(id).resultCountsSeen(),
    answers: (id) => station(id).answers(),
    setPartsPerMinute: (id, n) => station(id).setPartsPerMinute(n),
    setRecipeIndex: (id, n) => station(id).setRecipeIndex(n),
    recipe: (id) => station(id).recipe(),
    setHeartbeatRunning(running) {
      heartbeatRunning = running;
      log.info({ running }, 'sim PLC heartbeat switched');
    },
    certificate: () => Buffer.from(server.getCertificate()),
    async trustClientCertificate(certificate) {
      await certificateManager.trustCertificate(new X509Certificate(certificate).raw);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(heartbeatTimer);
      for (const s of stations.values()) s.stop();
      // No grace period: a PLC that goes away does not announce it either.
      await server.shutdown(0);
      log.info({ endpoint }, 'simulated PLC stopped');
    },
  };
}

/**
 * The simulated PLC's security for a config that simulates its PLC: the endpoint the link asks for,
 * its user (password read as the link reads it), and client certificates trusted, as the simulator
 * belongs to the appliance. Undefined when the link asks for nothing.
 */
export async function simSecurityFor(plc: PlcConfig): Promise<SimPlcSecurity | undefined> {
  const sec = plc.security;
  if (sec.mode === 'None' && sec.user === undefined) return undefined;
  const identity = await userIdentity(plcSecurity(plc));
  return {
    modes: [sec.mode],
    policies: [sec.policy],
    pkiDir: path.join(plcSecurity(plc).pkiDir, '..', 'sim-plc-pki'),
    trustClients: true,
    users: identity.type === UserTokenType.UserName ? [{ userName: identity.userName, password: identity.password ?? '' }] : undefined,
  };
}

/**
 * The simulated PLC a config asks for (`plc.simulate`), on 127.0.0.1 at the port of `plc.endpoint`,
 * holding the conveyors while a station is not Ready. With a secure link, its certificate is
 * trusted by the link: the simulator was made by this process, so that is not trusting a PLC.
 */
export async function startSimPlcFor(config: Config, logger: Logger): Promise<SimPlc> {
  const simulate = config.plc.simulate;
  if (!simulate) throw new Error('plc.simulate is not set');
  const sim = await startSimPlc({
    host: '127.0.0.1',
    port: Number(new URL(config.plc.endpoint.replace(/^opc\.tcp:/, 'http:')).port || 4840),
    windowMs: simulate.windowMs,
    interlockReady: true,
    stations: config.stations.map((s) => ({
      id: s.id,
      kind: s.kind,
      partsPerMinute: s.kind === 'part' ? (simulate.stations[s.id]?.partsPerMinute ?? 120) : 0,
      cleanCheckEveryMs: simulate.stations[s.id]?.cleanCheckEveryMs ?? 0,
      recipeCycle: s.kind === 'part' ? simulate.stations[s.id]?.recipeCycle : undefined,
    })),
    logger,
    security: await simSecurityFor(config.plc),
  });
  if (config.plc.security.mode === 'None') return sim;
  try {
    await trustServerCertificate(plcSecurity(config.plc).pkiDir, sim.certificate());
  } catch (e) {
    await sim.stop();
    throw e;
  }
  logger.info({ pkiDir: config.plc.security.pkiDir }, "simulated PLC's certificate trusted by the link");
  return sim;
}

function serverSecurity(sec: SimPlcSecurity | undefined) {
  if (sec === undefined) return { securityModes: [MessageSecurityMode.None], securityPolicies: [SecurityPolicy.None], allowAnonymous: true };
  const secure = sec.modes.filter((m) => m !== 'None');
  const policies = secure.length === 0 ? [] : (sec.policies ?? ['Basic256Sha256']).map((p) => securityPolicies[p]);
  const users = sec.users;
  // node-opcua's client fetches the endpoints (and the server certificate) over a None channel
  // first, and its server opens such a channel only when a None endpoint exists.
  return {
    securityModes: [MessageSecurityMode.None, ...secure.map((m) => securityModes[m])],
    securityPolicies: [SecurityPolicy.None, ...policies],
    allowAnonymous: users === undefined,
    userManager:
      users === undefined ? undefined : { isValidUser: (userName: string, password: string) => users.some((u) => u.userName === userName && u.password === password) },
  };
}
