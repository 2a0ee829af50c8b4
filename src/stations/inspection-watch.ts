import type { StoredInspection } from '../domain/inspection.js';
import { Verdict } from '../domain/verdict.js';
import type { AlarmCenter } from './alarm-center.js';

/** Consecutive not-inspected verdicts on one station before the "inspection errors" alarm. */
export const ERRORS_IN_A_ROW = 5;
/** The "missed triggers" alarm clears after this long without another missed trigger. */
export const MISSED_TRIGGER_HOLD_MS = 10_000;

/**
 * Turns patterns in the stream of inspections into alarms: a run of not-inspected parts (the
 * line is running blind), and triggers the appliance never saw (the PLC rejected those parts).
 */
export class InspectionWatch {
  readonly #alarms: Pick<AlarmCenter, 'raise' | 'clear'>;
  readonly #errorsInARow = new Map<string, number>();
  readonly #missedTimers = new Map<string, NodeJS.Timeout>();

  constructor(alarms: Pick<AlarmCenter, 'raise' | 'clear'>) {
    this.#alarms = alarms;
  }

  inspected(i: StoredInspection): void {
    if (i.verdict !== Verdict.notInspected) {
      this.#errorsInARow.set(i.stationId, 0);
      this.#alarms.clear(i.stationId, 'inspectionErrors');
      return;
    }
    const n = (this.#errorsInARow.get(i.stationId) ?? 0) + 1;
    this.#errorsInARow.set(i.stationId, n);
    if (n >= ERRORS_IN_A_ROW) {
      this.#alarms.raise(i.stationId, 'inspectionErrors', 'critical', `${n} inspections in a row not inspected; last: ${i.reason ?? 'unknown'}`);
    }
  }

  missedTriggers(stationId: string, missed: number): void {
    this.#alarms.raise(stationId, 'missedTriggers', 'warning', `${missed} trigger(s) missed: those parts were not inspected and the PLC rejects them`);
    clearTimeout(this.#missedTimers.get(stationId));
    this.#missedTimers.set(
      stationId,
      setTimeout(() => this.#alarms.clear(stationId, 'missedTriggers'), MISSED_TRIGGER_HOLD_MS).unref(),
    );
  }

  stop(): void {
    for (const t of this.#missedTimers.values()) clearTimeout(t);
    this.#missedTimers.clear();
  }
}
