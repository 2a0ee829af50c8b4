import { z } from 'zod';
import type { Logger } from '../observability/logger.js';
import type { StreamTiming } from './stream-source.js';

/** Keys every streaming camera accepts (RTSP, MJPEG, V4L2, GigE Vision, video replay). */
export const streamOptions = {
  /** No frame for this long on a running connection → camera down ("camera lost" follows), connection restarted. */
  stallAfterMs: z.number().int().min(200).max(60_000).default(3000),
  /** A new connection must deliver its first frame within this long. */
  connectTimeoutMs: z.number().int().min(500).max(120_000).default(10_000),
  /** Longest wait between reconnection attempts (backoff doubles from 250 ms up to this). */
  reconnectMaxMs: z.number().int().min(250).max(60_000).default(2000),
  /** Camera + network + decode delay, subtracted from arrival time to estimate when a frame was taken. */
  latencyMs: z.number().int().min(0).max(5000).default(0),
};

/** What a source factory gets besides its own config. */
export interface SourceContext {
  /** Frames kept for matching to triggers (1 for free-running stations). */
  readonly history: number;
  readonly logger: Logger;
}

export function timingOf(cfg: { stallAfterMs: number; connectTimeoutMs: number; reconnectMaxMs: number; latencyMs: number }, ctx: SourceContext): Partial<StreamTiming> {
  return {
    history: ctx.history,
    stallAfterMs: cfg.stallAfterMs,
    connectTimeoutMs: cfg.connectTimeoutMs,
    reconnectMaxMs: cfg.reconnectMaxMs,
    latencyMs: cfg.latencyMs,
  };
}
