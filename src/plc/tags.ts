/**
 * The PLC tag contract (DESIGN.md): one block of tags per station. This module is the only place
 * tag names and their OPC UA data types are listed; the simulated PLC and the client link both
 * build from it.
 */
export const PlcToVision = {
  TriggerCount: 'UInt32',
  PartId: 'String',
  BatchId: 'String',
  RecipeIndex: 'Int16',
  PlcHeartbeat: 'UInt16',
  CleanCheckRequest: 'UInt32',
} as const;

export const VisionToPlc = {
  Result: 'Int16',
  RejectCode: 'Int16',
  PartIdEcho: 'String',
  Score: 'Float',
  ResultCount: 'UInt32',
  Ready: 'Boolean',
  VisionHeartbeat: 'UInt16',
  AlarmWord: 'UInt32',
  RecipeIndexActive: 'Int16',
} as const;

/** What the simulated PLC reports about what it saw (issue 2, item 7). Read-only for clients. */
export const SimCounters = {
  PartsTriggered: 'UInt32',
  ResultsReceived: 'UInt32',
  Passed: 'UInt32',
  Rejected: 'UInt32',
  TimedOut: 'UInt32',
  Mismatched: 'UInt32',
} as const;

export type PlcToVisionTag = keyof typeof PlcToVision;
export type VisionToPlcTag = keyof typeof VisionToPlc;
export type SimCounterTag = keyof typeof SimCounters;
export type TagName = PlcToVisionTag | VisionToPlcTag;
export type TagDataType = (typeof PlcToVision)[PlcToVisionTag] | (typeof VisionToPlc)[VisionToPlcTag];

export const TAG_NAMES = [...Object.keys(PlcToVision), ...Object.keys(VisionToPlc)] as TagName[];

/** Node ID of every tag for one station. */
export type StationTagMap = Readonly<Record<TagName, string>>;

/** Default prefix for a station's block: `ns=1;s=<stationId>.` (the simulated PLC's layout). */
export function defaultTagPrefix(stationId: string): string {
  return `ns=1;s=${stationId}.`;
}

/**
 * The node ID of each tag: `tags` first, else `tagPrefix` followed by the tag name, or, where the
 * prefix holds `{tag}` (and optionally `{station}`), that pattern filled in, for PLCs that quote
 * each name: `ns=3;s="VisionDB_{station}"."{tag}"` → `ns=3;s="VisionDB_blister"."Result"`.
 */
export function resolveTagMap(
  stationId: string,
  plc: { tagPrefix?: string; tags: Readonly<Record<string, string>> },
): StationTagMap {
  const prefix = plc.tagPrefix ?? defaultTagPrefix(stationId);
  const nodeId = prefix.includes('{tag}')
    ? (name: string) => prefix.replaceAll('{tag}', name).replaceAll('{station}', stationId)
    : (name: string) => `${prefix}${name}`;
  const map = {} as Record<TagName, string>;
  for (const name of TAG_NAMES) map[name] = plc.tags[name] ?? nodeId(name);
  return map;
}

export function isTagName(s: string): s is TagName {
  return (TAG_NAMES as string[]).includes(s);
}
