import { z } from 'zod';
import { redactUrl } from '../observability/logger.js';
import { runChildFrames } from './child-frames.js';
import { ffmpegArgs, ffmpegPath } from './ffmpeg.js';
import { streamOptions, timingOf, type SourceContext } from './source-options.js';
import { StreamSource } from './stream-source.js';

export const rtspSourceSchema = z.strictObject({
  type: z.literal('rtsp'),
  /** rtsp:// or rtsps:// URL; credentials may be in it (`rtsp://user:pass@cam/stream`); they are never shown. */
  url: z.string().regex(/^rtsps?:\/\/[^/\s]+/, 'must be an rtsp:// or rtsps:// URL'),
  /** TCP is the default: it survives the packet loss that corrupts UDP video on plant networks. */
  transport: z.enum(['tcp', 'udp']).default('tcp'),
  /** Decode every frame but hand on at most this rate (omit for the camera's own rate). */
  fps: z.number().positive().max(120).optional(),
  ...streamOptions,
});
export type RtspSourceConfig = z.output<typeof rtspSourceSchema>;

/** H.264/H.265 IP cameras: an ffmpeg child decodes the stream to raw frames on a pipe. */
export function rtspSource(cfg: RtspSourceConfig, ctx: SourceContext): StreamSource {
  const url = new URL(cfg.url);
  const secrets = [url.password, decodeURIComponent(url.password)].filter(Boolean);
  const input = [
    '-rtsp_transport',
    cfg.transport,
    // Socket I/O timeout (µs): a camera that goes silent ends the process instead of hanging it.
    '-timeout',
    String(cfg.stallAfterMs * 1000),
    // Probe half a second of stream instead of ffmpeg's default: the SDP already names the codec,
    // and this takes a second off every connect and reconnect (measured 2.2 s → 1.2 s to first frame).
    '-analyzeduration',
    '500000',
    '-probesize',
    '100000',
    '-fflags',
    'nobuffer',
    '-flags',
    'low_delay',
    '-i',
    cfg.url,
  ];
  const args = ffmpegArgs(input, { fps: cfg.fps });
  const log = ctx.logger.child({ source: 'rtsp' });
  return new StreamSource(
    'rtsp',
    `rtsp ${redactUrl(cfg.url)}`,
    (emit, signal, pool) => runChildFrames({ command: ffmpegPath(), args, secrets }, emit, signal, log, pool),
    timingOf(cfg, ctx),
    log,
  );
}
