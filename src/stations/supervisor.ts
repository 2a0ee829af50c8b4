import { HealthState, type ComponentHealth } from '../domain/health.js';
import type { LinesideEvents } from '../domain/events.js';
import type { TypedEmitter } from '../domain/typed-emitter.js';
import type { Metrics } from '../observability/metrics.js';
import type { PlcLink } from '../plc/plc-link.js';
import type { AlarmCenter } from './alarm-center.js';
import type { Station } from './station.js';

/** A camera must be down this long before "camera lost" is raised (a single failed grab is not a stall). */
const CAMERA_LOST_AFTER_MS = 3000;

export interface SupervisorDeps {
  readonly plc: Pick<PlcLink, 'health' | 'setReady'> | null;
  readonly storage: () => ComponentHealth;
  readonly alarms: Pick<AlarmCenter, 'raise' | 'clear'>;
  readonly metrics: Metrics;
  readonly bus: TypedEmitter<LinesideEvents>;
}

export interface HealthReport {
  readonly ok: boolean;
  readonly components: Readonly<Record<string, ComponentHealth>>;
}

/**
 * Watches every component, turns lasting faults into alarms, and keeps each station's `Ready`
 * true only while its camera, model, storage and PLC link are all healthy.
 */
export class Supervisor {
  readonly #stations: readonly Station[];
  readonly #deps: SupervisorDeps;
  #timer: NodeJS.Timeout | null = null;
  readonly #last = new Map<string, string>();

  constructor(stations: readonly Station[], deps: SupervisorDeps) {
    this.#stations = stations;
    this.#deps = deps;
  }

  start(periodMs = 500): void {
    this.check();
    this.#timer = setInterval(() => this.check(), periodMs);
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  report(): HealthReport {
    const components: Record<string, ComponentHealth> = { storage: this.#deps.storage() };
    if (this.#deps.plc) components.plc = this.#deps.plc.health();
    for (const s of this.#stations) {
      const h = s.health();
      components[`${s.config.id}.camera`] = h.camera;
      components[`${s.config.id}.model`] = h.model;
    }
    return { ok: Object.values(components).every((c) => c.state === HealthState.ok), components };
  }

  /** One pass: alarms, Ready, metrics, health events. Runs on a timer; public for tests. */
  check(): void {
    const now = Date.now();
    const { alarms, plc, metrics } = this.#deps;
    const report = this.report();
    for (const [name, h] of Object.entries(report.components)) {
      metrics.componentUp.set({ component: name }, h.state === HealthState.ok ? 1 : 0);
      const key = `${h.state}|${h.detail ?? ''}`;
      if (this.#last.get(name) !== key) {
        this.#last.set(name, key);
        this.#deps.bus.emit('health', { component: name, health: h });
      }
    }
    const shared = [report.components.storage!, ...(plc ? [report.components.plc!] : [])];
    for (const s of this.#stations) {
      const id = s.config.id;
      const { camera, model } = s.health();
      if (camera.state === HealthState.down && now - camera.since >= CAMERA_LOST_AFTER_MS) {
        alarms.raise(id, 'cameraLost', 'critical', `camera lost: ${camera.detail ?? 'no frames'}`);
      } else if (camera.state === HealthState.ok) alarms.clear(id, 'cameraLost');
      if (model.state === HealthState.down) alarms.raise(id, 'modelUnhealthy', 'critical', `model unhealthy: ${model.detail ?? ''}`);
      else if (model.state === HealthState.ok) alarms.clear(id, 'modelUnhealthy');
      // A camera that has not delivered yet (snapshot cameras grab on the first trigger) is not a fault.
      const cameraFine = camera.state === HealthState.ok || camera.state === HealthState.starting;
      const ready = cameraFine && [model, ...shared].every((h) => h.state === HealthState.ok);
      plc?.setReady(id, ready);
    }
    const storage = report.components.storage!;
    if (storage.state === HealthState.down) alarms.raise('*', 'storageLow', 'critical', `storage: ${storage.detail ?? 'failing'}`);
    else alarms.clear('*', 'storageLow');
  }
}
