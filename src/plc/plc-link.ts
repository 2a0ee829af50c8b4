import type { ComponentHealth } from '../domain/health.js';
import type { PlcResultCode } from '../domain/verdict.js';

/** One PLC trigger: a TriggerCount (or CleanCheckRequest) increment with the part context. */
export interface PlcTrigger {
  readonly stationId: string;
  /** Which counter fired. */
  readonly counter: 'TriggerCount' | 'CleanCheckRequest';
  /** The new counter value; the answer's ResultCount must equal it. */
  readonly count: number;
  /** PartId that was current when the counter changed. */
  readonly partId: string;
  readonly batchId: string;
  readonly recipeIndex: number;
  /** Local time the notification was received, epoch ms. */
  readonly receivedAt: number;
  /** Increments skipped since the previous notification (0 normally). Those parts were not inspected. */
  readonly missed: number;
}

/** The answer for one trigger. */
export interface PlcResult {
  readonly result: PlcResultCode;
  readonly rejectCode: number;
  readonly partIdEcho: string;
  readonly score: number;
  /** Written last: equals the trigger's count. */
  readonly resultCount: number;
}

/** The appliance's view of its PLC. Only the OPC UA adapter imports node-opcua. */
export interface PlcLink {
  /** Begins connecting in the background; resolves at once even if the PLC is unreachable. */
  start(): Promise<void>;
  stop(): Promise<void>;
  health(): ComponentHealth;
  /** Subscribe to triggers for a station; returns an unsubscribe function. */
  onTrigger(stationId: string, handler: (t: PlcTrigger) => void): () => void;
  /**
   * Called with the station's RecipeIndex when the PLC changes it (and with its value when the
   * subscription starts), before any trigger of the same notification is handled.
   */
  onRecipeIndex(stationId: string, handler: (index: number) => void): () => void;
  /** Called with true/false when the PLC's own heartbeat stops or resumes changing. */
  onPlcHeartbeat(handler: (alive: boolean) => void): () => void;
  /** Called whenever the link's health changes. */
  onHealth(handler: (h: ComponentHealth) => void): () => void;
  /**
   * Writes Result, RejectCode, PartIdEcho, Score, then (only if all were accepted) ResultCount.
   * Rejects with LINESIDE_ERR_PLC_WRITE / _NOT_CONNECTED. Resolves with the write latency in ms.
   */
  writeResult(stationId: string, result: PlcResult): Promise<number>;
  /** Latest values to keep on the PLC; written now if connected, and again after a reconnect. */
  setReady(stationId: string, ready: boolean): void;
  setAlarmWord(stationId: string, word: number): void;
  /** The recipe the station runs, echoed as RecipeIndexActive (kept like Ready: rewritten after a reconnect). */
  setRecipeIndexActive(stationId: string, index: number): void;
}
