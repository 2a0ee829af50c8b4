import type { DataValue } from 'node-opcua';
import type { Logger } from '../../observability/logger.js';
import { PlcResultCode } from '../../domain/verdict.js';
import type { SimCounterTag } from '../tags.js';
import { SimCounters } from '../tags.js';
import type { StationNodes } from './sim-address-space.js';
import { setFromPlc, valueOf } from './sim-address-space.js';

export interface SimStationSpec {
  readonly id: string;
  readonly kind: 'part' | 'zone' | 'cleaning';
  /** Conveyor rate of a part station; 0 or absent = no triggers. */
  readonly partsPerMinute?: number;
  /** Period of cleaning-check requests of a cleaning station; 0 or absent = never. */
  readonly cleanCheckEveryMs?: number;
  /** Part stations: start on `indexes[0]` and change over to the next index every `everyMs`. */
  readonly recipeCycle?: { readonly indexes: readonly number[]; readonly everyMs: number };
}

/** A cleaning check takes several views, so its window is never shorter than this. */
export const CLEANING_MIN_WINDOW_MS = 30_000;

/** The part ID the simulated PLC gives the n-th trigger of a station, e.g. `BLISTER-000123`. */
export function simPartId(stationId: string, count: number): string {
  return `${stationId.toUpperCase()}-${String(count).padStart(6, '0')}`;
}

interface OpenPart {
  readonly partId: string;
  readonly timer: NodeJS.Timeout;
  /** performance.now() when the counter was raised. */
  readonly triggeredAt: number;
}

/** Trigger → matching ResultCount, as the simulated PLC timed it. */
/** A part the PLC accepted an answer for, as its tags read when ResultCount matched. */
export interface SimAnswer {
  readonly count: number;
  readonly partId: string;
  readonly result: number;
  readonly rejectCode: number;
}

export interface SimLatency {
  /** Answered parts timed. */
  readonly count: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/** The PLC's view of a recipe change: what it asked for and when the vision system echoed it. */
export interface SimRecipe {
  /** RecipeIndex the PLC wrote last. */
  readonly requested: number;
  /** RecipeIndexActive as the vision system last wrote it (null: never written). */
  readonly active: number | null;
  /** True from setRecipeIndex until RecipeIndexActive equals it; the conveyor holds meanwhile. */
  readonly waiting: boolean;
  /** RecipeIndex written → matching RecipeIndexActive, of the last completed change (ms). */
  readonly lastChangeMs: number | null;
}

/** Latencies kept per station; a longer run keeps the newest. */
const MAX_LATENCY_SAMPLES = 200_000;
/** ResultCount values kept per station for `resultCountsSeen`; a longer run keeps the newest. */
const MAX_SEEN_RESULTS = 1_000_000;
const MAX_ANSWERS = 10_000;

/**
 * The PLC logic of one station: a conveyor (or cleaning requests) raising a counter, an inspection
 * window per trigger, and the PLC's own tally of what came back. The window closes on the first
 * matching ResultCount; if none arrives in time the PLC rejects the part itself (TimedOut).
 */
export class SimStation {
  readonly #spec: SimStationSpec;
  readonly #nodes: StationNodes;
  readonly #windowMs: number;
  readonly #log: Logger;
  readonly #counters: Record<SimCounterTag, number>;
  readonly #open = new Map<number, OpenPart>();
  #count = 0;
  #unmatchedResults = 0;
  #latencies: number[] = [];
  #seen: number[] = [];
  #answers: SimAnswer[] = [];
  #timer: NodeJS.Timeout | undefined;
  /** When the conveyor brings its next part (performance.now()), while it runs. */
  #due: number | undefined;
  #periodMs = 0;
  #recipeTimer: NodeJS.Timeout | undefined;
  /** Source time (epoch ms) of the last trigger or recipe write: a RecipeIndex change is stamped in a later scan than the trigger before it, never earlier than one after it. */
  #lastScanAt = 0;
  readonly #interlockReady: boolean;
  #held = false;
  #recipe: { requested: number; active: number | null; requestedAt: number | null; lastChangeMs: number | null } = { requested: 1, active: null, requestedAt: null, lastChangeMs: null };
  readonly #onResultCount = (dv: DataValue): void => this.#resultCountWritten(Number(dv.value.value));
  readonly #onRecipeActive = (dv: DataValue): void => this.#recipeIndexActiveWritten(Number(dv.value.value));

