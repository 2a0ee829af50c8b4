import { describe, expect, it } from 'vitest';
import { configSchema, type StationConfig } from '../config/schema.js';
import { HealthState, type ComponentHealth } from '../domain/health.js';
import { IDLE_AFTER_MS, visionStatus } from './vision-state.js';

const station = (over: Record<string, unknown>): StationConfig => configSchema.shape.stations.element.parse({ id: 's', model: 'm', source: { type: 'replay', path: '/x' }, ...over });
const h = (state: HealthState, detail?: string): ComponentHealth => ({ state, detail, since: 0 });
const part = station({ kind: 'part', trigger: 'plc' });

describe('VisionStateMachine from station health', () => {
  it('is Error when any component is down, Preoperational while one is starting, else Operational', () => {
    expect(visionStatus(part, [h('ok'), h('down', 'camera lost')], null, 0)).toEqual({ state: 'Error', mode: null, detail: 'camera lost' });
    expect(visionStatus(part, [h('starting'), h('degraded', 'storage low')], null, 0).state).toBe('Error');
    expect(visionStatus(part, [h('ok'), h('starting')], null, 0).state).toBe('Preoperational');
    expect(visionStatus(part, [h('ok'), h('ok')], null, 0).state).toBe('Operational');
  });

  it('runs a PLC-triggered station continuously while parts arrive and Ready when the line is idle', () => {
    expect(visionStatus(part, [h('ok')], 1_000, 1_000 + IDLE_AFTER_MS - 1).mode).toBe('ContinuousExecution');
    expect(visionStatus(part, [h('ok')], 1_000, 1_000 + IDLE_AFTER_MS).mode).toBe('Ready');
    expect(visionStatus(part, [h('ok')], null, 0).mode).toBe('Ready');
  });

  it('runs zone stations continuously and cleaning stations one check at a time', () => {
    expect(visionStatus(station({ kind: 'zone' }), [h('ok')], null, 0).mode).toBe('ContinuousExecution');
    expect(visionStatus(station({ kind: 'cleaning' }), [h('ok')], null, 0).mode).toBe('Ready');
    expect(visionStatus(station({ kind: 'cleaning' }), [h('ok')], null, 0, true).mode).toBe('SingleExecution');
  });
});
