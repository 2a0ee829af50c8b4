import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PartStationConfig } from '../config/schema.js';
import { AlarmBit, type AlarmEvent } from '../domain/alarm.js';
import type { LinesideEvents } from '../domain/events.js';
import { HealthState, type ComponentHealth } from '../domain/health.js';
import { TypedEmitter } from '../domain/typed-emitter.js';
import { silentLogger } from '../observability/logger.js';
import { Metrics } from '../observability/metrics.js';
import { MemoryAuditLog } from '../records/testing/memory-audit.js';
import { EvidenceRetention, evidenceRetentionSchema } from '../store/evidence-retention.js';
import { Store } from '../store/store.js';
import { AlarmCenter } from './alarm-center.js';
import type { Station } from './station.js';
import { Supervisor } from './supervisor.js';

const ok: ComponentHealth = { state: HealthState.ok, since: 0 };

describe('Supervisor: storage alarms', () => {
  it('raises storageLow as a warning when free space runs low, sets AlarmWord bit 4 with Ready kept, and clears it when space is back', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'lineside-supervisor-'));
    const store = Store.open(dataDir);
    const bus = new TypedEmitter<LinesideEvents>();
    const alarmEvents: AlarmEvent[] = [];
    bus.on('alarm', (e) => alarmEvents.push(e));
    const alarms = new AlarmCenter({ repo: store.alarms, audit: new MemoryAuditLog(), bus, logger: silentLogger(), stations: ['blister'], maxShelveMs: 3_600_000 });
    const words: number[] = [];
    alarms.onWord((_s, w) => words.push(w));
    const config = { ...evidenceRetentionSchema.parse({}), minFreeBytes: Number.MAX_SAFE_INTEGER };
    const retention = new EvidenceRetention({ repo: store.retention, audit: new MemoryAuditLog(), dataDir, config, logger: silentLogger() });
    const ready: boolean[] = [];
    const station = { config: { id: 'blister' } as PartStationConfig, health: () => ({ camera: ok, model: ok }) } as unknown as Station;
    const supervisor = new Supervisor([station], {
      plc: { health: () => ok, setReady: (_s, r) => void ready.push(r) },
      storage: () => ok,
      storageWarning: () => retention.status().warning,
      alarms,
      metrics: new Metrics(),
      bus,
    });

    await retention.checkSpace();
    supervisor.check();
    expect(alarmEvents).toMatchObject([{ stationId: '*', category: 'storageLow', state: 'raised', severity: 'warning', message: expect.stringMatching(/^storage low: .* below retention.evidence.minFreeBytes/) }]);
    expect(words.at(-1)).toBe(1 << AlarmBit.storageLow);
    // Low, not failing: the station stays Ready and keeps inspecting.
    expect(ready.at(-1)).toBe(true);

    config.minFreeBytes = 0;
    await retention.checkSpace();
    supervisor.check();
    expect(alarmEvents.at(-1)).toMatchObject({ category: 'storageLow', state: 'cleared' });
    expect(words.at(-1)).toBe(0);
    store.close();
  });
});
