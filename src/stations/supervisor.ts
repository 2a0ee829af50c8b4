import { HealthState, type ComponentHealth } from '../domain/health.js';
import type { LinesideEvents } from '../domain/events.js';
import type { TypedEmitter } from '../domain/typed-emitter.js';
import type { Metrics } from '../observability/metrics.js';
import type { PlcLink } from '../plc/plc-link.js';
import type { AlarmCenter } from './alarm-center.js';
import type { Camera } from '../sources/camera.js';
import type { ImageWarning } from '../sources/image-health.js';
import type { Station } from './station.js';

/**
 * A camera must be down this long before "camera lost" is raised: a single failed grab or a quick
 * reconnect is not a lost camera. (A stall is already `stallAfterMs` without frames before this.)
 */
const CAMERA_LOST_AFTER_MS = 2000;

export interface SupervisorDeps {
  readonly plc: Pick<PlcLink, 'health' | 'setReady'> | null;
  readonly storage: () => ComponentHealth;
  /** Why storage is running low (free space, evidence budget), or null; raises storageLow as a warning. */
  readonly storageWarning?: () => string | null;
  readonly alarms: Pick<AlarmCenter, 'raise' | 'clear'>;
  readonly metrics: Metrics;
  readonly bus: TypedEmitter<LinesideEvents>;
  /** Cameras by station id, for camera and image health metrics. */
  readonly cameras?: ReadonlyMap<string, Camera>;
}

const IMAGE_CHECKS: readonly ImageWarning[] = ['blurred', 'overexposed', 'underexposed', 'frozen', 'moved'];

export interface HealthReport {
  readonly ok: boolean;
  readonly components: Readonly<Record<string, ComponentHealth>>;
}

/**
 * Watches every component, turns lasting faults into alarms, and keeps each station's `Ready`
 * true only while its camera, model, storage and PLC link are all healthy (and, for a PLC-triggered
 * part station, a recipe is in force).
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
      if (h.recipe) components[`${s.config.id}.recipe`] = h.recipe;
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
      const { camera, model, recipe, readyHold } = s.health();
      if (camera.state === HealthState.down && now - camera.since >= CAMERA_LOST_AFTER_MS) {
        alarms.raise(id, 'cameraLost', 'critical', `camera lost: ${camera.detail ?? 'no frames'}`);
      } else if (camera.state === HealthState.ok) alarms.clear(id, 'cameraLost');
      if (model.state === HealthState.down) alarms.raise(id, 'modelUnhealthy', 'critical', `model unhealthy: ${model.detail ?? ''}`);
      else if (model.state === HealthState.ok) alarms.clear(id, 'modelUnhealthy');
      // Ready only once the camera has delivered: a trigger before that could only be answered not-inspected.
      const ready = [camera, model, ...(recipe ? [recipe] : []), ...shared].every((h) => h.state === HealthState.ok) && !readyHold;
      plc?.setReady(id, ready);
    }
    this.#cameraMetrics();
    const storage = report.components.storage!;
    const low = this.#deps.storageWarning?.() ?? null;
    if (storage.state === HealthState.down) alarms.raise('*', 'storageLow', 'critical', `storage: ${storage.detail ?? 'failing'}`);
    else if (low) alarms.raise('*', 'storageLow', 'warning', `storage low: ${low}`);
    else alarms.clear('*', 'storageLow');
  }

  #cameraMetrics(): void {
    const { metrics, cameras } = this.#deps;
    for (const [station, cam] of cameras ?? []) {
      const st = cam.stats();
      metrics.cameraFps.set({ station }, st.fps);
      metrics.cameraFrames.set({ station, count: 'received' }, st.framesReceived);
      metrics.cameraFrames.set({ station, count: 'dropped' }, st.framesDropped);
      metrics.cameraFrames.set({ station, count: 'restarts' }, st.restarts);
      const img = cam.image();
      if (!img) continue;
      for (const check of IMAGE_CHECKS) metrics.imageWarning.set({ station, check }, img.warnings.includes(check) ? 1 : 0);
      metrics.imageSharpness.set({ station }, img.sharpness);
      metrics.imageLuma.set({ station }, img.meanLuma);
    }
  }
}
