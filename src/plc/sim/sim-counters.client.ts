import { AttributeIds, OPCUAClient } from 'node-opcua';
import { SimCounters, type SimCounterTag } from '../tags.js';

/**
 * Reads variables of a PLC over OPC UA like any outside client would (UaExpert, a SCADA). Used by
 * the end-to-end tests and benchmarks to judge the appliance from the PLC's side.
 */
export async function readTags(endpoint: string, nodeIds: readonly string[]): Promise<unknown[]> {
  const client = OPCUAClient.create({ endpointMustExist: false, connectionStrategy: { maxRetry: 2, initialDelay: 100, maxDelay: 500 } });
  await client.connect(endpoint);
  try {
    const session = await client.createSession();
    try {
      const values = await session.read(nodeIds.map((nodeId) => ({ nodeId, attributeId: AttributeIds.Value })));
      return values.map((dv, i) => {
        if (!dv.statusCode.isGood()) throw new Error(`reading ${nodeIds[i]}: ${dv.statusCode.toString()}`);
        return dv.value.value as unknown;
      });
    } finally {
      await session.close();
    }
  } finally {
    await client.disconnect();
  }
}

/** What the simulated PLC saw for one station. */
export async function readSimCounters(endpoint: string, stationId: string, prefix = `ns=1;s=${stationId}.`): Promise<Record<SimCounterTag, number>> {
  const names = Object.keys(SimCounters) as SimCounterTag[];
  const values = await readTags(endpoint, names.map((n) => `${prefix}${n}`));
  return Object.fromEntries(names.map((n, i) => [n, Number(values[i])])) as Record<SimCounterTag, number>;
}
