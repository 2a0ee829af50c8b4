import type { ComponentHealth } from '../domain/health.js';
import type { Frame } from '../domain/frame.js';

/** One camera. Each kind is one adapter file behind this interface. */
export interface FrameSource {
  /** For logs and the page; never contains credentials. */
  readonly description: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The next frame: a fresh still (snapshot), the next file (replay). */
  grab(signal?: AbortSignal): Promise<Frame>;
  health(): ComponentHealth;
}
