import type { ComponentHealth } from './health.js';
import type { StoredInspection } from './inspection.js';
import type { AlarmEvent } from './alarm.js';

/** Everything that crosses components at run time. One typed map, no loose topics. */
export interface LinesideEvents {
  inspection: [StoredInspection];
  alarm: [AlarmEvent];
  health: [{ component: string; health: ComponentHealth }];
}
