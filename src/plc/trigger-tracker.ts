import type { PlcTrigger } from './plc-link.js';

/** How many recent PartIds are kept to pair a counter change with its part. */
export const PART_ID_HISTORY = 64;

/** How many recent RecipeIndex values are kept to pair a counter change with its recipe. */
const RECIPE_HISTORY = 8;

/** What a counter notification meant. */
export type CounterOutcome =
  | { readonly kind: 'trigger'; readonly trigger: PlcTrigger }
  | { readonly kind: 'baseline'; readonly count: number; readonly previous: number | undefined }
  | { readonly kind: 'reset'; readonly count: number; readonly previous: number }
  | { readonly kind: 'repeat'; readonly count: number };

/**
 * The PLC→vision side of one station, without OPC UA: remembers recent PartIds with their source
 * timestamps and turns counter values into triggers. A fast conveyor may already show the next
 * PartId by the time a counter notification is handled, so the part is the latest PartId whose
 * source timestamp is not after the counter's.
 */
export class StationTriggerTracker {
  readonly #stationId: string;
  readonly #counter: PlcTrigger['counter'];
  readonly #partIds: Array<{ readonly value: string; readonly at: number }> = [];
  #batchId = '';
  /** Recent RecipeIndex values with their source timestamps, oldest first. */
  readonly #recipeIndexes: Array<{ readonly value: number; readonly at: number }> = [];
  #count: number | undefined;
  /** The count seen before a rebaseline, kept only to report how far the PLC moved meanwhile. */
  #countBeforeBaseline: number | undefined;

  constructor(stationId: string, counter: PlcTrigger['counter']) {
    this.#stationId = stationId;
    this.#counter = counter;
  }

  partId(value: string, sourceTime: number): void {
    this.#partIds.push({ value, at: sourceTime });
    if (this.#partIds.length > PART_ID_HISTORY) this.#partIds.shift();
  }

  batchId(value: string): void {
    this.#batchId = value;
  }

  recipeIndex(value: number, sourceTime = 0): void {
    this.#recipeIndexes.push({ value, at: sourceTime });
    if (this.#recipeIndexes.length > RECIPE_HISTORY) this.#recipeIndexes.shift();
  }

  /** The next counter value is a baseline (after a (re)subscription), not a trigger. */
  rebaseline(): void {
    if (this.#count !== undefined) this.#countBeforeBaseline = this.#count;
    this.#count = undefined;
  }

  counter(value: number, sourceTime: number, receivedAt: number): CounterOutcome {
    const previous = this.#count;
    this.#count = value;
    if (previous === undefined) {
      const before = this.#countBeforeBaseline;
      this.#countBeforeBaseline = undefined;
      return { kind: 'baseline', count: value, previous: before };
    }
    // UInt32 arithmetic: a wrap from 4294967295 to 0 is one step; a large "step" is a counter that
    // went backwards (PLC restarted or reset it), which starts a new baseline.
    const step = (value - previous) >>> 0;
    if (step === 0) return { kind: 'repeat', count: value };
    if (step > 0x7fffffff) return { kind: 'reset', count: value, previous };
    return {
      kind: 'trigger',
      trigger: {
        stationId: this.#stationId,
        counter: this.#counter,
        count: value,
        partId: this.#partIdAt(sourceTime),
        batchId: this.#batchId,
        recipeIndex: this.#recipeIndexAt(sourceTime),
        receivedAt,
        missed: step - 1,
      },
    };
  }

  /**
   * The RecipeIndex in force when the PLC raised the counter. A part raised just before a change can
   * reach us in the same notification as the new RecipeIndex (counters are handled last); its own
   * source timestamp says it belongs to the old recipe. The same timestamp counts as the new one.
   */
  #recipeIndexAt(sourceTime: number): number {
    for (let i = this.#recipeIndexes.length - 1; i >= 0; i--) {
      const entry = this.#recipeIndexes[i];
      if (entry !== undefined && entry.at <= sourceTime) return entry.value;
    }
    return this.#recipeIndexes[0]?.value ?? 0;
  }

  #partIdAt(sourceTime: number): string {
    for (let i = this.#partIds.length - 1; i >= 0; i--) {
      const entry = this.#partIds[i];
      if (entry !== undefined && entry.at <= sourceTime) return entry.value;
    }
    // Every known PartId is stamped after the counter (clock skew on the PLC): the newest is the
    // best remaining guess; the PartIdEcho lets the PLC catch a wrong one.
    return this.#partIds.at(-1)?.value ?? '';
  }
}
