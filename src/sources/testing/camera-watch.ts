import type { PartStationConfig } from '../../config/schema.js';
import type { LinesideEvents } from '../../domain/events.js';
import { HealthState } from '../../domain/health.js';
import { TypedEmitter } from '../../domain/typed-emitter.js';
import { silentLogger } from '../../observability/logger.js';
import { Metrics } from '../../observability/metrics.js';
import { MemoryAuditLog } from '../../records/testing/memory-audit.js';
import { AlarmCenter } from '../../stations/alarm-center.js';
import { AlarmRepository } from '../../store/alarm.repository.js';
import { openDatabase } from '../../store/db.js';
import type { Station } from '../../stations/station.js';
import { Supervisor } from '../../stations/supervisor.js';
import type { FrameSource } from '../frame-source.js';

/**
 * The appliance's own Supervisor and AlarmCenter around one bare camera source, so a camera test can
 * show what the line sees: "camera lost" raised and cleared, the AlarmWord bit, and Ready.
 */
export function watchCamera(source: FrameSource, stationId = 'cam') {
  const words: number[] = [];
  const ready: boolean[] = [];
  const alarms = new AlarmCenter({
    repo: new AlarmRepository(openDatabase(':memory:')),
    audit: new MemoryAuditLog(),
    bus: new TypedEmitter<LinesideEvents>(),
    logger: silentLogger(),
    stations: [stationId],
    maxShelveMs: 3_600_000,
  });
  alarms.onWord((_s, w) => words.push(w));
  const station = {
    config: { id: stationId } as PartStationConfig,
    health: () => ({ camera: source.health(), model: { state: HealthState.ok, since: 0 } }),
  } as unknown as Station;
  const supervisor = new Supervisor([station], {
    plc: { health: () => ({ state: HealthState.ok, since: 0 }), setReady: (_s, r) => void ready.push(r) },
    storage: () => ({ state: HealthState.ok, since: 0 }),
    alarms,
    metrics: new Metrics(),
    bus: new TypedEmitter<LinesideEvents>(),
  });
  supervisor.start(100);
  return {
    cameraLost: () => alarms.isActive(stationId, 'cameraLost'),
    /** The AlarmWord the PLC last received (bit 0 = camera lost). */
    word: () => words.at(-1) ?? 0,
    ready: () => ready.at(-1) ?? false,
    stop: () => supervisor.stop(),
  };
}
