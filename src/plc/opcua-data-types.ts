import { DataType, Variant } from 'node-opcua';
import type { SimCounterTag, TagDataType, TagName } from './tags.js';
import { PlcToVision, SimCounters, VisionToPlc } from './tags.js';

/** The tag contract's type names as node-opcua built-in data types. */
const BUILT_IN: Readonly<Record<TagDataType, DataType>> = {
  UInt32: DataType.UInt32,
  UInt16: DataType.UInt16,
  Int16: DataType.Int16,
  String: DataType.String,
  Float: DataType.Float,
  Boolean: DataType.Boolean,
};

export function tagDataTypeName(tag: TagName | SimCounterTag): TagDataType {
  if (tag in PlcToVision) return PlcToVision[tag as keyof typeof PlcToVision];
  if (tag in VisionToPlc) return VisionToPlc[tag as keyof typeof VisionToPlc];
  return SimCounters[tag as SimCounterTag];
}

export function builtInDataType(tag: TagName | SimCounterTag): DataType {
  return BUILT_IN[tagDataTypeName(tag)];
}

/** A Variant carrying `value` with the data type the contract gives `tag`. */
export function tagVariant(tag: TagName | SimCounterTag, value: number | string | boolean): Variant {
  return new Variant({ dataType: builtInDataType(tag), value });
}

/** Zero value of a tag's type, for initialising nodes. */
export function zeroValue(tag: TagName | SimCounterTag): number | string | boolean {
  const t = tagDataTypeName(tag);
  if (t === 'String') return '';
  if (t === 'Boolean') return false;
  return 0;
}

/**
 * Name of a built-in data type from its DataType node ID (`ns=0;i=<n>`), e.g. `i=4` → `Int16`.
 * Anything else (a structure, an enumeration, a vendor subtype) is described by its node ID.
 */
export function dataTypeNameOf(dataTypeNodeId: { namespace: number; value: unknown; toString(): string }): string {
  if (dataTypeNodeId.namespace === 0 && typeof dataTypeNodeId.value === 'number') {
    const name = DataType[dataTypeNodeId.value];
    if (name !== undefined) return name;
  }
  return dataTypeNodeId.toString();
}