  constructor(spec: SimStationSpec, nodes: StationNodes, options: { windowMs: number; batchId: string; interlockReady: boolean; logger: Logger }) {
    this.#spec = spec;
    this.#interlockReady = options.interlockReady;
    this.#nodes = nodes;
    this.#windowMs = spec.kind === 'cleaning' ? Math.max(options.windowMs, CLEANING_MIN_WINDOW_MS) : options.windowMs;
    this.#log = options.logger.child({ station: spec.id });
    this.#counters = Object.fromEntries(Object.keys(SimCounters).map((k) => [k, 0])) as Record<SimCounterTag, number>;
    const now = new Date();
    setFromPlc(nodes, 'BatchId', options.batchId, now);
    const firstRecipe = spec.recipeCycle?.indexes[0] ?? 1;
    this.#recipe.requested = firstRecipe;
    setFromPlc(nodes, 'RecipeIndex', firstRecipe, now);
  }

  start(): void {
    this.#nodes.ResultCount.on('value_changed', this.#onResultCount);
    this.#nodes.RecipeIndexActive.on('value_changed', this.#onRecipeActive);
    if (this.#spec.kind === 'part') this.setPartsPerMinute(this.#spec.partsPerMinute ?? 0);
    const cycle = this.#spec.recipeCycle;
    if (this.#spec.kind === 'part' && cycle !== undefined && cycle.indexes.length > 1) {
      let next = 0;
      this.#recipeTimer = setInterval(() => {
        next = (next + 1) % cycle.indexes.length;
        this.setRecipeIndex(cycle.indexes[next]!);
      }, cycle.everyMs);
    }
    if (this.#spec.kind === 'cleaning' && (this.#spec.cleanCheckEveryMs ?? 0) > 0) {
      this.#timer = setInterval(() => this.#trigger('CleanCheckRequest'), this.#spec.cleanCheckEveryMs);
    }
  }

