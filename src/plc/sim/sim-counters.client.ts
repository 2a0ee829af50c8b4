import { AttributeIds, OPCUAClient } from 'node-opcua';
import { SimCounters, type SimCounterTag } from '../tags.js';

/**
 * Reads what the simulated PLC saw for one station, over OPC UA like any outside client would
 * (UaExpert, a SCADA). Used by the end-to-end tests and benchmarks to judge the appliance from the
 * PLC's side.
 */
export async function readSimCounters(endpoint: string, stationId: string, prefix = `ns=1;s=${stationId}.`): Promise<Record<SimCounterTag, number>> {
  const client = OPCUAClient.create({ endpointMustExist: false, connectionStrategy: { maxRetry: 2, initialDelay: 100, maxDelay: 500 } });
  await client.connect(endpoint);
  try {
    const session = await client.createSession();
    try {
      const names = Object.keys(SimCounters) as SimCounterTag[];
      const values = await session.read(names.map((n) => ({ nodeId: `${prefix}${n}`, attributeId: AttributeIds.Value })));
      const out = {} as Record<SimCounterTag, number>;
      names.forEach((n, i) => {
        const dv = values[i]!;
        if (!dv.statusCode.isGood()) throw new Error(`reading ${prefix}${n}: ${dv.statusCode.toString()}`);
        out[n] = Number(dv.value.value);
      });
      return out;
    } finally {
      await session.close();
    }
  } finally {
    await client.disconnect();
  }
}
