import { ErrorCode, LinesideError } from '../domain/errors.js';
import type { TagWrite } from './opcua-writes.js';

interface Wanted {
  ready: boolean;
  alarmWord: number;
  recipeIndexActive: number | null;
}

/**
 * The values the appliance keeps on the PLC besides results: Ready, AlarmWord and RecipeIndexActive per station (the
 * latest wish, rewritten on every heartbeat and after a reconnection) and the VisionHeartbeat.
 */
export class PlcOutputs {
  readonly #wanted = new Map<string, Wanted>();
  #heartbeat = 0;

  constructor(stationIds: readonly string[]) {
    // RecipeIndexActive stays unwritten until the station has a recipe: there is nothing to echo yet.
    for (const id of stationIds) this.#wanted.set(id, { ready: false, alarmWord: 0, recipeIndexActive: null });
  }

  setReady(stationId: string, ready: boolean): TagWrite {
    this.#station(stationId).ready = ready;
    return { stationId, tag: 'Ready', value: ready };
  }

  setAlarmWord(stationId: string, word: number): TagWrite {
    const value = word >>> 0;
    this.#station(stationId).alarmWord = value;
    return { stationId, tag: 'AlarmWord', value };
  }

  setRecipeIndexActive(stationId: string, index: number): TagWrite {
    this.#station(stationId).recipeIndexActive = index;
    return { stationId, tag: 'RecipeIndexActive', value: index };
  }

  /** Advances the VisionHeartbeat (UInt16, wraps to 0 after 65535). */
  beat(): void {
    this.#heartbeat = (this.#heartbeat + 1) % 65536;
  }

  /** Every station's VisionHeartbeat, Ready, AlarmWord and (once it has one) RecipeIndexActive. */
  all(): TagWrite[] {
    const writes: TagWrite[] = [];
    for (const [stationId, o] of this.#wanted) {
      writes.push({ stationId, tag: 'VisionHeartbeat', value: this.#heartbeat });
      writes.push({ stationId, tag: 'Ready', value: o.ready });
      writes.push({ stationId, tag: 'AlarmWord', value: o.alarmWord });
      if (o.recipeIndexActive !== null) writes.push({ stationId, tag: 'RecipeIndexActive', value: o.recipeIndexActive });
    }
    return writes;
  }

  #station(stationId: string): Wanted {
    const o = this.#wanted.get(stationId);
    if (o === undefined) throw new LinesideError(ErrorCode.notFound, `PLC link has no station ${stationId}`, { details: { station: stationId } });
    return o;
  }
}
