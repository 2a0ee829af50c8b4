import type { AddressSpace, UAVariable } from 'node-opcua';
import { DataType, StatusCodes } from 'node-opcua';
import { builtInDataType, tagVariant, zeroValue } from '../opcua-data-types.js';
import type { PlcToVisionTag, SimCounterTag, VisionToPlcTag } from '../tags.js';
import { PlcToVision, SimCounters, VisionToPlc } from '../tags.js';

export type SimTag = PlcToVisionTag | VisionToPlcTag | SimCounterTag;

/** The variables of one station's block in the simulated PLC. */
export type StationNodes = Readonly<Record<SimTag, UAVariable>>;

/**
 * How the simulated PLC names its variables: `plain` = `ns=1;s=<station>.<Tag>`; `s7` = as an
 * S7-1500 exposes a data block, every name quoted: `ns=1;s="VisionDB_<station>"."<Tag>"`.
 */
export type SimNodeLayout = 'plain' | 's7';

/** The tag prefix (or pattern) a station's config needs for this layout. */
export function simTagPrefix(stationId: string, layout: SimNodeLayout): string {
  return layout === 's7' ? `ns=1;s="VisionDB_${stationId}"."{tag}"` : `ns=1;s=${stationId}.`;
}

/**
 * Adds the folder `<stationId>` under Objects in the server's own namespace (index 1), with one
 * variable per tag (node IDs per {@link SimNodeLayout}). PLC→vision tags and the counters are
 * read-only for clients: only the simulated PLC logic changes them, as on a real controller.
 */
export function addStationNodes(addressSpace: AddressSpace, stationId: string, layout: SimNodeLayout = 'plain'): StationNodes {
  const namespace = addressSpace.getOwnNamespace();
  const folder = namespace.addFolder(addressSpace.rootFolder.objects, {
    browseName: layout === 's7' ? `VisionDB_${stationId}` : stationId,
    nodeId: layout === 's7' ? `s="VisionDB_${stationId}"` : `s=${stationId}`,
  });
  const idOf = (tag: SimTag): string => (layout === 's7' ? `s="VisionDB_${stationId}"."${tag}"` : `s=${stationId}.${tag}`);
  const add = (tag: SimTag, writable: boolean): UAVariable => {
    const access = writable ? 'CurrentRead | CurrentWrite' : 'CurrentRead';
    return namespace.addVariable({
      componentOf: folder,
      browseName: tag,
      nodeId: idOf(tag),
      dataType: DataType[builtInDataType(tag)],
      accessLevel: access,
      userAccessLevel: access,
      // 0 = the server reports every change as it happens (no sampling timer), so a
      // subscription sees each counter increment and each PartId.
      minimumSamplingInterval: 0,
      value: tagVariant(tag, zeroValue(tag)),
    });
  };
  const nodes = {} as Record<SimTag, UAVariable>;
  for (const tag of Object.keys(PlcToVision) as PlcToVisionTag[]) nodes[tag] = add(tag, false);
  for (const tag of Object.keys(VisionToPlc) as VisionToPlcTag[]) nodes[tag] = add(tag, true);
  for (const tag of Object.keys(SimCounters) as SimCounterTag[]) nodes[tag] = add(tag, false);
  return nodes;
}

/** Sets a tag from the PLC side with an explicit source timestamp. */
export function setFromPlc(nodes: StationNodes, tag: SimTag, value: number | string | boolean, at: Date): void {
  nodes[tag].setValueFromSource(tagVariant(tag, value), StatusCodes.Good, at);
}

/** Current value of a tag as the PLC sees it. */
export function valueOf(nodes: StationNodes, tag: SimTag): unknown {
  return nodes[tag].readValue().value.value;
}
