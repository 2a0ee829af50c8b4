/**
 * Alarm categories and their bit in the PLC's `AlarmWord` (DESIGN.md). This module is the only
 * place the bit map is defined; the README's table is written from it.
 */
export const AlarmBit = {
  cameraLost: 0,
  modelUnhealthy: 1,
  ppeViolation: 2,
  cleaningFailed: 3,
  storageLow: 4,
  plcHeartbeatLost: 5,
  inspectionErrors: 6,
  missedTriggers: 7,
  /** The PLC selected a RecipeIndex the station has no recipe for: every part is answered not-inspected. */
  recipeUnknown: 8,
} as const;
/** A category the PLC sees as a bit of AlarmWord. */
export type PlcAlarmCategory = keyof typeof AlarmBit;

/**
 * Appliance-level categories with no PLC bit: the line keeps running, people must act (on the page,
 * in the records). A category is in exactly one of the two lists, so `alarmWord` cannot be asked
 * for a bit that does not exist.
 */
export const PAGE_ONLY_ALARMS = ['loginLockout'] as const;
export type PageOnlyAlarmCategory = (typeof PAGE_ONLY_ALARMS)[number];

export type AlarmCategory = PlcAlarmCategory | PageOnlyAlarmCategory;

export const ALARM_CATEGORIES: readonly AlarmCategory[] = [...(Object.keys(AlarmBit) as PlcAlarmCategory[]), ...PAGE_ONLY_ALARMS];

export function hasPlcBit(c: AlarmCategory): c is PlcAlarmCategory {
  return Object.hasOwn(AlarmBit, c);
}

export const AlarmSeverity = { info: 'info', warning: 'warning', critical: 'critical' } as const;
export type AlarmSeverity = (typeof AlarmSeverity)[keyof typeof AlarmSeverity];

/** The transitions of an alarm's life, in the order they usually happen (ISA-18.2). */
export const AlarmTransition = ['raised', 'acknowledged', 'shelved', 'unshelved', 'cleared'] as const;
export type AlarmTransition = (typeof AlarmTransition)[number];

/** One transition, as it goes on the bus. `alarmId` is the record's id (absent only if it could not be stored). */
export interface AlarmEvent {
  readonly alarmId?: number;
  readonly stationId: string;
  readonly category: AlarmCategory;
  readonly state: AlarmTransition;
  readonly severity: AlarmSeverity;
  readonly message: string;
  readonly at: number;
  /** Who acknowledged, shelved or unshelved (`system` for an expired shelve). */
  readonly by?: string;
  /** The acknowledgement comment or the shelving reason. */
  readonly comment?: string;
  /** Shelved until (ms). */
  readonly until?: number;
}

/** PLC bits of the active categories; categories without a bit add nothing. */
export function alarmWord(active: Iterable<AlarmCategory>): number {
  let word = 0;
  for (const c of active) if (hasPlcBit(c)) word |= 1 << AlarmBit[c];
  return word >>> 0;
}
