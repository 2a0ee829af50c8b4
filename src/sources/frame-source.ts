import type { ComponentHealth } from '../domain/health.js';
import type { Frame } from '../domain/frame.js';

/** The camera kinds lineside reads; one adapter file each. */
export type SourceKind = 'rtsp' | 'mjpeg' | 'snapshot' | 'v4l2' | 'folder' | 'replay' | 'genicam';

export interface GrabOptions {
  /**
   * Only a frame captured at or after this time (epoch ms) will do: a triggered station passes
   * the trigger time and gets the first frame taken after it. Without it: the newest frame not
   * yet handed out.
   */
  readonly after?: number;
  /** How long to wait for such a frame before giving up with LINESIDE_ERR_SOURCE_UNAVAILABLE. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export interface SourceStats {
  /** Frames received from the camera since start. */
  readonly framesReceived: number;
  /**
   * Frames received but never handed to inspection. For free-running stations this measures how
   * far inspection lags the camera; for triggered stations it is normal (only the frame after each
   * trigger is used).
   */
  readonly framesDropped: number;
  /** Times frames flowed again on a new connection after a failure or stall. */
  readonly restarts: number;
  /** Frame rate over the last few seconds, frames/s (0 when nothing arrives). */
  readonly fps: number;
  readonly lastFrameAt: number | null;
  readonly width: number | null;
  readonly height: number | null;
}

/** One camera. Each kind is one adapter file behind this interface. */
export interface FrameSource {
  readonly kind: SourceKind;
  /** For logs and the page; never contains credentials. */
  readonly description: string;
  /**
   * Starts acquisition. A camera that cannot be reached is not an error here: the source keeps
   * retrying and reports it through `health()`. Throws only for configuration that can never work.
   */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** A frame: the first after `after`, the newest, a fresh still (snapshot), the next file (folder, replay). */
  grab(opts?: GrabOptions): Promise<Frame>;
  /** Told once the frame's inspection is recorded (folder sources move or mark the file then). */
  release?(frame: Frame): Promise<void>;
  health(): ComponentHealth;
  stats(): SourceStats;
}
