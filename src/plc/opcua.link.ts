import type { ClientSession, OPCUACertificateManager } from 'node-opcua';
import { OPCUAClient } from 'node-opcua';
import { ErrorCode, LinesideError } from '../domain/errors.js';
import type { ComponentHealth } from '../domain/health.js';
import type { Logger } from '../observability/logger.js';
import type { ContractStation } from './opcua-contract-check.js';
import { checkTagContract } from './opcua-contract-check.js';
import { PlcSubscription } from './opcua-subscriptions.js';
import type { TagsOf, TagWrite } from './opcua-writes.js';
import { tagsLookup, writeResultHandshake, writeTags } from './opcua-writes.js';
import { PlcInputs } from './plc-inputs.js';
import { PlcOutputs } from './plc-outputs.js';
import type { PlcLink, PlcResult, PlcTrigger } from './plc-link.js';
import { LinkHealth } from './link-health.js';
import type { PlcSecurity } from './opcua-security.js';
import { clientSecurityOptions, isUntrustedServerCertificate, prepareOwnCertificate, untrustedServerMessage, userIdentity, userRefusedReason } from './opcua-security.js';
import { withTimeout } from './with-timeout.js';

export interface OpcUaPlcLinkOptions {
  readonly endpoint: string;
  readonly publishingIntervalMs: number;
  readonly heartbeatMs: number;
  readonly heartbeatTimeoutMs: number;
  readonly stations: readonly ContractStation[];
  readonly logger: Logger;
  /** Absent: security mode None, anonymous (the simulated PLC's defaults). */
  readonly security?: PlcSecurity;
}

/** After a failed session/subscription setup on a live channel, try again after this long. */
const SETUP_RETRY_MS = 2000;
/** A PLC that refused the user name or password is asked again only this often (no lock-out storm). */
const AUTH_RETRY_MS = 10_000;
/** stop() never waits longer than this for the PLC to acknowledge closing. */
const CLOSE_TIMEOUT_MS = 1000;

/**
 * The PLC link over OPC UA (client mode). Connection, reconnection and session repair (including
 * recreating the subscription on a restarted server) are node-opcua's; this class observes them,
 * checks the tag contract on every (re)established session, turns counter changes into triggers
 * and keeps the heartbeat, Ready and AlarmWord tags current.
 */
export class OpcUaPlcLink implements PlcLink {
  readonly #opts: OpcUaPlcLinkOptions;
  readonly #log: Logger;
  readonly #health: LinkHealth;
  readonly #tagsOf: TagsOf;
  readonly #outputs: PlcOutputs;
  readonly #resultQueues = new Map<string, Promise<unknown>>();
  readonly #inputs: PlcInputs;
  #client: OPCUAClient | undefined;
  #certificateManager: OPCUACertificateManager | undefined;
  #session: ClientSession | undefined;
  #subscription: PlcSubscription | undefined;
  #everConnected = false;
  #settingUp = false;
  #setupTimer: NodeJS.Timeout | undefined;
  #tickTimer: NodeJS.Timeout | undefined;
  #heartbeatWriteBusy = false;
  #lostAt: number | undefined;
  #stopped = false;

  constructor(opts: OpcUaPlcLinkOptions) {
    this.#opts = opts;
    this.#log = opts.logger.child({ endpoint: opts.endpoint });
    this.#tagsOf = tagsLookup(opts.stations);
    this.#outputs = new PlcOutputs(opts.stations.map((s) => s.id));
    this.#inputs = new PlcInputs(opts.stations, opts.heartbeatTimeoutMs, this.#log);
    this.#health = new LinkHealth(this.#log, () => this.#inputs.staleHeartbeats());
  }

