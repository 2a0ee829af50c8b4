import type { StationConfig } from '../config/schema.js';
import type { ComponentHealth } from '../domain/health.js';
import type { StoredInspection } from '../domain/inspection.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { PlcLink } from '../plc/plc-link.js';
import type { AuditLog } from '../records/audit.js';
import type { FrameSource } from '../sources/frame-source.js';
import type { Inspector } from '../vision/inspector.js';
import type { Camera } from '../sources/camera.js';
import type { FaceDetector } from './face-blur.js';
import type { AlarmCenter } from './alarm-center.js';
import type { RecipeSource } from './recipe-switch.js';
import type { Recorder } from './recorder.js';

/** What every station is wired with: narrow slices, not the whole application. */
export interface StationDeps {
  readonly source: FrameSource;
  /** The station's model, or its two-stage pipeline. */
  readonly model: Inspector;
  readonly recorder: Pick<Recorder, 'commit'>;
  readonly alarms: Pick<AlarmCenter, 'raise' | 'clear'>;
  readonly plc: Pick<PlcLink, 'onTrigger' | 'onRecipeIndex' | 'setRecipeIndexActive'> | null;
  /** A PLC-triggered part station's recipes by RecipeIndex; absent: its own config serves every index. */
  readonly recipes?: RecipeSource;
  /** Where recipe changes are audited. */
  readonly audit?: Pick<AuditLog, 'append'>;
  /** Told when the PLC counter jumped: those parts were never inspected. */
  readonly onMissedTriggers?: (missed: number) => void;
  /** Zone stations with privacy.faceModel: the face detector whose boxes are blurred. */
  readonly faces?: FaceDetector | null;
  /** Zone stations: where each frame goes for the page's live view once its faces are blurred. */
  readonly live?: Pick<Camera, 'showLive' | 'liveWatched'>;
  readonly metrics: Metrics;
  readonly logger: Logger;
}

export interface StationHealth {
  readonly camera: ComponentHealth;
  readonly model: ComponentHealth;
  /** PLC-triggered part stations: down while no recipe is in force (changing, unknown index). */
  readonly recipe?: ComponentHealth;
  /** Cleaning stations with holdReadyUntilPass: why Ready is held after a failed check. */
  readonly readyHold?: string;
}

/** One station = trigger + source + model + rules + sinks, wired. */
export interface Station {
  readonly config: StationConfig;
  start(): Promise<void>;
  /** Stops triggers, then waits for inspections in flight to be recorded and answered. */
  stop(): Promise<void>;
  health(): StationHealth;
  /** On-demand verification (cleaning stations); other kinds refuse. */
  /** A cleaning verification asked for from the page, of one piece of equipment (recorded as the part ID). */
  requestCheck(by: string, equipmentId: string, batchId?: string): Promise<StoredInspection | null>;
}

/** Inspections per second of a free-running station: its own `fps`, else its source's, else 2. */
export function stationFps(config: StationConfig): number {
  if (config.fps !== undefined) return config.fps;
  const src = config.source as { fps?: number };
  return src.fps ?? 2;
}

/** How long a free-running station waits for a frame: two periods, at least one second. */
export function freeRunTimeoutMs(config: StationConfig): number {
  return Math.max(1000, 2000 / stationFps(config));
}

/** Runs `fn` every `periodMs` without overlap until stopped. */
export class Ticker {
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(
    private readonly periodMs: number,
    private readonly fn: () => Promise<void>,
  ) {}

  start(): void {
    this.#stopped = false;
    this.#schedule(0);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#running;
  }

  #schedule(delay: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      const t0 = performance.now();
      this.#running = this.fn().finally(() => this.#schedule(Math.max(0, this.periodMs - (performance.now() - t0))));
    }, delay);
  }
}