  stop(): void {
    this.#nodes.ResultCount.off('value_changed', this.#onResultCount);
    this.#nodes.RecipeIndexActive.off('value_changed', this.#onRecipeActive);
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#due = undefined;
    clearInterval(this.#recipeTimer);
    this.#recipeTimer = undefined;
    for (const part of this.#open.values()) clearTimeout(part.timer);
    this.#open.clear();
  }

  /** Changes the conveyor rate of a part station; 0 stops the conveyor. */
  setPartsPerMinute(partsPerMinute: number): void {
    if (this.#spec.kind !== 'part') throw new Error(`station ${this.#spec.id} is a ${this.#spec.kind} station, not a part station`);
    clearTimeout(this.#timer);
    this.#timer = undefined;
    // Parts the conveyor owed when its rate changed: the process was that far behind the line.
    const owed = this.#due === undefined ? 0 : Math.max(0, Math.floor((performance.now() - this.#due) / this.#periodMs) + 1);
    this.#due = undefined;
    if (partsPerMinute > 0) this.#conveyor(60_000 / partsPerMinute);
    this.#log.info({ partsPerMinute, owed }, 'sim conveyor rate set');
  }

  /**
   * One part every periodMs by the wall clock, as a conveyor brings them. A timer that fires late (the
   * process was busy) is followed at once by the parts that came meanwhile, each in its own turn of the
   * event loop; an interval timer would instead drift and quietly run the line slower than asked.
   */
  #conveyor(periodMs: number): void {
    this.#periodMs = periodMs;
    this.#due = performance.now() + periodMs;
    const tick = (): void => {
      const due = this.#due!;
      if (performance.now() >= due) {
        this.#trigger('TriggerCount');
        this.#due = due + periodMs;
      }
      this.#timer = setTimeout(tick, Math.max(0, this.#due! - performance.now()));
    };
    this.#timer = setTimeout(tick, periodMs);
  }

  /**
   * A product changeover, as a PLC program does it: write RecipeIndex, hold the conveyor until the
   * vision system echoes it in RecipeIndexActive, then resume.
   */
  setRecipeIndex(index: number): void {
    if (!Number.isInteger(index) || index < -32768 || index > 32767) throw new Error(`recipe index ${index} does not fit RecipeIndex (Int16)`);
    this.#recipe = { ...this.#recipe, requested: index, requestedAt: this.#recipe.active === index ? null : performance.now() };
    // A later PLC scan than the last trigger, so its timestamp orders the two.
    const at = new Date(Math.max(Date.now(), this.#lastScanAt + 1));
    this.#lastScanAt = at.getTime();
    setFromPlc(this.#nodes, 'RecipeIndex', index, at);
    this.#log.info({ recipeIndex: index, waiting: this.#recipe.requestedAt !== null }, 'sim RecipeIndex written');
  }

  recipe(): SimRecipe {
    const r = this.#recipe;
    return { requested: r.requested, active: r.active, waiting: r.requestedAt !== null, lastChangeMs: r.lastChangeMs };
  }

  heartbeat(value: number, at: Date): void {
    setFromPlc(this.#nodes, 'PlcHeartbeat', value, at);
  }

  counters(): Record<SimCounterTag, number> {
    return { ...this.#counters };
  }

  /** Trigger-to-ResultCount latency of the parts answered in their window since the start or the last reset. */
  latency(): SimLatency {
    const sorted = Float64Array.from(this.#latencies).sort();
    const at = (p: number): number => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!);
    return { count: sorted.length, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: sorted.length === 0 ? 0 : sorted[sorted.length - 1]! };
  }

  /** Every ResultCount value written to this station, matched or not, oldest first. */
  resultCountsSeen(): readonly number[] {
    return [...this.#seen];
  }

  /** The last answers the PLC accepted (up to MAX_ANSWERS), oldest first. */
  answers(): readonly SimAnswer[] {
    return [...this.#answers];
  }

  resetLatency(): void {
    this.#latencies = [];
  }

  ready(): boolean {
    return valueOf(this.#nodes, 'Ready') === true;
  }

  #trigger(counter: 'TriggerCount' | 'CleanCheckRequest'): void {
    // A real line does not feed parts to a vision system that is not Ready: the conveyor holds.
    // Nor during a changeover before the vision system has the new recipe.
    const notReady = this.#interlockReady && valueOf(this.#nodes, 'Ready') !== true;
    const held = notReady || this.#recipe.requestedAt !== null;
    if (held !== this.#held) {
      this.#held = held;
      const why = notReady ? 'vision system not Ready' : `waiting for RecipeIndexActive = ${this.#recipe.requested}`;
      this.#log.info({ held }, held ? `sim conveyor held: ${why}` : 'sim conveyor running');
    }
    if (held) return;
    this.#count = (this.#count + 1) >>> 0;
    const count = this.#count;
    const partId = simPartId(this.#spec.id, count);
    // Same source timestamp on both, PartId first: what a PLC does in one scan cycle, and what
    // lets a client pair the counter with the PartId that belongs to it.
    const at = new Date(Math.max(Date.now(), this.#lastScanAt));
    this.#lastScanAt = at.getTime();
    setFromPlc(this.#nodes, 'PartId', partId, at);
    setFromPlc(this.#nodes, counter, count, at);
    const timer = setTimeout(() => this.#windowExpired(count), this.#windowMs);
    this.#open.set(count, { partId, timer, triggeredAt: performance.now() });
    this.#bump('PartsTriggered');
  }

  #recipeIndexActiveWritten(active: number): void {
    const r = this.#recipe;
    if (r.requestedAt !== null && active === r.requested) {
      const changeMs = performance.now() - r.requestedAt;
      this.#recipe = { ...r, active, requestedAt: null, lastChangeMs: changeMs };
      this.#log.info({ recipeIndex: active, changeMs }, 'sim recipe change echoed by the vision system');
      return;
    }
    this.#recipe = { ...r, active };
  }

  #windowExpired(count: number): void {
    const part = this.#open.get(count);
    if (part === undefined) return;
    this.#open.delete(count);
    this.#bump('TimedOut');
    this.#log.debug({ count, partId: part.partId, windowMs: this.#windowMs }, 'sim inspection window expired');
  }

  #resultCountWritten(count: number): void {
    if (this.#seen.length >= MAX_SEEN_RESULTS) this.#seen.splice(0, MAX_SEEN_RESULTS / 10);
    this.#seen.push(count);
    const part = this.#open.get(count);
    if (part === undefined) {
      // Late (after its window) or unknown: the PLC ignores it; kept out of ResultsReceived.
      this.#unmatchedResults += 1;
      this.#log.debug({ count, unmatchedResults: this.#unmatchedResults }, 'sim ResultCount matches no open part');
      return;
    }
    clearTimeout(part.timer);
    this.#open.delete(count);
    if (this.#latencies.length >= MAX_LATENCY_SAMPLES) this.#latencies.splice(0, MAX_LATENCY_SAMPLES / 10);
    this.#latencies.push(performance.now() - part.triggeredAt);
    this.#bump('ResultsReceived');
    const result = Number(valueOf(this.#nodes, 'Result'));
    if (this.#answers.length >= MAX_ANSWERS) this.#answers.splice(0, MAX_ANSWERS / 10);
    this.#answers.push({ count, partId: part.partId, result, rejectCode: Number(valueOf(this.#nodes, 'RejectCode')) });
    this.#bump(result === PlcResultCode.pass ? 'Passed' : 'Rejected');
    const echo = valueOf(this.#nodes, 'PartIdEcho');
    if (echo !== part.partId) {
      this.#bump('Mismatched');
      this.#log.debug({ count, partId: part.partId, partIdEcho: echo }, 'sim PartIdEcho does not match the part');
    }
  }

  #bump(counter: SimCounterTag): void {
    this.#counters[counter] = (this.#counters[counter] + 1) >>> 0;
    setFromPlc(this.#nodes, counter, this.#counters[counter], new Date());
  }
}
