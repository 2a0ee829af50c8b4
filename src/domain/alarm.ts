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
export type AlarmCategory = keyof typeof AlarmBit;

export const ALARM_CATEGORIES = Object.keys(AlarmBit) as AlarmCategory[];

export const AlarmSeverity = { info: 'info', warning: 'warning', critical: 'critical' } as const;
export type AlarmSeverity = (typeof AlarmSeverity)[keyof typeof AlarmSeverity];

export interface AlarmEvent {
  readonly stationId: string;
  readonly category: AlarmCategory;
  readonly state: 'raised' | 'cleared';
  readonly severity: AlarmSeverity;
  readonly message: string;
  readonly at: number;
}

export function alarmWord(active: Iterable<AlarmCategory>): number {
  let word = 0;
  for (const c of active) word |= 1 << AlarmBit[c];
  return word >>> 0;
}
