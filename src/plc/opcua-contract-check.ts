import type { ClientSession } from 'node-opcua';
import { AttributeIds, resolveNodeId } from 'node-opcua';
import type { NodeId } from 'node-opcua';
import { dataTypeNameOf, tagDataTypeName } from './opcua-data-types.js';
import type { StationTagMap, TagName } from './tags.js';

export interface ContractStation {
  readonly id: string;
  readonly tags: StationTagMap;
  readonly counter: 'TriggerCount' | 'CleanCheckRequest' | null;
}

/** Tags the link subscribes to for a station (its counter, if any, last). */
export function subscribedTags(station: ContractStation): TagName[] {
  const tags: TagName[] = ['PartId', 'BatchId', 'RecipeIndex', 'PlcHeartbeat'];
  if (station.counter !== null) tags.push(station.counter);
  return tags;
}

/** Tags the link writes for a station. */
export const WRITTEN_TAGS: readonly TagName[] = ['Result', 'RejectCode', 'PartIdEcho', 'Score', 'ResultCount', 'Ready', 'VisionHeartbeat', 'AlarmWord', 'RecipeIndexActive'];

/**
 * Reads the DataType of every node the link uses and compares it with the tag contract. Returns
 * one line per problem, naming station, tag and node ID; empty when the PLC matches.
 */
export async function checkTagContract(session: ClientSession, stations: readonly ContractStation[]): Promise<string[]> {
  const checks: Array<{ station: string; tag: TagName; nodeId: string }> = [];
  for (const station of stations) {
    for (const tag of [...subscribedTags(station), ...WRITTEN_TAGS]) checks.push({ station: station.id, tag, nodeId: station.tags[tag] });
  }
  const problems: string[] = [];
  const readable: typeof checks = [];
  for (const c of checks) {
    try {
      resolveNodeId(c.nodeId);
      readable.push(c);
    } catch (err) {
      problems.push(`station ${c.station}: tag ${c.tag} has an invalid node ID ${c.nodeId} (${(err as Error).message})`);
    }
  }
  const results = await session.read(readable.map((c) => ({ nodeId: c.nodeId, attributeId: AttributeIds.DataType })));
  readable.forEach((c, i) => {
    const dv = results[i];
    const expected = tagDataTypeName(c.tag);
    if (dv === undefined || dv.statusCode.isNotGood()) {
      problems.push(`station ${c.station}: tag ${c.tag} (${c.nodeId}) cannot be read: ${dv?.statusCode.name ?? 'no result'}`);
      return;
    }
    const actual = dataTypeNameOf(dv.value.value as NodeId);
    if (actual !== expected) problems.push(`station ${c.station}: tag ${c.tag} (${c.nodeId}) is ${actual}, expected ${expected}`);
  });
  return problems;
}
