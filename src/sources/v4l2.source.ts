import { z } from 'zod';
import { runChildFrames } from './child-frames.js';
import { ffmpegArgs, ffmpegPath } from './ffmpeg.js';
import { streamOptions, timingOf, type SourceContext } from './source-options.js';
import { StreamSource } from './stream-source.js';

export const v4l2SourceSchema = z.strictObject({
  type: z.literal('v4l2'),
  /** Video device, e.g. /dev/video0 or a stable /dev/v4l/by-id/… path. */
  device: z.string().regex(/^\/dev\/\S+$/, 'must be a device path such as /dev/video0'),
  /** Camera output format (`v4l2-ctl --list-formats-ext`); mjpeg gives full frame rates over USB 2. */
  inputFormat: z.enum(['mjpeg', 'yuyv422', 'h264', 'nv12', 'gray']).optional(),
  width: z.number().int().min(16).max(8192).optional(),
  height: z.number().int().min(16).max(8192).optional(),
  /** Frame rate asked of the camera. */
  fps: z.number().positive().max(240).optional(),
  ...streamOptions,
});
export type V4l2SourceConfig = z.output<typeof v4l2SourceSchema>;

/** The ffmpeg input arguments for a V4L2 device (exported for the commissioning tool and tests). */
export function v4l2Input(cfg: V4l2SourceConfig): string[] {
  return [
    '-f',
    'v4l2',
    ...(cfg.inputFormat ? ['-input_format', cfg.inputFormat] : []),
    ...(cfg.width && cfg.height ? ['-video_size', `${cfg.width}x${cfg.height}`] : []),
    ...(cfg.fps ? ['-framerate', String(cfg.fps)] : []),
    '-i',
    cfg.device,
  ];
}

/** USB/V4L2 cameras through ffmpeg's v4l2 input. */
export function v4l2Source(cfg: V4l2SourceConfig, ctx: SourceContext): StreamSource {
  const args = ffmpegArgs(v4l2Input(cfg));
  const log = ctx.logger.child({ source: 'v4l2' });
  return new StreamSource(
    'v4l2',
    `v4l2 ${cfg.device}`,
    (emit, signal, pool) => runChildFrames({ command: ffmpegPath(), args, secrets: [] }, emit, signal, log, pool),
    timingOf(cfg, ctx),
    log,
  );
}
