import type { StationConfig } from '../config/schema.js';
import { HealthState, type ComponentHealth } from '../domain/health.js';

/** The VisionStateMachine's top-level states lineside drives (OPC 40100-1 §8.2). Halted is never entered: the line, not SCADA, starts and stops the appliance. */
export const VisionState = { preoperational: 'Preoperational', operational: 'Operational', error: 'Error' } as const;
export type VisionState = (typeof VisionState)[keyof typeof VisionState];

/** The AutomaticModeStateMachine's states lineside drives while Operational (§8.3). */
export const AutomaticMode = { ready: 'Ready', singleExecution: 'SingleExecution', continuousExecution: 'ContinuousExecution' } as const;
export type AutomaticMode = (typeof AutomaticMode)[keyof typeof AutomaticMode];

export interface VisionStatus {
  readonly state: VisionState;
  /** Only while Operational; otherwise the sub-state machine is not in force. */
  readonly mode: AutomaticMode | null;
  /** Why the station is not Operational, for the SystemState / log. */
  readonly detail?: string;
}

/** A PLC-triggered station with no inspection for this long is Ready (waiting for parts), not executing. */
export const IDLE_AFTER_MS = 5000;

/**
 * The station's state as OPC 40100-1 sees it, from the same health the PLC's `Ready` follows:
 * every component ok → Operational; any down or degraded → Error; otherwise (still starting) →
 * Preoperational. While Operational: a free-running station (zone, part on interval/frame) executes
 * continuously; a PLC-triggered part station executes continuously while parts arrive and is Ready
 * when the line has been idle; a cleaning station is Ready between checks, each one a single execution.
 */
export function visionStatus(config: StationConfig, health: readonly ComponentHealth[], lastInspectionAt: number | null, now: number, checking = false): VisionStatus {
  const bad = health.find((h) => h.state === HealthState.down || h.state === HealthState.degraded);
  if (bad) return { state: VisionState.error, mode: null, detail: bad.detail ?? bad.state };
  const starting = health.find((h) => h.state === HealthState.starting);
  if (starting) return { state: VisionState.preoperational, mode: null, detail: starting.detail ?? 'starting' };
  return { state: VisionState.operational, mode: automaticMode(config, lastInspectionAt, now, checking) };
}

function automaticMode(config: StationConfig, lastInspectionAt: number | null, now: number, checking: boolean): AutomaticMode {
  switch (config.kind) {
    case 'zone':
      return AutomaticMode.continuousExecution;
    case 'cleaning':
      return checking ? AutomaticMode.singleExecution : AutomaticMode.ready;
    case 'part':
      if (config.trigger !== 'plc') return AutomaticMode.continuousExecution;
      return lastInspectionAt !== null && now - lastInspectionAt < IDLE_AFTER_MS ? AutomaticMode.continuousExecution : AutomaticMode.ready;
  }
}