  async start(): Promise<void> {
    if (this.#stopped) throw new LinesideError(ErrorCode.stopped, 'PLC link was stopped; create a new one');
    if (this.#client !== undefined) return;
    const security = clientSecurityOptions(this.#opts.security);
    this.#certificateManager = security.clientCertificateManager;
    const client = OPCUAClient.create({
      clientName: 'lineside-plc-link',
      endpointMustExist: false,
      ...security,
      keepSessionAlive: true,
      // -1 = retry for ever; node-opcua backs off exponentially between the two delays. The ceiling
      // bounds how long a PLC that is back waits for us: at most 2 s plus the session repair.
      connectionStrategy: { maxRetry: -1, initialDelay: 250, maxDelay: 2000 },
    });
    this.#client = client;
    this.#observeClient(client);
    this.#tickTimer = setInterval(() => this.#tick(), this.#opts.heartbeatMs);
    const sec = this.#opts.security;
    // The user name is logged, the password never.
    this.#log.info({ stations: this.#opts.stations.map((s) => s.id), securityMode: sec?.mode ?? 'None', securityPolicy: sec?.mode === 'None' ? undefined : sec?.policy, user: sec?.user?.userName ?? 'anonymous' }, 'PLC link starting');
    void this.#connect(client);
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#tickTimer);
    clearTimeout(this.#setupTimer);
    const [subscription, session, client] = [this.#subscription, this.#session, this.#client];
    const connected = this.#health.downReason === null && this.#everConnected;
    this.#subscription = undefined;
    this.#session = undefined;
    this.#client = undefined;
    try {
      // Only ask a PLC that is there; a request to an absent one would wait for a reconnection.
      if (connected && subscription !== undefined) await withTimeout(subscription.close(), CLOSE_TIMEOUT_MS, 'closing the subscription');
      if (connected && session !== undefined) await withTimeout(session.close(true), CLOSE_TIMEOUT_MS, 'closing the session');
    } catch (err) {
      this.#log.warn({ err }, 'PLC did not acknowledge closing; disconnecting anyway');
    }
    if (client !== undefined) await client.disconnect();
    // Ours, not the client's: node-opcua leaves a supplied store open.
    await this.#certificateManager?.dispose();
    this.#health.down('stopped');
    this.#log.info('PLC link stopped');
  }

  health(): ComponentHealth {
    return this.#health.value;
  }

  onTrigger(stationId: string, handler: (t: PlcTrigger) => void): () => void {
    return this.#inputs.onTrigger(stationId, handler);
  }

  onRecipeIndex(stationId: string, handler: (index: number) => void): () => void {
    return this.#inputs.onRecipeIndex(stationId, handler);
  }

  onPlcHeartbeat(handler: (alive: boolean) => void): () => void {
    return this.#inputs.onPlcHeartbeat(handler);
  }

  onHealth(handler: (h: ComponentHealth) => void): () => void {
    return this.#health.onChange(handler);
  }

  /**
   * A station has one set of result tags, so its answers go one handshake at a time: otherwise the
   * next part's PartIdEcho could land between this part's fields and its ResultCount.
   */
  async writeResult(stationId: string, result: PlcResult): Promise<number> {
    this.#usableSession(stationId);
    const started = performance.now();
    const previous = this.#resultQueues.get(stationId) ?? Promise.resolve();
    const mine = previous.then(() => writeResultHandshake(this.#usableSession(stationId), this.#tagsOf, stationId, result));
    // The queue only orders; each caller gets its own outcome from `mine`.
    this.#resultQueues.set(stationId, mine.catch(() => undefined));
    await mine;
    return performance.now() - started;
  }

  setReady(stationId: string, ready: boolean): void {
    this.#writeNow(this.#outputs.setReady(stationId, ready));
  }

  setAlarmWord(stationId: string, word: number): void {
    this.#writeNow(this.#outputs.setAlarmWord(stationId, word));
  }

  setRecipeIndexActive(stationId: string, index: number): void {
    this.#writeNow(this.#outputs.setRecipeIndexActive(stationId, index));
  }

  async #connect(client: OPCUAClient): Promise<void> {
    try {
      if (this.#certificateManager !== undefined) await prepareOwnCertificate(this.#certificateManager);
      if (this.#stopped) return;
      await client.connect(this.#opts.endpoint);
    } catch (err) {
      if (this.#stopped) return;
      if (isUntrustedServerCertificate(err) && this.#opts.security !== undefined) {
        const message = await untrustedServerMessage(this.#opts.security.pkiDir, this.#opts.endpoint);
        this.#log.error({ pkiDir: this.#opts.security.pkiDir }, message);
        this.#health.down(message);
        return;
      }
      this.#log.error({ err }, 'PLC connection given up');
      this.#health.down(`cannot connect to PLC at ${this.#opts.endpoint}: ${(err as Error).message}`);
      return;
    }
    if (this.#stopped) return;
    this.#log.info('PLC connected');
    await this.#setUp();
  }

  #observeClient(client: OPCUAClient): void {
    client.on('backoff', (attempt: number, delayMs: number) => {
      if (this.#stopped) return;
      this.#log.debug({ attempt, delayMs }, 'PLC not reachable; retrying');
      // Once connected, connection_lost has already said why the link is down.
      if (!this.#everConnected) this.#health.down(`PLC unreachable at ${this.#opts.endpoint}`);
    });
    client.on('connection_lost', () => {
      if (this.#stopped) return;
      this.#lostAt = Date.now();
      // Whatever the PLC counted meanwhile is stale; the first value afterwards is a new baseline.
      this.#inputs.rebaseline();
      this.#health.down('connection to PLC lost; reconnecting');
    });
    client.on('connection_reestablished', () => {
      if (this.#stopped) return;
      this.#log.info({ sinceLostMs: this.#sinceLost() }, 'PLC connection re-established; restoring session');
      // A session that never got created has nothing for node-opcua to restore.
      if (this.#session === undefined) this.#scheduleSetUp(0);
    });
    client.on('reconnection_attempt_has_failed', (err: Error, message: string) => {
      this.#log.info({ err, message }, 'PLC reconnection attempt failed');
    });
  }

  #observeSession(session: ClientSession): void {
    session.on('session_restored', () => {
      if (this.#stopped) return;
      this.#log.info({ sinceLostMs: this.#sinceLost() }, 'PLC session restored');
      this.#scheduleSetUp(0);
    });
    session.on('session_closed', (status: { name: string }) => {
      if (this.#stopped) return;
      this.#log.info({ status: status.name }, 'PLC session closed');
      this.#session = undefined;
      this.#subscription = undefined;
      this.#health.down(`PLC session closed (${status.name})`);
      this.#scheduleSetUp(SETUP_RETRY_MS);
    });
    session.on('keepalive_failure', () => {
      if (!this.#stopped) this.#log.warn('PLC session keep-alive failed');
    });
  }

  #scheduleSetUp(delayMs: number): void {
    clearTimeout(this.#setupTimer);
    this.#setupTimer = setTimeout(() => void this.#setUp(), delayMs);
  }

  /** Session, tag contract check, subscription, outputs: idempotent, run after every (re)connection. */
  async #setUp(): Promise<void> {
    const client = this.#client;
    if (this.#stopped || client === undefined) return;
    if (this.#settingUp) return this.#scheduleSetUp(100);
    this.#settingUp = true;
    try {
      let session = this.#session;
      if (session === undefined) {
        session = await client.createSession(await userIdentity(this.#opts.security));
        this.#session = session;
        this.#observeSession(session);
        this.#log.info({ sessionId: session.sessionId.toString() }, 'PLC session created');
      }
      const problems = await checkTagContract(session, this.#opts.stations);
      this.#inputs.accepting = problems.length === 0;
      if (problems.length > 0) {
        this.#log.error({ problems }, 'PLC tag contract check failed');
        this.#health.down(problems.join('; '));
        return;
      }
      if (this.#subscription === undefined) {
        this.#inputs.rebaseline();
        this.#subscription = await PlcSubscription.create(session, this.#opts.stations, this.#opts.publishingIntervalMs, {
          change: (c) => this.#inputs.change(c),
          lost: (reason) => this.#onSubscriptionLost(reason),
        }, this.#log);
      }
      this.#everConnected = true;
      this.#inputs.restartHeartbeatWatch();
      this.#health.up({ sinceLostMs: this.#sinceLost() });
      await this.#writeOutputs();
    } catch (err) {
      if (this.#stopped) return;
      const refused = userRefusedReason(err, this.#opts.security);
      if (refused !== undefined) {
        this.#log.error(refused);
        this.#health.down(refused);
      } else {
        this.#log.warn({ err, reconnecting: client.isReconnecting }, 'PLC link setup failed');
        this.#health.down(`PLC link setup failed: ${(err as Error).message}`);
      }
      // While node-opcua reconnects, its session_restored / connection_reestablished call us again.
      if (!client.isReconnecting) this.#scheduleSetUp(refused !== undefined ? AUTH_RETRY_MS : SETUP_RETRY_MS);
    } finally {
      this.#settingUp = false;
    }
  }

  #onSubscriptionLost(reason: string): void {
    if (this.#stopped) return;
    this.#log.warn({ reason }, 'PLC subscription lost; creating a new one');
    this.#subscription = undefined;
    this.#health.down(`PLC ${reason}`);
    this.#scheduleSetUp(0);
  }

  #tick(): void {
    if (this.#inputs.checkHeartbeat()) this.#health.refresh();
    if (this.#health.downReason !== null || this.#heartbeatWriteBusy) return;
    this.#outputs.beat();
    this.#heartbeatWriteBusy = true;
    this.#writeOutputs()
      .catch((err: unknown) => this.#log.warn({ err }, 'vision heartbeat write failed'))
      .finally(() => (this.#heartbeatWriteBusy = false));
  }

  /** VisionHeartbeat, Ready and AlarmWord of every station, in one call. */
  async #writeOutputs(): Promise<void> {
    const session = this.#session;
    if (session !== undefined) await writeTags(session, this.#tagsOf, this.#outputs.all());
  }

  /** Written at once when connected; otherwise the next heartbeat or reconnection carries it. */
  #writeNow(write: TagWrite): void {
    const session = this.#session;
    if (this.#health.downReason !== null || session === undefined) return;
    writeTags(session, this.#tagsOf, [write]).catch((err: unknown) => this.#log.warn({ err }, 'PLC output write failed; retried on the next heartbeat'));
  }

  #usableSession(stationId: string): ClientSession {
    this.#tagsOf(stationId);
    const session = this.#session;
    if (this.#health.downReason !== null || session === undefined) {
      const reason = this.#health.downReason ?? 'not connected yet';
      throw new LinesideError(ErrorCode.plcNotConnected, `PLC not connected: ${reason}`, { details: { station: stationId } });
    }
    return session;
  }

  #sinceLost(): number | undefined {
    return this.#lostAt === undefined ? undefined : Date.now() - this.#lostAt;
  }
}
