import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ClientSession, UserIdentityInfo } from 'node-opcua';
import { MessageSecurityMode, OPCUAClient, SecurityPolicy } from 'node-opcua';
import { configSchema, type ScadaConfig, type StationConfig } from '../config/schema.js';
import type { LinesideEvents } from '../domain/events.js';
import { HealthState, type ComponentHealth } from '../domain/health.js';
import { TypedEmitter } from '../domain/typed-emitter.js';
import { createLogger, silentLogger } from '../observability/logger.js';
import { linkCertificateManager, prepareOwnCertificate } from '../plc/opcua-security.js';
import { openTestRecords, userWithPassword } from '../records/records.test-support.js';
import { AlarmCenter } from '../stations/alarm-center.js';
import { AlarmRepository } from '../store/alarm.repository.js';
import { ScadaServer } from './scada-server.js';

export const OPERATOR = { userName: 'olga', password: 'tulip-garden-41' };
export const VIEWER = { userName: 'victor', password: 'violet-meadow-77' };

export const STATIONS = [
  configSchema.shape.stations.element.parse({ id: 'blister', name: 'Blister line', kind: 'part', trigger: 'plc', model: 'm', source: { type: 'replay', path: '/x' } }),
  configSchema.shape.stations.element.parse({ id: 'gowning', kind: 'zone', model: 'm', source: { type: 'replay', path: '/x' } }),
] as StationConfig[];

const ok = (): ComponentHealth => ({ state: HealthState.ok, since: Date.now() });

/**
 * A real ScadaServer on 127.0.0.1 (OS-picked port) over the real records and alarm center on a
 * fresh data directory, with two users and a health the test sets per station.
 */
export async function startTestScada(over: Partial<ScadaConfig> = {}) {
  const env = openTestRecords();
  await userWithPassword(env.records, OPERATOR.userName, 'operator', OPERATOR.password);
  await userWithPassword(env.records, VIEWER.userName, 'viewer', VIEWER.password);
  const bus = new TypedEmitter<LinesideEvents>();
  const alarms = new AlarmCenter({ repo: new AlarmRepository(env.records.db), audit: env.records.audit, bus, logger: silentLogger(), stations: STATIONS.map((s) => s.id), maxShelveMs: 3_600_000 });
  const health = new Map<string, ComponentHealth[]>(STATIONS.map((s) => [s.id, [ok()]]));
  const pkiDir = path.join(env.dataDir, 'scada-pki');
  const config: ScadaConfig = { ...configSchema.shape.scada.parse({ enabled: true, port: 0 }), pkiDir, ...over };
  const server = new ScadaServer({
    config,
    stations: STATIONS,
    health: (id) => health.get(id) ?? [],
    bus,
    alarms,
    users: env.records.users,
    audit: env.records.audit,
    simulated: true,
    // SCADA_TEST_LOG=debug shows the server's log while a test runs.
    logger: createLogger(process.env.SCADA_TEST_LOG ?? 'silent'),
    statusPeriodMs: 50,
  });
  await server.start();
  const setHealth = (stationId: string, state: HealthState, detail?: string): void => {
    health.set(stationId, [{ state, detail, since: Date.now() }]);
  };
  const stop = async (): Promise<void> => {
    await server.stop();
    env.close();
  };
  return { env, bus, alarms, server, config, setHealth, stop };
}

/**
 * A node-opcua client whose certificate the server trusts and which trusts the server's, as
 * commissioning on site does (`lineside pki trust` on both ends).
 */
export async function trustedClient(server: ScadaServer, serverPkiDir: string, mode: 'None' | 'Sign' | 'SignAndEncrypt' = 'SignAndEncrypt'): Promise<OPCUAClient> {
  const clientPki = path.join(serverPkiDir, '..', 'client-pki');
  const cm = linkCertificateManager(clientPki);
  await prepareOwnCertificate(cm);
  await cm.trustCertificate(server.certificate());
  await server.trustClientCertificate(readFileSync(path.join(clientPki, 'own/certs/client_certificate.pem')));
  return OPCUAClient.create({
    applicationName: 'scada-test',
    applicationUri: 'urn:lineside:plc-link',
    clientCertificateManager: cm,
    securityMode: MessageSecurityMode[mode],
    securityPolicy: mode === 'None' ? SecurityPolicy.None : SecurityPolicy.Basic256Sha256,
    endpointMustExist: false,
    connectionStrategy: { maxRetry: 0, initialDelay: 100 },
  });
}

export async function openSession(client: OPCUAClient, endpoint: string, identity: UserIdentityInfo): Promise<ClientSession> {
  await client.connect(endpoint);
  return client.createSession(identity);
}
