import type { ClientSession, ClientSubscription, DataValue } from 'node-opcua';
import { AttributeIds, TimestampsToReturn } from 'node-opcua';
import type { Logger } from '../observability/logger.js';
import type { ContractStation } from './opcua-contract-check.js';
import { subscribedTags } from './opcua-contract-check.js';
import type { TagName } from './tags.js';

/** One value change of a subscribed tag. */
export interface TagChange {
  readonly stationId: string;
  readonly tag: TagName;
  readonly value: unknown;
  /** PLC's source timestamp (falls back to the server's, then to receipt), epoch ms. */
  readonly sourceTime: number;
  readonly receivedAt: number;
}

export interface SubscriptionHandlers {
  /** Every change, in the order the server sent them; counters of one message come after its other tags. */
  change(c: TagChange): void;
  /** The server or library ended the subscription while we did not ask for it. */
  lost(reason: string): void;
}

/**
 * Every item keeps up to this many changes between two publish cycles and never drops the oldest:
 * a lost counter increment would be a lost part.
 */
export const MONITORED_QUEUE_SIZE = 1000;

const COUNTERS: ReadonlySet<TagName> = new Set(['TriggerCount', 'CleanCheckRequest']);

/**
 * One OPC UA subscription holding every station's subscribed tags as one monitored-item group.
 * After a reconnection node-opcua transfers or recreates it on its own (same objects), so this
 * class lives as long as the session.
 */
export class PlcSubscription {
  readonly #subscription: ClientSubscription;
  #closing = false;

  private constructor(subscription: ClientSubscription) {
    this.#subscription = subscription;
  }

  static async create(
    session: ClientSession,
    stations: readonly ContractStation[],
    publishingIntervalMs: number,
    handlers: SubscriptionHandlers,
    log: Logger,
  ): Promise<PlcSubscription> {
    // Keep-alives about once a second whatever the publishing interval; the lifetime must be at
    // least three keep-alives (OPC UA Part 4, 5.13.2).
    const maxKeepAlive = Math.max(3, Math.ceil(1000 / publishingIntervalMs));
    const subscription = await session.createSubscription2({
      requestedPublishingInterval: publishingIntervalMs,
      requestedMaxKeepAliveCount: maxKeepAlive,
      requestedLifetimeCount: maxKeepAlive * 10,
      maxNotificationsPerPublish: 0,
      publishingEnabled: true,
      priority: 10,
    });
    const items = stations.flatMap((s) => subscribedTags(s).map((tag) => ({ stationId: s.id, tag, nodeId: s.tags[tag] })));
    const group = await subscription.monitorItems(
      items.map((i) => ({ nodeId: i.nodeId, attributeId: AttributeIds.Value })),
      { samplingInterval: 0, queueSize: MONITORED_QUEUE_SIZE, discardOldest: false },
      TimestampsToReturn.Both,
    );
    const self = new PlcSubscription(subscription);
    group.monitoredItems.forEach((m, i) => {
      const status = m.statusCode;
      if (status.isNotGood()) log.error({ station: items[i]?.stationId, tag: items[i]?.tag, nodeId: items[i]?.nodeId, status: status.name }, 'PLC refused a monitored item');
    });

    // Counter changes wait until every change of the same publish message has been delivered, so
    // the PartId written in the same PLC scan is known before its counter is handled.
    let pending: TagChange[] = [];
    const flush = (): void => {
      const batch = pending;
      pending = [];
      for (const c of batch) handlers.change(c);
    };
    group.on('changed', (_item, dv: DataValue, index: number) => {
      const item = items[index];
      if (item === undefined) return;
      const receivedAt = Date.now();
      const change: TagChange = {
        stationId: item.stationId,
        tag: item.tag,
        value: dv.value.value,
        sourceTime: dv.sourceTimestamp?.getTime() ?? dv.serverTimestamp?.getTime() ?? receivedAt,
        receivedAt,
      };
      if (!COUNTERS.has(item.tag)) {
        handlers.change(change);
        return;
      }
      if (pending.length === 0) queueMicrotask(flush);
      pending.push(change);
    });
    subscription.on('terminated', () => {
      if (!self.#closing) handlers.lost('subscription terminated');
    });
    // Reported, not acted on: the subscription itself may still be alive, and a second one would
    // deliver every trigger twice. A dead one shows as 'terminated' or as a stale PLC heartbeat.
    subscription.on('internal_error', (err: Error) => log.error({ err }, 'PLC subscription internal error'));
    subscription.on('status_changed', (status: { name: string }) => {
      log.info({ status: status.name }, 'PLC subscription status changed');
    });
    log.info({ subscriptionId: subscription.subscriptionId, items: items.length, publishingIntervalMs: subscription.publishingInterval }, 'PLC subscription created');
    return self;
  }

  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    // Deleting the subscription deletes its monitored items on the server too.
    await this.#subscription.terminate();
  }
}
