import type { ClientSession, StatusCode, WriteValueOptions } from 'node-opcua';
import { AttributeIds } from 'node-opcua';
import { ErrorCode, LinesideError } from '../domain/errors.js';
import { tagDataTypeName, tagVariant } from './opcua-data-types.js';
import type { PlcResult } from './plc-link.js';
import type { StationTagMap, VisionToPlcTag } from './tags.js';
import { withTimeout } from './with-timeout.js';

/** One tag write of a station. */
export interface TagWrite {
  readonly stationId: string;
  readonly tag: VisionToPlcTag;
  readonly value: number | string | boolean;
}

/** Resolves a station's tag map (throws for an unknown station). */
export type TagsOf = (stationId: string) => StationTagMap;

export function tagsLookup(stations: ReadonlyArray<{ readonly id: string; readonly tags: StationTagMap }>): TagsOf {
  const byId = new Map(stations.map((s) => [s.id, s.tags]));
  return (stationId) => {
    const tags = byId.get(stationId);
    if (tags === undefined) throw new LinesideError(ErrorCode.notFound, `PLC link has no station ${stationId}`, { details: { station: stationId } });
    return tags;
  };
}

/** A write that has not answered by then is of no use to the PLC's inspection window. */
export const WRITE_TIMEOUT_MS = 2000;

/** Builds the Write request items; a value that does not fit its tag's type names the tag. */
function prepare(tagsOf: TagsOf, writes: readonly TagWrite[]): WriteValueOptions[] {
  return writes.map((w) => {
    const nodeId = tagsOf(w.stationId)[w.tag];
    try {
      return { nodeId, attributeId: AttributeIds.Value, value: { value: tagVariant(w.tag, w.value) } };
    } catch (err) {
      throw new LinesideError(ErrorCode.plcWrite, `station ${w.stationId}: value ${String(w.value)} does not fit tag ${w.tag} (${tagDataTypeName(w.tag)})`, {
        cause: err,
        details: { station: w.stationId, tag: w.tag, nodeId },
      });
    }
  });
}

/**
 * Sends prepared items in one Write service call and checks every status code. Throws
 * LINESIDE_ERR_PLC_WRITE naming the first refused tag (station, tag, node ID and status).
 */
async function send(session: ClientSession, writes: readonly TagWrite[], items: WriteValueOptions[]): Promise<void> {
  let statuses: StatusCode[];
  try {
    statuses = await withTimeout(session.write(items), WRITE_TIMEOUT_MS, 'PLC write');
  } catch (err) {
    const tags = writes.map((w) => `${w.stationId}.${w.tag}`).join(', ');
    throw new LinesideError(ErrorCode.plcWrite, `PLC write of ${tags} failed: ${(err as Error).message}`, { cause: err, details: { tags } });
  }
  writes.forEach((w, i) => {
    const status = statuses[i];
    if (status === undefined || status.isNotGood()) {
      const nodeId = String(items[i]?.nodeId);
      const name = status?.name ?? 'no status returned';
      throw new LinesideError(ErrorCode.plcWrite, `station ${w.stationId}: PLC refused tag ${w.tag} (${nodeId}): ${name}`, {
        details: { station: w.stationId, tag: w.tag, nodeId, status: name },
      });
    }
  });
}

/** Writes the tags in one call; see `send`. */
export async function writeTags(session: ClientSession, tagsOf: TagsOf, writes: readonly TagWrite[]): Promise<void> {
  await send(session, writes, prepare(tagsOf, writes));
}

/**
 * The result handshake of DESIGN.md: Result, RejectCode, PartIdEcho and Score in one call, and only
 * once all were accepted, ResultCount in a second call, so the PLC never sees a ResultCount that
 * belongs to half-written fields. Both requests are built (and their values checked) first.
 */
export async function writeResultHandshake(session: ClientSession, tagsOf: TagsOf, stationId: string, r: PlcResult): Promise<void> {
  const fields: TagWrite[] = [
    { stationId, tag: 'Result', value: r.result },
    { stationId, tag: 'RejectCode', value: r.rejectCode },
    { stationId, tag: 'PartIdEcho', value: r.partIdEcho },
    { stationId, tag: 'Score', value: r.score },
  ];
  const count: TagWrite[] = [{ stationId, tag: 'ResultCount', value: r.resultCount }];
  const fieldItems = prepare(tagsOf, fields);
  const countItems = prepare(tagsOf, count);
  await send(session, fields, fieldItems);
  await send(session, count, countItems);
}
